"""Emission models of the emerging species (trajectoire.inventory.emerging) and the per-row
units of area totals."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trajectoire.errors import InputError, UnitsError
from trajectoire.inventory import emerging as em
from trajectoire.inventory.readers import read_area_totals

F = em.load_emerging_factors()
YEARS = st.integers(1950, 2060)
ACTIVITY = st.one_of(st.just(0.0), st.floats(1e-6, 1e9))  # no subnormal numbers
SCALE = st.one_of(st.just(0.0), st.floats(1e-6, 1e3))


# --------------------------------------------------------------------------- fleet
@settings(max_examples=30, deadline=None)
@given(YEARS)
def test_class_and_euro_shares_sum_to_one(year: int) -> None:
    assert em.class_shares(year).sum(axis=1).iloc[0] == pytest.approx(1.0, abs=1e-12)
    for c in em.VEHICLE_CLASSES:
        shares = em.euro_shares(year, c).iloc[0]
        assert shares.sum() == pytest.approx(1.0, abs=1e-12)
        assert (shares >= 0).all()
    total = em.fleet_composition(year)["share"].sum()
    assert total == pytest.approx(1.0, abs=1e-12)


def test_euro_shares_against_plain_loop() -> None:
    """Vintage weights R(v) S(a) m(a) summed by standard, computed independently."""
    c, year = "hgv", 2012
    surv = F["fleet"]["survival"]
    life, shape, decay = surv["life"][c], surv["shape"][c], surv["mileage_decay"][c]
    tab = F["fleet"]["class_shares"]
    dates = F["fleet"]["euro"][c]
    sums: dict[str, float] = {}
    for age in range(surv["max_age"] + 1):
        v = year - age
        reg = float(np.interp(v, tab["years"], tab[c]))
        w = reg * math.exp(-((age / life) ** shape)) * math.exp(-decay * age)
        std = "pre"
        for s in ("euro1", "euro2", "euro3", "euro4", "euro5", "euro6"):
            if v >= dates[s]:
                std = s
        sums[std] = sums.get(std, 0.0) + w
    total = sum(sums.values())
    got = em.euro_shares(year, c).iloc[0]
    for s, w in sums.items():
        assert got[s] == pytest.approx(w / total, rel=1e-12)
    assert got["euro6d"] == 0.0


def test_fleet_change_since_1990() -> None:
    """1990: every vehicle pre-Euro; 2023: no pre-Euro left, diesel cars mostly filtered."""
    assert em.euro_shares(1990, "pc_diesel").iloc[0]["pre"] == pytest.approx(1.0, abs=1e-12)
    d23 = em.euro_shares(2023, "pc_diesel").iloc[0]
    assert d23["pre"] < 1e-3
    assert d23[["euro5", "euro6", "euro6d"]].sum() > 0.7
    ef = em.ufp_road_factors([1990, 2023])
    assert (ef.loc[2023] < ef.loc[1990] / 5).all()


def test_unknown_class() -> None:
    with pytest.raises(InputError, match=r"vehicle class 'tram'.*expected one of"):
        em.euro_shares(2000, "tram")


# --------------------------------------------------------------------------- UFP
def test_ufp_road_against_hand_computation() -> None:
    year = 2015
    cs = em.class_shares(year).iloc[0]
    groups = F["fleet"]["groups"]
    num = {"light": 0.0, "heavy": 0.0}
    den = {"light": 0.0, "heavy": 0.0}
    for c in em.VEHICLE_CLASSES:
        es = em.euro_shares(year, c).iloc[0]
        ef_c = sum(es[s] * F["ufp"]["road"][c].get(s, 0.0) for s in em.EURO_STANDARDS)
        num[groups[c]] += cs[c] * ef_c
        den[groups[c]] += cs[c]
    vl, vh = 3.0e8, 2.0e7
    expected = vl * num["light"] / den["light"] + vh * num["heavy"] / den["heavy"]
    assert float(em.ufp_road_emissions(vl, vh, year)) == pytest.approx(expected, rel=1e-12)


@settings(max_examples=25, deadline=None)
@given(ACTIVITY, ACTIVITY, SCALE, st.integers(1990, 2030))
def test_road_models_linear_in_activity(vl: float, vh: float, k: float, year: int) -> None:
    base = em.ufp_road_emissions(vl, vh, year)
    assert em.ufp_road_emissions(k * vl, k * vh, year) == pytest.approx(k * base, rel=1e-12)
    split = em.ufp_road_emissions(vl, 0.0, year) + em.ufp_road_emissions(0.0, vh, year)
    assert split == pytest.approx(base, rel=1e-12)
    wear = em.tyre_road_wear(vl, vh, year)
    wear_k = em.tyre_road_wear(k * vl, k * vh, year)
    for sp in ("TRWP", "TRWP_coarse"):
        assert wear_k[sp] == pytest.approx(k * wear[sp], rel=1e-12, abs=1e-300)


def test_airport_and_wood() -> None:
    assert float(em.ufp_airport_emissions(1000.0)) == pytest.approx(1000 * 5e18)
    assert float(em.ufp_airport_emissions(10.0, per_lto=2.0)) == 20.0
    ref = float(em.ufp_wood_emissions(100.0, 2018))
    assert ref == pytest.approx(100.0 * 5e16)
    # 1990: factor index 1.60 against 1.00 in 2018
    assert float(em.ufp_wood_emissions(100.0, 1990)) == pytest.approx(1.6 * ref)


def test_numbers_never_mix_with_masses() -> None:
    assert float(em.ufp_airport_emissions(1.0, units="s-1")) == pytest.approx(5e18 / 31557600.0)
    with pytest.raises(UnitsError, match="never mix"):
        em.ufp_road_emissions(1.0, 1.0, 2018, units="t yr-1")
    with pytest.raises(UnitsError, match="never mix"):
        em.ufp_wood_emissions(1.0, 2018, units="kg yr-1")
    with pytest.raises(UnitsError, match="never mix"):
        em.tyre_road_wear(1.0, 1.0, 2018, units="yr-1")
    with pytest.raises(UnitsError, match="never mix"):
        em.pesticide_emissions(1.0, "S-metolachlor", units="s-1")
    kg = em.tyre_road_wear(1e6, 0.0, 2018, units="kg yr-1")["TRWP"]
    assert kg == pytest.approx(1000.0 * em.tyre_road_wear(1e6, 0.0, 2018)["TRWP"])


def test_bad_activity() -> None:
    with pytest.raises(InputError, match=r"vkm_heavy holds 1 negative.*-5.0"):
        em.ufp_road_emissions([1.0, 2.0], [3.0, -5.0], 2018)
    with pytest.raises(InputError, match=r"lto holds 1 negative or non-finite"):
        em.ufp_airport_emissions(np.nan)


# --------------------------------------------------------------------------- tyre and road wear
def test_trwp_split_conserves_tsp_and_matches_guidebook() -> None:
    """Heavy vehicles in 2018, no speed correction: hand computation from the tables."""
    cs = em.class_shares(2018).iloc[0]
    t, r = F["trwp"]["tyre"], F["trwp"]["road"]
    w = {c: cs[c] for c in ("hgv", "bus")}
    tsp = sum(w[c] * (t[c] + r[c]) for c in w) / sum(w.values())
    air = sum(w[c] * (0.6 * t[c] + 0.5 * r[c]) for c in w) / sum(w.values())
    out = em.tyre_road_wear(0.0, 1e6, 2018)
    assert out["TRWP"] == pytest.approx(air * 1e6 / 1e6, rel=1e-12)
    assert out["TRWP"] + out["TRWP_coarse"] == pytest.approx(tsp, rel=1e-12)


@settings(max_examples=25, deadline=None)
@given(st.floats(0.0, 150.0), st.integers(1990, 2030))
def test_trwp_size_split_conserves_total(speed: float, year: int) -> None:
    f = em.trwp_factors(year, speed=speed).iloc[0]
    s = float(em.tyre_speed_correction(speed))
    cs = em.class_shares(year).iloc[0]
    t, r = F["trwp"]["tyre"], F["trwp"]["road"]
    tsp = sum(cs[c] * (s * t[c] + r[c]) for c in em.VEHICLE_CLASSES)
    assert f[("TRWP", "all")] + f[("TRWP_coarse", "all")] == pytest.approx(tsp, rel=1e-12)
    assert 0 < f[("TRWP", "all")] < tsp


def test_tyre_speed_correction() -> None:
    got = em.tyre_speed_correction([10.0, 39.9, 40.0, 65.0, 90.0, 130.0])
    expected = [1.39, 1.39, -0.00974 * 40 + 1.78, -0.00974 * 65 + 1.78, -0.00974 * 90 + 1.78, 0.902]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


# --------------------------------------------------------------------------- pesticides
def test_pesticide_hand_computation_and_use_index() -> None:
    # 1000 ha x 8 % treated x 1.25 kg/ha x 10 % volatilised = 10 kg
    assert float(em.pesticide_emissions(1000.0, "S-metolachlor")) == pytest.approx(0.010)
    assert float(em.pesticide_emissions(1000.0, "S-metolachlor", units="kg yr-1")) == (
        pytest.approx(10.0)
    )
    # 1990 use index 0.45 of 2018; nothing after the EU withdrawal
    assert float(em.pesticide_emissions(1000.0, "S-metolachlor", year=1990)) == pytest.approx(
        0.0045
    )
    assert float(em.pesticide_emissions(1000.0, "S-metolachlor", year=2026)) == 0.0
    with pytest.raises(InputError, match=r"use index is 0 in the reference year 2026"):
        em.pesticide_emissions(1.0, "S-metolachlor", year=2018, reference_year=2026)
    with pytest.raises(InputError, match=r"no factors for active substance 'glyphosate'"):
        em.pesticide_emissions(1.0, "glyphosate")
    with pytest.raises(InputError, match=r"volatilised_fraction=1.5; expected a value in"):
        em.pesticide_emissions(1.0, "S-metolachlor", volatilised_fraction=1.5)


@settings(max_examples=30, deadline=None)
@given(st.lists(ACTIVITY, min_size=1, max_size=5), SCALE)
def test_pesticide_linear_and_monthly_split_conserves(areas: list[float], k: float) -> None:
    e = em.pesticide_emissions(areas, "S-metolachlor")
    np.testing.assert_allclose(
        em.pesticide_emissions(np.multiply(areas, k), "S-metolachlor"), k * e, rtol=1e-12
    )
    months = em.monthly_split(e, "L_AgriOther", "S-metolachlor")
    assert months.shape == (len(areas), 12)
    np.testing.assert_allclose(months.sum(axis=-1), e, rtol=1e-12, atol=0)
    # the application calendar: 70 % in April-May, nothing in winter
    np.testing.assert_allclose(months[:, 3:5].sum(axis=-1), 0.7 * e, rtol=1e-12)
    assert (months[:, [0, 1, 9, 10, 11]] == 0).all()


# --------------------------------------------------------------------------- PFAS
def test_pfoa_phase_out_index() -> None:
    idx = em.pfoa_phase_out_index(range(1990, 2031))
    assert idx[0] == 1.0 and idx[2010 - 1990] == pytest.approx(0.05)
    assert np.all(np.diff(idx) <= 0)
    assert idx[2018 - 1990] == pytest.approx(0.01 + (0.002 - 0.01) * 3 / 5)


def test_point_source_series() -> None:
    years = np.arange(2000, 2021)
    idx = em.pfoa_phase_out_index(years)
    e = em.point_source_series(0.5, years, anchor_year=2010, index=idx, end_year=2016)
    assert e[years == 2010][0] == 0.5
    assert e[years == 2000][0] == pytest.approx(0.5 / 0.05)
    assert (e[years > 2016] == 0).all()
    with pytest.raises(InputError, match="index 0.0 in the anchor year"):
        em.point_source_series(1.0, [2000, 2001], anchor_year=2001, index=[1.0, 0.0])


# --------------------------------------------------------------------------- factors file
def test_bad_factors_file(tmp_path) -> None:
    from importlib import resources

    text = resources.files("trajectoire.data").joinpath("emerging_factors.toml").read_text()
    path = tmp_path / "f.toml"
    path.write_text(text.replace("pc_petrol   = [0.510,", "pc_petrol   = [0.610,"))
    with pytest.raises(
        InputError, match=r"f.toml, \[fleet.class_shares\] sum over classes in 1990: 1.1"
    ):
        em.load_emerging_factors(path)
    path.write_text(text.replace("tyre_pm10 = 0.6", "tyre_pm10 = 1.2"))
    with pytest.raises(InputError, match=r"\[trwp.size\] tyre_pm10: 1.2; expected a fraction"):
        em.load_emerging_factors(path)
    path.write_text(text.replace("euro2 = 1997, euro3 = 2001", "euro2 = 2003, euro3 = 2001", 1))
    with pytest.raises(InputError, match=r"\[fleet.euro\] pc_petrol.*increasing years"):
        em.load_emerging_factors(path)
    assert em.load_emerging_factors() is F


# --------------------------------------------------------------------------- area totals units
def _totals(units: list[object] | None) -> pd.DataFrame:
    t = pd.DataFrame(
        {
            "zone_id": ["z1", "z1", "z2"],
            "sector": ["F", "F", "C"],
            "pollutant": ["NOx", "UFP", "PM10"],
            "emission": [2.0, 3e20, 5.0],
        }
    )
    if units is not None:
        t["units"] = units
    return t


def test_area_totals_units_column() -> None:
    out = read_area_totals(_totals(["kg yr-1", "s-1", None]))
    np.testing.assert_allclose(out["emission"], [0.002, 3e20 * 31557600.0, 5.0], rtol=1e-12)
    # rows without a cell take the units= keyword
    out = read_area_totals(_totals(["t yr-1", "yr-1", ""]), units="kg yr-1")
    np.testing.assert_allclose(out["emission"], [2.0, 3e20, 0.005], rtol=1e-12)


def test_area_totals_units_mixing_is_an_error(tmp_path) -> None:
    path = tmp_path / "area.csv"
    _totals(["t yr-1", "t yr-1", "t yr-1"]).to_csv(path, index=False)
    with pytest.raises(
        UnitsError,
        match=r"area.csv, line 3, column 'units' = 't yr-1' for pollutant 'UFP'.*never mix.*"
        r"correct the 'units' cell",
    ):
        read_area_totals(path)
    _totals(None).to_csv(path, index=False)
    with pytest.raises(
        UnitsError,
        match=r"area.csv, units of 'emission' for pollutant 'UFP' \(line 3\).*"
        r"set units=",  # called from Python: the reader's keyword (a run names its key)
    ):
        read_area_totals(path)
    _totals(["t yr-1", "yr-1", "furlongs"]).to_csv(path, index=False)
    with pytest.raises(UnitsError, match=r"line 4, column 'units' = 'furlongs'"):
        read_area_totals(path)


def test_pesticide_emissions_takes_one_year_at_a_time():
    with pytest.raises(InputError, match="expected one year"):
        em.pesticide_emissions(100.0, "S-metolachlor", year=np.array([2018, 2019]))


@pytest.mark.parametrize(
    ("call", "said"),
    [
        (lambda: em.ufp_road_emissions(1e6, 1e5, [1990, 2023]), "ufp_road_emissions: year="),
        (lambda: em.ufp_wood_emissions(1000.0, [1990, 2023]), "ufp_wood_emissions: year="),
        (lambda: em.tyre_road_wear(1e6, 1e5, [1990, 2023]), "tyre_road_wear: year="),
        (
            lambda: em.tyre_road_wear(1e6, 1e5, 2018, speed=[50, 100]),
            "tyre_road_wear: speed=[50, 100]; expected one mean speed [km h-1]",
        ),
        (lambda: em.trwp_factors(2018, speed=np.array([50.0])), "trwp_factors: speed="),
    ],
)
def test_road_emissions_take_one_year_and_one_speed(call, said):
    """A list of years gave the first year's emission silently; a list of speeds ended on a
    bare TypeError. One value each, as pesticide_emissions already asked."""
    with pytest.raises(InputError) as info:
        call()
    assert said in str(info.value) and len(str(info.value).splitlines()) == 1
