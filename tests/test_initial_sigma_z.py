"""Initial vertical spread per sector (issue 14, roads): config, settings, kernel classes."""

from __future__ import annotations

import numpy as np
import pytest

from test_concentration import SETTINGS, emission_field, met_table
from trajectoire import InputError
from trajectoire.concentration import DispersionSettings, YearDispersion
from trajectoire.config import DispersionConfig
from trajectoire.dispersion import annual_kernel
from trajectoire.dispersion import concentration as conc_mod
from trajectoire.errors import ConfigError

ROADS = {"F_RoadTransport": 1.5}


def _with(**kw: object) -> DispersionSettings:
    base = {
        "radius": SETTINGS.radius,
        "release_height": dict(SETTINGS.release_height),
    }
    return DispersionSettings(**{**base, **kw})  # type: ignore[arg-type]


def test_zero_initial_sigma_z_is_bit_identical_to_no_setting():
    """sigma_z0 = 0 (given or not) gives today's kernels and maps, bit for bit."""
    g, e = emission_field()
    met = met_table().sel(year=2018)
    sectors = [str(s) for s in e["sector"].values]
    zero = _with(initial_sigma_z={"F_RoadTransport": 0.0})
    assert zero.classes(sectors) == [(h, 0.0) for h in SETTINGS.heights(sectors)]
    today = YearDispersion(g, met, SETTINGS, SETTINGS.heights(sectors))
    new = YearDispersion(g, met, zero, zero.classes(sectors))
    planes = e.sel(year=2018, pollutant="NOx").values
    np.testing.assert_array_equal(new.by_sector(planes, sectors), today.by_sector(planes, sectors))
    np.testing.assert_array_equal(new.total(planes, sectors), today.total(planes, sectors))
    # the kernel is annual_kernel's without the argument (as before issue 14)
    k = annual_kernel(
        met,
        resolution=g.resolution,
        radius=SETTINGS.radius,
        release_height=1.0,
        sigma="briggs-urban",
    )
    np.testing.assert_array_equal(new.kernels[(1.0, 0.0)], k.values)
    np.testing.assert_array_equal(new.kernels[1.0], k.values)  # a bare height is sigma_z0 0
    assert 1.0 in new.kernels and (1.0, 1.5) not in new.kernels


def test_initial_sigma_z_lowers_the_near_field_and_converges_far():
    """A ground-level source with sigma_z0 = 1.5 m: lower concentration near the source (the
    closer, the lower), and within 1 % of the sigma_z0 = 0 kernel beyond 5 km."""
    met = met_table().sel(year=2018)
    kw = dict(resolution=100.0, radius=8000.0, release_height=1.0, sigma="briggs-urban")
    k0 = annual_kernel(met, **kw).values
    k1 = annual_kernel(met, initial_sigma_z=1.5, **kw).values
    m = k0.shape[0] // 2
    iy, ix = np.indices(k0.shape)
    r = np.hypot(iy - m, ix - m) * 100.0
    inside = k0 > 0
    ratio = np.where(inside, k1 / np.where(inside, k0, 1.0), 1.0)
    assert np.all(ratio[inside] <= 1.0 + 1e-12)
    assert ratio[m, m] < 0.95  # the source cell: a clear roadside drop
    # the drop fades with distance: mean ratio on rings grows towards 1
    rings = [
        ratio[inside & (abs(r - d) < 50.0)].mean() for d in (0.0, 200.0, 500.0, 1000.0, 3000.0)
    ]
    assert all(a < b for a, b in zip(rings, rings[1:], strict=False)), rings
    far = inside & (r > 5000.0)
    assert far.any()
    assert np.max(np.abs(ratio[far] - 1.0)) < 0.01


def test_kernels_are_shared_by_sectors_of_one_class(monkeypatch):
    g, _ = emission_field()
    met = met_table().sel(year=2018)
    s = _with(
        release_height={"F_RoadTransport": 1.0, "I_OffRoad": 1.0, "K_AgriLivestock": 1.0},
        initial_sigma_z={"F_RoadTransport": 1.5, "I_OffRoad": 1.5},
    )
    sectors = ["F_RoadTransport", "I_OffRoad", "K_AgriLivestock"]
    assert s.classes(sectors) == [(1.0, 0.0), (1.0, 1.5)]
    assert s.class_of("I_OffRoad") == (1.0, 1.5) and s.initial_sigma_z_of("A_PublicPower") == 0.0
    calls = []
    real = conc_mod.annual_kernels

    def counting(sets, **kw):
        calls.extend((one["release_height"], one["initial_sigma_z"]) for one in sets)
        return real(sets, **kw)

    monkeypatch.setattr(conc_mod, "annual_kernels", counting)
    disp = YearDispersion(g, met, s, s.classes(sectors))
    assert calls == [(1.0, 0.0), (1.0, 1.5)]
    assert list(disp.kernels) == [(1.0, 0.0), (1.0, 1.5)]
    rng = np.random.default_rng(5)
    planes = rng.random((3, *g.shape))
    by = disp.by_sector(planes, sectors)
    np.testing.assert_array_equal(by[0], disp.convolve(planes[0], (1.0, 1.5)))
    np.testing.assert_array_equal(by[2], disp.convolve(planes[2], 1.0))
    assert not np.array_equal(by[0], disp.convolve(planes[0], 1.0))
    np.testing.assert_allclose(disp.total(planes, sectors), by.sum(axis=0), rtol=1e-12)
    a = disp.adjoints(rng.random((4, 5)), s.classes(sectors))
    assert a.shape == (2, 4, 5)


def test_settings_from_config_and_validation():
    cfg = DispersionConfig(initial_sigma_z=ROADS)
    s = DispersionSettings.from_config(cfg)
    assert s.initial_sigma_z_of("F_RoadTransport") == 1.5
    assert s.class_of("F_RoadTransport") == (1.0, 1.5)
    assert s.class_of("B_Industry") == (15.0, 0.0)
    assert DispersionSettings.from_config(DispersionConfig()).initial_sigma_z == {}
    with pytest.raises(InputError, match="initial_sigma_z"):
        DispersionSettings(initial_sigma_z={"F_RoadTransport": -1.0})
    with pytest.raises(InputError, match="initial_sigma_z"):
        DispersionSettings(initial_sigma_z={"F_RoadTransport": float("nan")})


@pytest.mark.parametrize(
    ("value", "pattern"),
    [
        ({"F_RoadTransport": -0.5}, "expected 0 <= sigma_z0"),
        ({"F_RoadTransport": float("nan")}, "expected 0 <= sigma_z0"),
        ({"F_RoadTransport": 1e3}, "expected 0 <= sigma_z0"),
        ({"Z_Nothing": 1.5}, "Z_Nothing"),
    ],
)
def test_config_rejects_bad_initial_sigma_z(value, pattern):
    with pytest.raises((ValueError, ConfigError), match=pattern):
        DispersionConfig(initial_sigma_z=value)


def test_config_file_initial_sigma_z(tmp_path):
    from fake_pipeline import write_config
    from trajectoire.config import load_config

    good = write_config(tmp_path, extra="[dispersion]\ninitial_sigma_z = { F_RoadTransport = 2 }\n")
    assert load_config(good).dispersion.initial_sigma_z == {"F_RoadTransport": 2.0}
    bad = write_config(tmp_path, extra="[dispersion]\ninitial_sigma_z = { F_RoadTransport = -1 }\n")
    with pytest.raises(ConfigError, match=r"initial_sigma_z.*expected 0 <= sigma_z0"):
        load_config(bad)
