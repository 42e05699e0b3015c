"""NOx to NO2 conversion and the NO2 attribution rule."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from trajectoire import InputError
from trajectoire.attribution import ReceptorSums
from trajectoire.chemistry import NO2_CONVERSIONS, fit_nox_no2, no2_attribution, nox_to_no2
from trajectoire.dispersion.chemistry import (
    FNO2_DEFAULT,
    fno2_shares,
    no2_increment_ratio,
    no2_with_primary,
    sector_no2_ratio,
)


@pytest.mark.parametrize("method", sorted(NO2_CONVERSIONS))
def test_conversion_is_monotonic_and_below_nox(method):
    x = np.linspace(0, 1000, 2001)
    y = nox_to_no2(x, method)
    assert y[0] == 0
    assert np.all(np.diff(y) > 0)
    assert np.all(y[1:] <= x[1:])


def test_romberg_closed_form_value():
    # A NOx/(NOx+B) + C NOx with (103, 130, 0.005) at 100 ug/m3
    assert nox_to_no2(100.0) == pytest.approx(103 * 100 / 230 + 0.5, rel=1e-15)


def test_bad_method_and_negative_input():
    with pytest.raises(InputError, match="unknown"):
        nox_to_no2(1.0, "nope")
    with pytest.raises(InputError, match=">= 0"):
        nox_to_no2(-1.0)


parts = arrays(float, (4, 5), elements=st.floats(0, 200))


@given(parts, st.floats(0, 60), st.floats(0, 1))
def test_no2_parts_add_up_exactly(p, bg_nox, bg_ratio):
    bg_no2 = bg_ratio * bg_nox  # NO2 is part of NOx: its background is not larger
    total, no2 = no2_attribution(bg_nox, bg_no2, p, axis=0)
    np.testing.assert_allclose(no2.sum(axis=0) + bg_no2, total, rtol=1e-12, atol=1e-12)
    assert np.all(no2 >= -1e-12)
    expected = bg_no2 + nox_to_no2(bg_nox + p.sum(0)) - nox_to_no2(bg_nox)
    np.testing.assert_allclose(total, expected, rtol=1e-12, atol=1e-12)


def test_fit_recovers_coefficients():
    x = np.linspace(5, 300, 40)
    y = nox_to_no2(x, "baechlin2008")
    a, b, c = fit_nox_no2(x, y)
    np.testing.assert_allclose(nox_to_no2(x, (a, b, c)), y, rtol=1e-4)


def test_no_background_and_fft_round_off_do_not_crash():
    """Issue 13: with no background, local NOx of -1e-9 (FFT round-off) is 0, not an error."""
    import pytest

    from trajectoire.dispersion.chemistry import no2_attribution
    from trajectoire.errors import InputError

    local = np.array([[50.0, 1e-3], [-1e-9, 0.0]])
    total, parts = no2_attribution(0.0, 0.0, local[None], axis=0)
    assert total[1, 0] == 0.0 and np.all(np.isfinite(total))
    np.testing.assert_allclose(parts.sum(axis=0), total, atol=1e-12)
    with pytest.raises(InputError, match=">= 0"):
        no2_attribution(0.0, 0.0, np.array([[50.0, -1.0]])[None], axis=0)


# ---------------------------------------------------------------- f-NO2 (issue 14)
by_sector = arrays(float, (3, 4, 5), elements=st.floats(0, 300))
share = st.floats(0, 1)


def _fno2_parts(nox_s, f, bg_nox, bg_no2, curve="romberg1996"):
    """Total NO2 and each sector's NO2 from sector NOx maps and f-NO2 shares."""
    f = np.asarray(f, dtype=float)
    local = nox_s.sum(axis=0)
    primary = (f[:, None, None] * nox_s).sum(axis=0)
    total, r = no2_with_primary(bg_nox, bg_no2, local, primary, method=curve)
    return total, sector_no2_ratio(f, r) * nox_s


def test_default_fno2_of_road_traffic_rises_from_the_1990s_to_the_2010s():
    road = [fno2_shares(["F_RoadTransport"], y)[0] for y in (1990, 1995, 2005, 2010, 2015)]
    assert road[0] == road[1] == 0.05
    assert road[1] < road[2] < road[3]
    assert 0.15 <= road[4] <= 0.25
    assert set(FNO2_DEFAULT) >= {"A_PublicPower", "F_RoadTransport", "M_Other"}
    # linear between the years given, constant beyond them
    table = {"F_RoadTransport": {2000: 0.1, 2010: 0.3}}
    got = fno2_shares(["F_RoadTransport", "B_Industry"], 2004, table)
    np.testing.assert_allclose(got, [0.18, 0.05])
    assert fno2_shares(["F_RoadTransport"], 1980, table)[0] == 0.1
    assert fno2_shares(["F_RoadTransport"], 2030, table)[0] == 0.3
    with pytest.raises(InputError, match="'Z_Nothing'"):
        fno2_shares(["Z_Nothing"], 2000)


@pytest.mark.parametrize("curve", sorted(NO2_CONVERSIONS))
@given(p=by_sector, bg_nox=st.floats(0, 60))
def test_fno2_zero_is_the_curve_alone_exactly(curve, p, bg_nox):
    local = p.sum(axis=0)
    bg_no2 = 0.6 * bg_nox
    old_total, old_ratio = no2_increment_ratio(bg_nox, bg_no2, local, method=curve)
    for primary in (None, np.zeros_like(local)):
        total, ratio = no2_with_primary(bg_nox, bg_no2, local, primary, method=curve)
        np.testing.assert_array_equal(total, old_total)
        np.testing.assert_array_equal(ratio, old_ratio)
    np.testing.assert_array_equal(sector_no2_ratio(np.zeros(3), old_ratio)[1], old_ratio)


@given(p=by_sector, f=st.lists(share, min_size=3, max_size=3), bg_nox=st.floats(0, 60))
def test_fno2_parts_add_up_to_the_total(p, f, bg_nox):
    bg_no2 = 0.5 * bg_nox
    total, parts = _fno2_parts(p, f, bg_nox, bg_no2)
    np.testing.assert_allclose(parts.sum(axis=0) + bg_no2, total, rtol=1e-12, atol=1e-9)
    assert np.all(parts >= -1e-9)


@pytest.mark.parametrize("curve", sorted(NO2_CONVERSIONS))
@given(
    p=by_sector,
    f=st.lists(share, min_size=3, max_size=3),
    bg_nox=st.floats(0, 60),
    bg_ratio=st.floats(0, 1),
    k=st.integers(0, 2),
    more=st.floats(0.01, 100),
)
def test_fno2_no2_below_nox_and_monotone(curve, p, f, bg_nox, bg_ratio, k, more):
    bg_no2 = bg_ratio * bg_nox
    total, _ = _fno2_parts(p, f, bg_nox, bg_no2, curve)
    nox = bg_nox + p.sum(axis=0)
    assert np.all(total <= nox * (1 + 1e-12) + 1e-9)  # NO2 <= NOx (NO2-equivalent mass)
    assert np.all(total >= bg_no2 - 1e-9)
    bigger = p.copy()
    bigger[k] += more  # more NOx from one sector, everywhere
    total2, _ = _fno2_parts(bigger, f, bg_nox, bg_no2, curve)
    assert np.all(total2 >= total - 1e-9)


def test_no2_over_nox_of_a_traffic_cell_follows_the_direct_share():
    """A cell dominated by road traffic, 1995 vs 2015 (sample-like values: NOx background 35
    then 20, NO2 background 25 then 15, local traffic NOx 80 then 45 ug m-3): the NO2/NOx
    ratio rises more than the curve alone makes it rise as NOx falls."""
    sectors = ["F_RoadTransport", "C_OtherStationaryComb"]
    ratios = {}
    for method in ("curve", "fno2"):
        for year, bg, bg2, road in ((1995, 35.0, 25.0, 80.0), (2015, 20.0, 15.0, 45.0)):
            nox_s = np.array([[[road]], [[0.05 * road]]])
            f = fno2_shares(sectors, year) if method == "fno2" else np.zeros(2)
            total, _ = _fno2_parts(nox_s, f, bg, bg2)
            ratios[method, year] = float(total[0, 0] / (bg + nox_s.sum()))
    assert ratios["fno2", 2015] > ratios["fno2", 1995]
    rise_fno2 = ratios["fno2", 2015] - ratios["fno2", 1995]
    rise_curve = ratios["curve", 2015] - ratios["curve", 1995]
    assert rise_fno2 > rise_curve + 0.03


def test_set_derived_keeps_primary_no2_with_its_sector():
    rng = np.random.default_rng(3)
    sums = ReceptorSums.zeros(2, 2, 3, 2, 2)
    for agg in (sums.territory, sums.exposure, sums.station):
        agg[..., 0] = rng.uniform(0, 10, agg.shape[:-1])
    given_sums = rng.uniform(0, 5, (2, 2, 3, 2))
    ratio = rng.uniform(0.2, 0.6, (3, 3))
    plain = ReceptorSums(*(a.copy() for a in (sums.territory, sums.exposure, sums.station)))
    plain.set_derived(1, given_sums, 0, ratio, [0, 2], [1, 2])
    zero = ReceptorSums(*(a.copy() for a in (sums.territory, sums.exposure, sums.station)))
    zero.set_derived(1, given_sums, 0, ratio, [0, 2], [1, 2], np.zeros(3))
    for a, b in zip(
        (plain.territory, plain.exposure, plain.station),
        (zero.territory, zero.exposure, zero.station),
        strict=True,
    ):
        np.testing.assert_array_equal(a, b)
    f = np.array([0.2, 0.0, 1.0])
    sums.set_derived(1, given_sums, 0, ratio, [0, 2], [1, 2], f)
    np.testing.assert_allclose(sums.territory[:, 2, :, 1], sums.territory[:, 2, :, 0])
    np.testing.assert_allclose(sums.territory[:, 1, :, 1], given_sums[0][:, 1])
    expected = 0.2 * sums.exposure[:, 0, :, 0] + 0.8 * given_sums[1][:, 0]
    np.testing.assert_allclose(sums.exposure[:, 0, :, 1], expected)
    np.testing.assert_allclose(
        sums.station[1, 0, :, 1], sums.station[1, 0, :, 0] * (0.2 + 0.8 * ratio[2, 2])
    )
