"""The species registry, unit families and temporal profiles (issue 15)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st

import trajectoire.species as sp
from trajectoire import dispersion as disp
from trajectoire.errors import ConfigError, InputError, UnitsError
from trajectoire.inventory import readers
from trajectoire.inventory.temporal import (
    default_temporal_profiles,
    hourly_emissions,
    hourly_factors,
    load_temporal_profiles,
)
from trajectoire.sectors import GNFR
from trajectoire.units import convert, normalise_units

SRC = Path(sp.__file__).parent


# ------------------------------------------------------------------ the registry
def test_stable_names_still_work():
    assert sp.normalise_pollutant("pm2_5") == "PM2.5"
    assert sp.normalise_pollutant("SOx") == "SO2"
    assert sp.REGULATED == ("NOx", "NO2", "PM10", "PM2.5", "SO2", "NH3", "NMVOC")
    for old in ("PFAS", "pesticides", "microplastics", "UFP"):
        assert old in sp.POLLUTANTS
    assert sp.get_pollutant("covnm").id == "NMVOC"
    assert sp.POLLUTANTS["SO2"].decay_rate == pytest.approx(np.log(2) / 14400.0)
    assert sp.Species is sp.Pollutant


def test_builtin_table_is_the_data_file_and_complete():
    data = tomllib.loads((SRC / "data" / "species.toml").read_text("utf-8"))
    assert list(data["species"]) == list(sp.POLLUTANTS)
    for s in sp.POLLUTANTS.values():
        assert s.unit_family in ("mass", "number")
        for fld in ("molar_mass", "deposition_velocity", "half_life"):
            if getattr(s, fld) is not None:
                assert fld in s.references, (s.id, fld)  # every number is cited
        assert s.thresholds == () or "thresholds" in s.references
        for t in s.thresholds:
            assert t.source and t.label and t.averaging in ("year", "day", "hour")
    emerging = {"UFP", "PFOA", "S-metolachlor", "TRWP"}
    assert emerging <= {s.id for s in sp.POLLUTANTS.values() if s.emerging}
    ufp = sp.POLLUTANTS["UFP"]
    assert (ufp.unit_family, ufp.emission_units, ufp.concentration_units) == (
        "number",
        "yr-1",
        "cm-3",
    )
    assert ufp.half_life and ufp.deposition_velocity
    assert sp.POLLUTANTS["NO2"].conversion == "no2" and sp.POLLUTANTS["NO2"].precursor == "NOx"
    assert sp.POLLUTANTS["PFOA"].half_life is None  # no loss over the domain
    assert sp.normalise_pollutant("s_metolachlor") == "S-metolachlor"


def test_thresholds_agree_with_the_exposure_and_scenario_tables():
    from trajectoire.assess.exposure import EU_2008_LIMITS, EU_2030_LIMITS, WHO_2021_GUIDELINES
    from trajectoire.scenario import DEFAULT_THRESHOLDS

    assert sp.thresholds_table("WHO2021") == WHO_2021_GUIDELINES
    assert sp.thresholds_table("EU2008") == EU_2008_LIMITS
    # one definition: the registry's (SO2's 2030 calendar-year limit was missing from the
    # exposure and scenario tables, written a second time by hand)
    assert sp.thresholds_table("EU2030") == EU_2030_LIMITS == DEFAULT_THRESHOLDS
    assert EU_2030_LIMITS["SO2"] == 20.0


def test_registry_round_trip(tmp_path):
    reg = sp.builtin_species()
    path = sp.write_species(reg.values(), tmp_path / "all.toml")
    back = sp.read_species(path, base={})
    assert back == list(reg.values())
    assert sp.SpeciesRegistry(back).to_toml() == reg.to_toml()


def test_user_extension_and_override(tmp_path):
    p = tmp_path / "my_species.toml"
    p.write_text(
        '[species.PFOS]\nname = "perfluorooctanesulfonic acid"\nunit_family = "mass"\n'
        'molar_mass = 500.13\naliases = ["perfluorooctane_sulfonate"]\n'
        "[species.pm10]\ndeposition_velocity = 0.006\n"
        '[species.pm10.references]\ndeposition_velocity = "local study"\n'
    )
    reg = sp.load_species(p)
    assert reg["PFOS"].emission_units == "t yr-1" and reg["PFOS"].deposition_velocity is None
    assert reg["PM10"].deposition_velocity == 0.006
    assert reg["PM10"].thresholds == sp.POLLUTANTS["PM10"].thresholds  # the rest is kept
    assert sp.POLLUTANTS["PM10"].deposition_velocity == 0.004  # built-in untouched
    with pytest.raises(InputError, match="unknown pollutant"):
        sp.normalise_pollutant("PFOS")
    with sp.use_species(reg):
        assert sp.normalise_pollutant("perfluorooctane_sulfonate") == "PFOS"
        assert "PFOS" in sp.known_species()
    assert "PFOS" not in sp.known_species()


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('[species.X]\nname = "x"\nunit_family = "mass"\ncolor = 1\n', "unknown field 'color'"),
        (
            '[species.X]\nname = "x"\nunit_family = "number"\nemission_units = "t yr-1"\n',
            "is a mass unit but the species' unit_family is 'number'",
        ),
        ('[species.X]\nname = "x"\nunit_family = "mass"\ndeposition_velocity = -0.1\n', "v_d"),
        ('[species.X]\nname = "x"\n', "without 'unit_family'"),
        ('[species.X]\nname = "x"\nunit_family = "volume"\n', "'mass' or 'number'"),
        ("[species.NOx]\nhalf_life = 0\n", "half_life = 0"),
        ('[species.NOx]\nconversion = "o3"\n', "conversion"),
        (
            '[species.UFP]\n[[species.UFP.thresholds]]\nvalue = 5.0\nunits = "ug m-3"\n'
            'averaging = "year"\nlabel = "x"\nsource = "y"\n',
            "particle numbers and masses never mix",
        ),
        (
            '[species.NOx]\n[[species.NOx.thresholds]]\nvalue = 5.0\nunits = "ug m-3"\n'
            'averaging = "year"\nlabel = "x"\n',
            "missing 'source'",
        ),
        ('[species.X]\nname = "x"\nunit_family = "number"\nmolar_mass = 3.0\n', "molar_mass"),
    ],
)
def test_bad_species_file_one_line_per_mistake(tmp_path, text, match):
    p = tmp_path / "bad.toml"
    p.write_text(text)
    with pytest.raises(InputError, match=match) as info:
        sp.load_species(p)
    assert str(p) in str(info.value)


def test_every_mistake_is_listed(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text(
        '[species.X]\nname = "x"\nunit_family = "number"\nemission_units = "kg/yr"\n'
        "deposition_velocity = 2.0\ncolour = 1\n"
    )
    with pytest.raises(InputError, match=r"\(2 more mistakes\)") as info:
        sp.load_species(p)
    assert len(str(info.value).splitlines()) == 4


def test_config_species_file_extends_the_run(tmp_path):
    from trajectoire.io.config import load_config

    (tmp_path / "t.gpkg").write_bytes(b"")
    (tmp_path / "my.toml").write_text(
        '[species.PFOS]\nname = "PFOS"\nunit_family = "mass"\ndeposition_velocity = 0.001\n'
    )
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        "[run]\nfirst_year = 2000\nlast_year = 2001\nreference_year = 2001\n"
        'pollutants = ["NOx", "pfos"]\n[inputs]\nterritories = "t.gpkg"\n'
        '[species]\nfile = "my.toml"\n[dispersion]\ndeposition_velocity = { pfos = 0.002 }\n'
    )
    c = load_config(cfg)
    assert c.run.pollutants == ["NOx", "PFOS"]
    assert c.dispersion.deposition_velocity == {"PFOS": 0.002}
    assert "PFOS" in c.species.registry()
    cfg.write_text(cfg.read_text().replace("my.toml", "missing.toml"))
    with pytest.raises(ConfigError, match=r"\[species\] file: file not found"):
        load_config(cfg)


def test_deposition_asked_for_a_species_without_velocity():
    from types import SimpleNamespace

    from trajectoire.dispersion.concentration import DispersionSettings

    base = dict(radius=5000.0, sigma="briggs-urban", receptor_height=1.5, release_height={})
    on = SimpleNamespace(**base, dry_deposition=True, deposition_velocity={})
    with pytest.raises(
        InputError, match=r"'NMVOC' has no deposition velocity.*deposition_velocity"
    ):
        DispersionSettings.from_config(on, pollutants=["NOx", "NMVOC"])
    s = DispersionSettings.from_config(on, pollutants=["NOx", "NO2", "UFP"])
    assert s.deposition_velocity["UFP"] == 0.002
    given_ = SimpleNamespace(**base, dry_deposition=True, deposition_velocity={"NMVOC": 0.0})
    # an explicit 0 in the configuration leaves its deposition out, without an error
    assert DispersionSettings.from_config(given_, pollutants=["NMVOC"]).removal("NMVOC") == (
        0.0,
        0.0,
    )


# ------------------------------------------------------------------ unit families
def test_numbers_never_mix_with_masses():
    with pytest.raises(UnitsError, match=r"'cm-3'.*'ug m-3'.*never mix"):
        convert(1.0, "cm-3", "ug m-3", "concentration")
    with pytest.raises(UnitsError, match=r"'yr-1'.*'t yr-1'.*never mix"):
        convert(1.0, "yr-1", "t yr-1", "emission_rate")
    with pytest.raises(UnitsError, match="particle number concentration"):
        normalise_units("#/cm3", "concentration")
    assert convert(1.0, "s-1", "yr-1", "number_rate") == pytest.approx(31_557_600.0)
    with pytest.raises(UnitsError, match=r"UFP is a number-family species.*'t yr-1'"):
        sp.emission_factor("UFP", "t yr-1")
    with pytest.raises(UnitsError, match="never mix"):
        sp.emission_factor("NOx", "particles/s")


def test_area_totals_with_ufp_in_mass_units_is_an_error():
    df = pd.DataFrame(
        {"zone_id": ["a", "a"], "sector": ["F", "F"], "pollutant": ["NOx", "UFP"],
         "emission": [1.0, 2.0e18]}
    )  # fmt: skip
    with pytest.raises(UnitsError, match=r"'UFP'.*never mix"):
        readers.read_area_totals(df, units="t yr-1")
    ok = readers.read_area_totals(df.iloc[[1]], units="s-1")
    assert ok["emission"].iloc[0] == pytest.approx(2.0e18 * 31_557_600.0)


def test_road_factors_refuse_particle_numbers():
    df = pd.DataFrame({"category": ["car"], "pollutant": ["UFP"], "ef_light": [1e14],
                       "ef_heavy": [1e15]})  # fmt: skip
    with pytest.raises(UnitsError, match="particle-number"):
        readers.read_road_emission_factors(df)


# ------------------------------------------------------------------ temporal profiles
@given(
    year=st.integers(1990, 2030),
    sector=st.sampled_from(GNFR),
    total=st.floats(1e-6, 1e9),
)
def test_profiles_preserve_annual_totals(year, sector, total):
    t = pd.date_range(f"{year}-01-01", f"{year}-12-31 23:00", freq="h")
    f = hourly_factors(sector, t)
    assert f.size in (8760, 8784)
    assert abs(f.mean() - 1.0) < 1e-12
    e = hourly_emissions(total, sector, t)
    assert abs(e.sum() - total) <= 1e-12 * total
    assert (f >= 0).all()


@given(year=st.integers(1990, 2030))
def test_monthly_shares_are_exact(year):
    """Every month carries exactly its share, whatever its weekdays (pesticide calendar)."""
    t = pd.date_range(f"{year}-01-01", f"{year}-12-31 23:00", freq="h")
    prof = default_temporal_profiles().profile("L", "S-metolachlor")
    e = hourly_emissions(1.0, "L_AgriOther", t, species="S-metolachlor")
    by_month = pd.Series(e, index=t).groupby(t.month).sum().to_numpy()
    np.testing.assert_allclose(by_month, prof.month, atol=1e-14)
    assert by_month[0] == 0.0 and by_month[4] == pytest.approx(0.40)


def test_weekday_and_hour_shapes():
    t = pd.date_range("2021-01-04", periods=7 * 24, freq="h")  # Monday..Sunday
    f = hourly_factors("F_RoadTransport", t).reshape(7, 24)
    assert f[:5, 8].min() > f[:5, 3].max()  # morning rush above night
    assert f[6].sum() < f[2].sum()  # Sunday below Wednesday
    flat = hourly_factors("M_Other", t)
    np.testing.assert_allclose(flat, flat[0])


def test_profile_options_keep_their_keywords():
    """`species`, `profiles` and `utc_offset` (ProfileOptions) are taken by keyword as before:
    the factors are those of the formula of the module (checked hour by hour), and the hourly
    amounts are the annual total times them over the hours of the year."""
    t = pd.date_range("2023-12-31 18:00", "2024-01-01 05:00", freq="h")  # UTC, over New Year
    t = t.append(pd.date_range("2024-05-06 00:00", periods=30, freq="h"))
    prof = default_temporal_profiles().profile("L_AgriOther", "S-metolachlor")
    expected = []
    for ts in t + pd.Timedelta(hours=1):  # local time, CET
        days = pd.date_range(ts.replace(day=1, hour=0), periods=ts.days_in_month, freq="D")
        n_year = 8784 if ts.is_leap_year else 8760
        weekdays = prof.weekday[days.day_of_week.to_numpy()].sum()
        expected.append(
            n_year * prof.month[ts.month - 1] * prof.weekday[ts.day_of_week] * prof.hour[ts.hour]
            / weekdays
        )  # fmt: skip
    kw = {"species": "S-metolachlor", "profiles": default_temporal_profiles(), "utc_offset": 1.0}
    f = hourly_factors("L", t.to_numpy(), **kw)
    np.testing.assert_allclose(f, expected, rtol=1e-13)
    n_hours = np.where((t + pd.Timedelta(hours=1)).is_leap_year, 8784.0, 8760.0)
    np.testing.assert_array_equal(
        hourly_emissions(250.0, "L", t.to_numpy(), **kw), 250.0 * f / n_hours
    )


@pytest.mark.parametrize("function", ["hourly_factors", "hourly_emissions"])
def test_a_misspelt_profile_option_is_one_error_naming_it(function):
    t = pd.date_range("2021-01-01", periods=3, freq="h")
    call = {"hourly_factors": lambda **kw: hourly_factors("F", t, **kw),
            "hourly_emissions": lambda **kw: hourly_emissions(1.0, "F", t, **kw)}[function]  # fmt: skip
    with pytest.raises(
        TypeError,
        match=rf"^{function}\(\) got an unexpected keyword argument 'utc_ofset' \(did you mean 'utc_offset'\?\); ",
    ):
        call(utc_ofset=1.0)


def test_profile_not_summing_to_one_is_an_error(tmp_path):
    bad = {"F_RoadTransport": {"hour": [1.0 / 24] * 23 + [0.05]}}
    with pytest.raises(InputError, match=r"'F_RoadTransport', hour: sums to .*normalise=True"):
        load_temporal_profiles(bad)
    ok = load_temporal_profiles(bad, normalise=True).profile("F")
    assert ok.hour.sum() == pytest.approx(1.0, abs=1e-15)
    with pytest.raises(InputError, match="month_factors: sums to"):
        load_temporal_profiles({"C": {"month_factors": [1.0] * 11 + [1.5]}})
    with pytest.raises(InputError, match="11 values; expected 12"):
        load_temporal_profiles({"C": {"month": [1 / 11] * 11}})
    with pytest.raises(InputError, match="unknown sector"):
        load_temporal_profiles({"Z_Nothing": {"month": [1 / 12] * 12}})
    csv = tmp_path / "p.csv"
    rows = ["key,profile,index,value"] + [f"C,weekday,{i},0.1" for i in range(1, 8)]
    csv.write_text("\n".join(rows) + "\n")
    with pytest.raises(InputError, match="'C', weekday: sums to 0.7"):
        load_temporal_profiles(csv)
    csv.write_text("\n".join(rows).replace("0.1", "1") + "\n")
    with pytest.raises(InputError, match="sums to 7"):
        load_temporal_profiles(csv)
    w = load_temporal_profiles(csv, normalise=True).profile("C")
    np.testing.assert_allclose(w.weekday, 1 / 7)
    np.testing.assert_array_equal(w.month, default_temporal_profiles().profile("C").month)


def test_default_profiles_are_valid_and_sourced():
    profs = default_temporal_profiles()
    assert set(GNFR) <= set(profs)
    for p in profs.values():
        for part in (p.month, p.weekday, p.hour):
            assert abs(part.sum() - 1.0) < 1e-12
        assert p.source


# ------------------------------------------------------------------ hourly mode
def _met(n):
    t = pd.date_range("2021-07-01", periods=n, freq="h")
    return xr.Dataset(
        {"wind_speed": ("time", np.full(n, 4.0)), "wind_direction": ("time", np.full(n, 270.0)),
         "stability": ("time", ["D"] * n), "temperature": ("time", np.full(n, 290.0))},
        coords={"time": t}, attrs={"anemometer_height": 10.0},
    )  # fmt: skip


STACKS = {
    "x": [1030.0, 1460.0],
    "y": [980.0, 1225.0],
    "stack_height": [40.0, 15.0],
    "stack_diameter": [2.0, 0.8],
    "exit_temperature": [420.0, 300.0],
    "exit_velocity": [12.0, 6.0],
}


def test_hourly_factor_scales_each_stack():
    met = _met(4)
    kw = dict(**STACKS, emission=[100.0, 50.0], receptors_x=[1900.0, 2300.0],
              receptors_y=[1000.0, 1230.0])  # fmt: skip
    base = disp.hourly_at_receptors(met, **kw)
    same = disp.hourly_at_receptors(met, **kw, hourly_factor=np.ones(4))
    np.testing.assert_allclose(same.values, base.values, rtol=1e-14)
    f = np.array([0.5, 1.0, 2.0, 0.0])
    np.testing.assert_allclose(
        disp.hourly_at_receptors(met, **kw, hourly_factor=f).values,
        base.values * f[:, None],
        rtol=1e-12,
    )
    per = np.column_stack([f, np.ones(4)])
    one = {k: [v[0]] for k, v in STACKS.items()}
    two = {k: [v[1]] for k, v in STACKS.items()}
    r = dict(receptors_x=[1900.0, 2300.0], receptors_y=[1000.0, 1230.0])
    want = (
        disp.hourly_at_receptors(met, **one, emission=[100.0], **r).values * f[:, None]
        + disp.hourly_at_receptors(met, **two, emission=[50.0], **r).values
    )
    got = disp.hourly_at_receptors(met, **kw, hourly_factor=per).values
    np.testing.assert_allclose(got, want, rtol=1e-12)
    with pytest.raises(InputError, match="hourly_factor has shape"):
        disp.hourly_at_receptors(met, **kw, hourly_factor=np.ones(3))
    with pytest.raises(InputError, match="finite values >= 0"):
        disp.hourly_at_receptors(met, **kw, hourly_factor=-np.ones(4))


def test_a_species_file_keeps_each_species_family(tmp_path):
    """``[species.UFP] unit_family = "mass"`` turned UFP into a mass species whose
    thresholds stayed in cm-3; the same family, said again, is no change."""
    p = tmp_path / "fam.toml"
    p.write_text('[species.UFP]\nunit_family = "mass"\n')
    with pytest.raises(InputError) as info:
        sp.load_species(p)
    msg = str(info.value)
    assert "species 'UFP': unit_family = 'mass' changes the family of the existing" in msg
    assert "\n" not in msg and "fam.toml, line 2: species 'UFP'" in msg
    p.write_text('[species.UFP]\nunit_family = "number"\nhalf_life = 3600.0\n')
    assert sp.load_species(p)["UFP"].half_life == 3600.0


@pytest.mark.parametrize(("alias", "other"), [("pm25", "PM2.5"), ("NO2", "NO2"), ("nox", "NOx")])
def test_an_alias_of_another_species_is_refused(tmp_path, alias, other):
    """A new species FOO with ``aliases = ["pm25"]`` took the alias over: pm25 named FOO."""
    p = tmp_path / "clash.toml"
    p.write_text(f'[species.FOO]\nname = "x"\nunit_family = "mass"\naliases = ["{alias}"]\n')
    with pytest.raises(InputError) as info:
        sp.load_species(p)
    assert "\n" not in str(info.value)
    assert f"line 4: species 'FOO': alias '{alias}' already names species '{other}'" in str(
        info.value
    )
    assert sp.normalise_pollutant(alias) == other
    p.write_text(
        '[species.FOO]\nname = "x"\nunit_family = "mass"\naliases = ["foo1"]\n'
        '[species.BAR]\nname = "y"\nunit_family = "mass"\naliases = ["FOO1"]\n'
    )
    with pytest.raises(InputError, match="alias 'FOO1' already names species 'FOO'"):
        sp.load_species(p)
    foo = sp.Pollutant("FOO", "x", aliases=("pm25",))
    with pytest.raises(InputError, match="species registry: species 'FOO': alias 'pm25'"):
        sp.builtin_species().extended([foo])


def test_a_new_species_thresholds_reach_the_run_in_its_concentration_units(tmp_path):
    """A species added by a file (docs/architecture.md) with thresholds in ng m-3: the run's
    reference values are the registry's (its exposure variables were NaN for it, the
    hand-written tables in assess/exposure.py knowing only NO2, PM10 and PM2.5), and
    thresholds_table converts them to ug m-3 (it returned the bare 1.0 for 1 ng m-3)."""
    from trajectoire.assess.exposure import registry_thresholds
    from trajectoire.io.config import ExposureConfig

    p = tmp_path / "bap.toml"
    p.write_text(
        '[species.BaP]\nname = "benzo[a]pyrene"\nunit_family = "mass"\nregulated = true\n'
        '[[species.BaP.thresholds]]\nvalue = 1.0\nunits = "ng m-3"\naveraging = "year"\n'
        'label = "EU2030"\nsource = "Directive (EU) 2024/2881, Annex I, target value"\n'
        '[[species.BaP.thresholds]]\nvalue = 0.12\nunits = "ng m-3"\naveraging = "year"\n'
        'label = "WHO2021"\nsource = "WHO (2021) reference level"\n'
    )
    reg = sp.load_species(p)
    assert sp.thresholds_table("EU2030", registry=reg)["BaP"] == pytest.approx(1e-3)
    with sp.use_species(reg):
        run = ExposureConfig().all_thresholds()
        assert run["EU2030"]["BaP"] == pytest.approx(1e-3)
        assert run["WHO2021"]["BaP"] == pytest.approx(1.2e-4)
        assert registry_thresholds()["EU2030"]["NO2"] == 20.0
    assert "BaP" not in registry_thresholds()["EU2030"]  # the built-in registry again
