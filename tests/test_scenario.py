"""Emission-reduction scenarios (issue 16): the exact path from the stored contributions,
the recompute path through the chain, and their agreement.

A small run of the sample (ACSO and ARC at 250 m, a 5 km kernel, 2016..2018, map years 2017
and 2018; ``test_pipeline.small_config``) is written once by the runner; the scenarios are
applied to that file.
"""

from __future__ import annotations

import json
import tomllib
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from test_pipeline import small_config
from trajectoire import ConfigError, InputError, TrajectoireWarning
from trajectoire.batch import pipeline as P
from trajectoire.batch.runner import run as run_chain
from trajectoire.cli import main
from trajectoire.io.config import load_config
from trajectoire.scenario import (
    Cut,
    Scenario,
    apply_scenario,
    cut_factors,
    load_scenario,
    recompute_scenario,
    scaled_context,
    scenario_from_table,
    write_scenario,
)

LINEAR = ["NOx", "PM10", "PM2.5", "SO2", "NH3", "NMVOC"]
ROAD = "F_RoadTransport"


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """(config, output path, prepared context) of the small run."""
    tmp = tmp_path_factory.mktemp("scenario")
    cfg_path = small_config(tmp, **{r"^map_years = \[.*\]": "map_years = [2017, 2018]"})
    cfg = load_config(cfg_path)
    out = tmp / "out.nc"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        run_chain(cfg, out, progress=False)
        ctx = P.prepare(cfg)
    return cfg, out, ctx


def _toml(tmp: Path, body: str) -> Path:
    p = tmp / "scenario.toml"
    p.write_text(body)
    return p


# ------------------------------------------------------------------------------ parsing
def test_scenario_table_is_parsed(tmp_path):
    p = _toml(
        tmp_path,
        """
[scenario]
name = "road"
[[scenario.cut]]
sector = "F_RoadTransport"
territory = "MEL"
percent = 30
from_year = 2020
[[scenario.cut]]
sector = "B_Industry"
percent = 12.5
from_year = 2018
[scenario.thresholds]
NO2 = 40
""",
    )
    s = load_scenario(p)
    assert s.name == "road" and s.first_year == 2018
    assert s.cuts[0] == Cut(ROAD, "MEL", 0.3, 2020)
    assert s.cuts[1] == Cut("B_Industry", None, 0.125, 2018)
    assert s.thresholds["NO2"] == 40.0 and s.thresholds["PM2.5"] == 10.0
    assert s.active(2019) == (s.cuts[1],)
    assert "F_RoadTransport -30 % in MEL from 2020" in s.describe()


@pytest.mark.parametrize(
    ("cut", "expected"),
    [
        ('sector = "F_Road", percent = 10, from_year = 2017', "sector 'F_Road' is not a GNFR"),
        (
            'sector = "F_RoadTransport", territory = "LILLE", percent = 10, from_year = 2017',
            "territory 'LILLE' is unknown; valid values: MEL, CUD",
        ),
        (
            'sector = "F_RoadTransport", percent = 150, from_year = 2017',
            "percent = 150; expected a number in 0..100",
        ),
        (
            'sector = "F_RoadTransport", percent = 10, from_year = 2017, year = 1',
            "unknown key 'year'; valid keys: sector, territory, percent, from_year",
        ),
        ('sector = "F_RoadTransport", percent = 10', "missing key(s) from_year"),
    ],
)
def test_bad_cut_one_line_naming_the_key(tmp_path, cut, expected):
    p = _toml(tmp_path, f"[scenario]\ncut = [{{ {cut} }}]\n")
    with pytest.raises(ConfigError) as e:
        load_scenario(p)
    msg = str(e.value)
    assert expected in msg and "[scenario] cut 1" in msg
    assert len(msg.splitlines()) == 1


def test_one_cut_written_as_a_single_table_is_that_cut(tmp_path):
    """``[scenario.cut]`` (one pair of brackets) for a scenario of one cut reads as the
    ``[[scenario.cut]]`` it means (it said "no [[scenario.cut]] entry")."""
    text = '[scenario]\n[scenario.cut]\nsector = "F"\npercent = 30\nfrom_year = 2020\n'
    s = load_scenario(_toml(tmp_path, text))
    assert s.cuts == (Cut(ROAD, None, 0.3, 2020),)


def test_a_fraction_given_as_percent_is_said(tmp_path):
    """``percent = 0.3`` (a fraction where a per cent is asked) cuts 0.3 %, as written, and
    a warning says how to write 30 %."""
    text = '[scenario]\n[[scenario.cut]]\nsector = "F"\npercent = 0.3\nfrom_year = 2020\n'
    with pytest.warns(TrajectoireWarning) as caught:
        s = load_scenario(_toml(tmp_path, text))
    assert s.cuts[0].fraction == pytest.approx(0.003)
    said = [str(w.message) for w in caught]
    assert len(said) == 1 and "[scenario] cut 1: percent = 0.3 removes 0.3 % of" in said[0]
    assert "write percent = 30 for a cut of 30 %" in said[0]


def test_several_mistakes_one_line_each():
    with pytest.raises(ConfigError) as e:
        scenario_from_table(
            {
                "cut": [
                    {"sector": "X", "percent": 10, "from_year": 2017},
                    {"sector": ROAD, "territory": "Y", "percent": -1, "from_year": 2017},
                ]
            }
        )
    lines = str(e.value).splitlines()
    assert len(lines) == 3
    assert "cut 1: sector 'X'" in lines[0] and "cut 2: percent = -1" in lines[1]
    assert "cut 2: territory 'Y'" in lines[2]


def test_cuts_may_not_remove_more_than_everything():
    with pytest.raises(ConfigError, match=r"F_RoadTransport in MEL add up to 130 %"):
        Scenario("x", [Cut(ROAD, None, 0.5, 2017), Cut(ROAD, "MEL", 0.8, 2019)])
    with pytest.raises(ConfigError, match="fraction 1.5 must be a number in 0..1"):
        Cut(ROAD, None, 1.5, 2017)
    with pytest.raises(ConfigError, match="no cut"):
        Scenario("x", [])


def test_cut_factors():
    s = Scenario("x", [Cut(ROAD, None, 0.25, 2017), Cut(ROAD, "MEL", 0.5, 2018)])
    f = cut_factors(s, [2016, 2017, 2018], ["B_Industry", ROAD], ["MEL", "CUD", "rest"])
    np.testing.assert_allclose(f.sel(sector="B_Industry"), 1.0)
    np.testing.assert_allclose(f.sel(sector=ROAD, year=2016), [1, 1, 1])
    np.testing.assert_allclose(f.sel(sector=ROAD, year=2017), [0.75, 0.75, 0.75])
    np.testing.assert_allclose(f.sel(sector=ROAD, year=2018), [0.25, 0.75, 0.75])


# ------------------------------------------------------------------------ the exact path
def test_cutting_everything_leaves_the_background(small):
    _, out, _ = small
    base = xr.open_dataset(out)
    sectors = [str(s) for s in base["sector"].values]
    ds = apply_scenario(out, Scenario("all", [Cut(s, None, 1.0, 2017) for s in sectors]))
    assert [int(y) for y in ds["year"]] == [2017, 2018]
    pols = [str(p) for p in ds["pollutant"].values]
    bg = ds["background"]
    # aggregates: the background (NO2 too: its territory means come from the maps)
    lin = ds["territory_concentration"].sel(pollutant=LINEAR)
    np.testing.assert_allclose(lin, bg.sel(pollutant=LINEAR).broadcast_like(lin), rtol=1e-6)
    np.testing.assert_allclose(
        ds["exposure"].sel(pollutant=LINEAR),
        bg.sel(pollutant=LINEAR).broadcast_like(ds["exposure"].sel(pollutant=LINEAR)),
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        ds["territory_concentration"].sel(pollutant="NO2"),
        bg.sel(pollutant="NO2").broadcast_like(ds["territory_concentration"].sel(pollutant="NO2")),
        rtol=1e-6,
    )
    # maps (both years are map years): the background in every written cell
    conc = ds["concentration"]
    for p in pols:
        plane = conc.sel(pollutant=p).values
        ok = np.isfinite(plane)
        assert ok.any()
        ref = bg.sel(pollutant=p).values[:, None, None]
        np.testing.assert_allclose(
            np.where(ok, plane, 0),
            np.where(ok, np.broadcast_to(ref, plane.shape), 0),
            rtol=1e-5,
            atol=1e-5 * float(ref.max()),
        )
    assert "inhabitants_above" in ds and "threshold" in ds


def test_a_cut_of_nothing_gives_the_run_s_own_no2(small):
    """NO2 from the scenario NOx uses the run's conversion (its curve and, with f-NO2, each
    sector's primary NO2): cutting 0 % reproduces the run's NO2 maps and territory means."""
    _, out, _ = small
    base = xr.open_dataset(out)
    assert base.attrs["no2_method"] == "fno2"  # the default, recorded for the scenario
    # docs/outputs.md: trajectory_methods is JSON {GNFR sector: method} (it was "A: index; ...")
    methods = json.loads(base.attrs["trajectory_methods"])
    assert set(methods) == {str(s) for s in base["sector"].values}
    assert set(methods.values()) <= {
        "index",
        "overlap",
        "surrogate",
        "extrapolation",
        "interpolation",
    }
    sector = str(base["sector"].values[0])
    ds = apply_scenario(out, Scenario("none", [Cut(sector, None, 0.0, 2017)]))
    for y in (2017, 2018):
        got = ds["concentration"].sel(year=y, pollutant="NO2").values
        want = base["concentration"].sel(year=y, pollutant="NO2").values
        ok = np.isfinite(want)
        np.testing.assert_allclose(got[ok], want[ok], rtol=1e-6)
        np.testing.assert_allclose(
            ds["territory_concentration"].sel(year=y, pollutant="NO2"),
            base["territory_concentration"].sel(year=y, pollutant="NO2"),
            rtol=1e-6,
        )


def test_one_sector_cut_changes_its_contribution_by_exactly_x(small):
    _, out, _ = small
    base = xr.open_dataset(out).sel(year=[2017, 2018])
    ds = apply_scenario(out, Scenario("road", [Cut(ROAD, None, 0.3, 2017)]))
    for name in ("territory_contribution", "exposure_contribution", "station_contribution"):
        new = ds[name].sel(pollutant=LINEAR)
        old = base[name].sel(pollutant=LINEAR).astype(float)
        np.testing.assert_allclose(new.sel(sector=ROAD), 0.7 * old.sel(sector=ROAD), rtol=1e-12)
        others = [s for s in new["sector"].values if s != ROAD]
        np.testing.assert_array_equal(new.sel(sector=others), old.sel(sector=others))
    change = ds["territory_concentration_change"].sel(pollutant=LINEAR)
    expect = -0.3 * base["territory_contribution"].sel(sector=ROAD, pollutant=LINEAR).sum("origin")
    np.testing.assert_allclose(change, expect, rtol=1e-5, atol=1e-6)
    # maps: -30 % of the road contribution map
    cmap = ds["concentration_change"].sel(pollutant=LINEAR).values
    road = base["contribution"].sel(sector=ROAD, pollutant=LINEAR).values
    ok = np.isfinite(cmap)
    np.testing.assert_allclose(cmap[ok], -0.3 * road[ok], rtol=1e-4, atol=1e-5)


def test_territory_cut_touches_only_its_origin_and_has_no_exact_maps(small):
    _, out, _ = small
    base = xr.open_dataset(out).sel(year=[2018])
    ds = apply_scenario(out, Scenario("acso", [Cut(ROAD, "ACSO", 0.5, 2018)]))
    new = ds["territory_contribution"].sel(sector=ROAD, pollutant=LINEAR)
    old = base["territory_contribution"].sel(sector=ROAD, pollutant=LINEAR).astype(float)
    np.testing.assert_allclose(new.sel(origin="ACSO"), 0.5 * old.sel(origin="ACSO"))
    np.testing.assert_array_equal(new.sel(origin=["ARC", "rest"]), old.sel(origin=["ARC", "rest"]))
    assert np.isnan(ds["concentration"].values).all()
    assert "a cut limited to one territory" in ds.attrs["scenario_notes"]


# -------------------------------------------------------------------- the recompute path
def test_scaled_context_is_the_cut(small):
    _, _, ctx = small
    cuts = (Cut(ROAD, "ACSO", 0.4, 2017), Cut("B_Industry", None, 0.25, 2017))
    ctx2 = scaled_context(ctx, cuts)
    assert ctx2.basis is not ctx.basis and ctx.basis is not None
    share = ctx.fractions[ctx.origins.index("ACSO")]
    assert ((share > 0) & (share < 1)).any()  # cells split with ARC or the rest
    for pol in ("NOx", "PM10"):
        e0, e1 = P.emission_of(ctx, 2018, pol), P.emission_of(ctx2, 2018, pol)
        for i, s in enumerate(ctx.sectors):
            want = {ROAD: 1 - 0.4 * share, "B_Industry": 0.75}.get(s, 1.0) * e0[i]
            np.testing.assert_allclose(e1[i], want, rtol=1e-6, atol=1e-12)
    if ctx.points is not None:
        q0, q1 = ctx.point_emission, ctx2.point_emission
        sec = ctx.points["source_sector"].values.astype(str)
        ori = ctx.points["origin"].values.astype(str)
        want = np.where(
            sec == "B_Industry", 0.75, np.where((sec == ROAD) & (ori == "ACSO"), 0.6, 1)
        )
        np.testing.assert_allclose(q1, q0 * want[None, :, None])


@pytest.mark.slow
def test_exact_and_recomputed_paths_agree(small):
    cfg, out, ctx = small
    s = Scenario(
        "mix",
        [
            Cut(ROAD, "ACSO", 0.4, 2017),
            Cut("B_Industry", None, 0.25, 2017),
            Cut(ROAD, "ARC", 1.0, 2018),
        ],
    )
    exact = apply_scenario(out, s)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        again = recompute_scenario(cfg, s, baseline=out, ctx=ctx)
    assert again.attrs["scenario_method"] == "recompute"
    worst = 0.0
    for name in ("territory_concentration", "exposure", "station_concentration"):
        a = exact[name].sel(pollutant=LINEAR).values
        b = again[name].sel(pollutant=LINEAR).values
        rel = np.abs(a - b) / np.abs(b)
        worst = max(worst, float(rel.max()))
        np.testing.assert_allclose(a, b, rtol=1e-6)
        # the change too, relative to the change itself
        ca = exact[f"{name}_change"].sel(pollutant=LINEAR).values
        cb = again[f"{name}_change"].sel(pollutant=LINEAR).values
        np.testing.assert_allclose(ca, cb, rtol=1e-4, atol=1e-6 * np.abs(b).max())
    # summed over the origins, the (sector) contributions agree as well
    for name in ("territory_contribution", "exposure_contribution"):
        a = exact[name].sel(pollutant=LINEAR).sum("origin")
        b = again[name].sel(pollutant=LINEAR).sum("origin")
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    print(f"exact vs recompute, linear totals: max relative difference {worst:.2e}")
    # the recompute path has maps of the territory cuts and NO2 everywhere
    assert np.isfinite(again["concentration"].sel(pollutant="NO2")).any()
    assert np.isfinite(again["exposure"].sel(pollutant="NO2")).all()


@pytest.mark.slow
def test_no2_recompute_is_consistent(small):
    cfg, out, ctx = small
    s = Scenario("road", [Cut(ROAD, None, 0.6, 2018)])
    exact = apply_scenario(out, s)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        again = recompute_scenario(cfg, s, baseline=out, ctx=ctx, years=[2018])
    y = 2018
    no2 = again["concentration"].sel(year=y, pollutant="NO2").values
    ok = np.isfinite(no2)
    # the exact path's NO2 map (the run's conversion, with the f-NO2 primary part, of its
    # NOx maps) is the recomputed one (the chain run again on the cut emissions)
    from_maps = exact["concentration"].sel(year=y, pollutant="NO2").values
    np.testing.assert_allclose(from_maps[ok], no2[ok], rtol=1e-5)
    # exact path (NO2 from its NOx map) and recompute agree on the NO2 territory means
    a = exact["territory_concentration"].sel(year=y, pollutant="NO2").values
    b = again["territory_concentration"].sel(year=y, pollutant="NO2").values
    np.testing.assert_allclose(a, b, rtol=1e-5)
    # the NO2 change is smaller than 60 % of the NO2 road share (concave curve) but not 0
    base = xr.open_dataset(out).sel(year=y)
    road_no2 = base["territory_contribution"].sel(sector=ROAD, pollutant="NO2").sum("origin")
    drop = -again["territory_concentration_change"].sel(year=y, pollutant="NO2")
    assert (drop > 0).all()
    assert not np.allclose(drop, 0.6 * road_no2, rtol=1e-3)


# ----------------------------------------------------------------------- output and CLI
def _road_scenario(tmp_path: Path, out: Path, from_year: int) -> Path:
    """`trajectoire scenario` of a 30 % road cut from `from_year` on `out`: the file written."""
    p = _toml(
        tmp_path,
        '[scenario]\nname = "road"\ncut = [{ sector = "F_RoadTransport", percent = 30, '
        f"from_year = {from_year} }}]\n",
    )
    target = tmp_path / "s.nc"
    assert main(["scenario", str(p), "--from", str(out), "--out", str(target)]) == 0
    return target


def test_written_file_and_cli(small, tmp_path, capsys):
    _, out, _ = small
    target = _road_scenario(tmp_path, out, 2018)
    assert "wrote" in capsys.readouterr().out
    assert target.is_file() and not (tmp_path / "s.nc.tmp").exists()
    ds = xr.open_dataset(target)
    assert ds.attrs["Conventions"] == "CF-1.8" and ds.attrs["scenario_method"] == "exact"
    assert "F_RoadTransport -30 % everywhere from 2018" in ds.attrs["scenario"]
    assert ds["concentration"].attrs["grid_mapping"] == "crs" and "crs" in ds
    assert ds["exposure_change"].attrs["units"] == "ug m-3"
    assert [int(y) for y in ds["year"]] == [2018]


@pytest.mark.parametrize(
    ("cut", "expected"),
    [
        ('sector = "Z_Nothing", percent = 10, from_year = 2017', "sector 'Z_Nothing'"),
        (
            'sector = "F_RoadTransport", territory = "XYZ", percent = 10, from_year = 2017',
            "territory 'XYZ'",
        ),
        ('sector = "F_RoadTransport", percent = 150, from_year = 2017', "percent = 150"),
        (
            'sector = "F_RoadTransport", percent = 10, from_year = 2030',
            "from_year 2030 is outside the years",
        ),
        (
            'sector = "F_RoadTransport", territory = "MEL", percent = 10, from_year = 2017',
            "territory 'MEL' is not a territory of the run",
        ),
        (
            'sector = "G_Shipping", percent = 10, from_year = 2017',
            "sector 'G_Shipping' is not a sector of the run",
        ),
    ],
)
def test_cli_bad_scenario_exit_2(small, tmp_path, capsys, cut, expected):
    _, out, _ = small
    p = _toml(tmp_path, f"[scenario]\ncut = [{{ {cut} }}]\n")
    code = main(["scenario", str(p), "--from", str(out), "--out", str(tmp_path / "s.nc")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("trajectoire: error:") and expected in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "s.nc").exists()


def test_cli_output_without_the_aggregates_exit_2(small, tmp_path, capsys):
    _, out, _ = small
    thin = tmp_path / "thin.nc"
    with xr.open_dataset(out) as ds:
        ds[["concentration", "background"]].to_netcdf(thin)
    p = _toml(
        tmp_path,
        '[scenario]\ncut = [{ sector = "F_RoadTransport", percent = 10, from_year = 2017 }]\n',
    )
    code = main(["scenario", str(p), "--from", str(thin), "--out", str(tmp_path / "s.nc")])
    err = capsys.readouterr().err
    assert code == 2 and "no variable(s) territory_contribution" in err
    assert len(err.strip().splitlines()) == 1
    with pytest.raises(InputError):
        apply_scenario(thin, load_scenario(p))


def test_cli_missing_scenario_table(tmp_path, capsys):
    p = _toml(tmp_path, "[run]\nname = 'x'\n")
    code = main(["scenario", str(p), "--from", "x.nc", "--out", str(tmp_path / "s.nc")])
    assert code == 2 and "no [scenario] table" in capsys.readouterr().err


def test_write_scenario_is_atomic(small, tmp_path):
    _, out, _ = small
    ds = apply_scenario(out, Scenario("r", [Cut(ROAD, None, 0.1, 2018)]))
    path = write_scenario(ds, tmp_path / "r.nc")
    back = xr.open_dataset(path)
    np.testing.assert_allclose(
        back["exposure"].values, ds["exposure"].values.astype(np.float32), equal_nan=True
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.nc"]


def test_write_scenario_spares_the_baseline_and_other_files(small, tmp_path):
    """``write_scenario(apply_scenario(base, s), base)`` replaced the baseline run output
    by the scenario; a CSV given as the path was replaced too."""
    import shutil

    _, out, _ = small
    base = Path(shutil.copy(out, tmp_path / "base.nc"))
    before = base.stat().st_size, base.stat().st_mtime_ns
    ds = apply_scenario(base, Scenario("r", Cut(ROAD, None, 0.1, 2018)))  # one Cut, no list
    assert ds.attrs["baseline_file"] == str(base)
    with pytest.raises(InputError, match="is the baseline output of this scenario"):
        write_scenario(ds, base)
    assert (base.stat().st_size, base.stat().st_mtime_ns) == before
    table = tmp_path / "cuts.csv"
    table.write_text("sector,percent\nF,10\n")
    with pytest.raises(InputError, match="exists and is not a NetCDF file"):
        write_scenario(ds, table)
    assert table.read_text() == "sector,percent\nF,10\n"
    with pytest.raises(ConfigError, match="expected a Cut or a list of Cut"):
        Scenario("r", "F_RoadTransport")


def test_recompute_takes_the_baseline_s_years(small):
    """A baseline run with ``--years`` holds fewer years than its configuration: the
    recompute path computes those (it used to compute the configuration's and fail on a
    KeyError when taking the changes), and says so in one line for years it does not hold."""
    cfg, out, ctx = small
    one = xr.open_dataset(out).sel(year=[2017])
    s = Scenario("road", [Cut(ROAD, None, 0.5, 2017)], thresholds={"NO2": 10.0})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        again = recompute_scenario(cfg, s, baseline=one, ctx=ctx)
        assert [int(y) for y in again["year"]] == [2017]
        assert "territory_concentration_change" in again
        # counted as the run counts them (each territory's own inhabitants): the baseline's
        # count is the run's inhabitants_above at the same threshold (NO2 10 ug m-3, WHO)
        run_count = one["inhabitants_above"].sel(threshold="WHO2021", pollutant="NO2").values
        assert run_count.min() > 1000.0
        base_count = again["baseline_inhabitants_above"].sel(pollutant="NO2").values
        np.testing.assert_allclose(base_count, run_count, rtol=1e-6)  # stored as float32
        assert "as the run counts them" in again["inhabitants_above"].attrs["comment"]
        with pytest.raises(
            ConfigError,
            match=r"years \[2018\] are not in the baseline the output \(it holds 2017\)",
        ):
            recompute_scenario(cfg, s, baseline=one, ctx=ctx, years=[2018])
        with pytest.raises(ConfigError, match=r"years \[2030\] are not in the run \(2016..2018\)"):
            recompute_scenario(cfg, s, baseline=out, ctx=ctx, years=[2017, 2030])


def test_info_reads_a_scenario_output(small, tmp_path, capsys):
    """`trajectoire info` on a scenario's output (one threshold per pollutant, no maps in
    the years before the cut) used to end on a KeyError 'threshold'."""
    _, out, _ = small
    target = _road_scenario(tmp_path, out, 2017)
    capsys.readouterr()
    assert main(["info", str(target)]) == 0
    text = capsys.readouterr().out
    assert "inhabitants above the reference values in 2018" in text
    assert "NO2>20 " in text  # the scenario's threshold beside its pollutant
    means = text.split("domain-mean concentration")[1].splitlines()
    assert "nan" not in " ".join(means[:4])


@pytest.mark.parametrize(
    ("given", "hint"),
    [([Cut(ROAD, None, 0.5, 2017)], "Scenario(name, cuts)"), ("s.toml", "load_scenario(path)")],
)
def test_a_scenario_of_another_kind_is_one_line(small, given, hint):
    """A list of cuts (or a path) given as the scenario was a bare AttributeError."""
    _, out, _ = small
    with pytest.raises(
        InputError, match=r"apply_scenario: scenario is a .*; expected a Scenario"
    ) as info:
        apply_scenario(out, given)
    assert hint in str(info.value)


def test_a_cut_since_before_the_output_applies_to_every_year_it_holds(small):
    """A cut in force since 1995 was refused as 'outside the years' of a 2016-2018 output;
    it applies to each of them, as a cut from the first year does."""
    _, out, _ = small
    with xr.open_dataset(out) as ds:
        first = int(ds["year"].values[0])
    early = apply_scenario(out, Scenario("early", [Cut(ROAD, None, 0.3, 1995)]))
    same = apply_scenario(out, Scenario("first", [Cut(ROAD, None, 0.3, first)]))
    xr.testing.assert_identical(
        early["exposure"].reset_coords(drop=True), same["exposure"].reset_coords(drop=True)
    )


# ------------------------------------------------------------------ thresholds, ids, years
def test_threshold_aliases_name_their_pollutant(tmp_path):
    """``no2`` and ``pm25`` in [scenario.thresholds] were kept raw and never matched the
    output's NO2 and PM2.5 (the defaults counted instead); Scenario(thresholds=) too."""
    text = (
        '[scenario]\ncut = [{ sector = "F", percent = 30, from_year = 2020 }]\n'
        "[scenario.thresholds]\nno2 = 12.0\npm25 = 5\n"
    )
    s = load_scenario(_toml(tmp_path, text))
    assert s.thresholds == {"NO2": 12.0, "PM10": 20.0, "PM2.5": 5.0, "SO2": 20.0}
    s = Scenario("x", [Cut(ROAD, None, 0.5, 2020)], thresholds={"no2": 12})
    assert s.thresholds == {"NO2": 12.0}


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("NO3 = 12.0", "[scenario.thresholds]: key 'NO3': unknown pollutant 'NO3'"),
        ("NO2 = nan", "NO2 = nan; expected a finite number > 0 [ug m-3]"),
        ("PM10 = inf", "PM10 = inf; expected a finite number > 0"),
        ("PM10 = 0", "PM10 = 0; expected a finite number > 0"),
        ("NO2 = { value = 5 }", "NO2 = {'value': 5}; expected a finite number > 0"),
        ("UFP = 10000", "UFP is a particle-number species [cm-3]"),
        ("no2 = 12.0\nNO2 = 15.0", "NO2 is given twice ('NO2' and another spelling)"),
    ],
)
def test_a_bad_threshold_is_one_line(tmp_path, entry, expected):
    """An unknown or misspelt pollutant, a NaN, infinite or zero value were accepted (the
    key ignored, NaN counting nobody)."""
    text = (
        '[scenario]\ncut = [{ sector = "F", percent = 30, from_year = 2020 }]\n'
        f"[scenario.thresholds]\n{entry}\n"
    )
    with pytest.raises(ConfigError) as e:
        load_scenario(_toml(tmp_path, text))
    msg = str(e.value)
    assert expected in msg and len(msg.splitlines()) == 1
    with pytest.raises(ConfigError, match="scenario 'x': thresholds: key 'NO3'"):
        Scenario("x", [Cut(ROAD, None, 0.5, 2020)], thresholds={"NO3": 1.0})


def test_a_territory_in_any_case_names_it(tmp_path):
    """``territory = "mel"`` was refused in a TOML file while Cut("F", "mel") was MEL."""
    text = '[scenario]\ncut = [{ sector = "F", territory = "mel", percent = 30, from_year = 2020 }]'
    assert load_scenario(_toml(tmp_path, text)).cuts == (Cut(ROAD, "MEL", 0.3, 2020),)


def test_a_from_year_before_any_run_is_refused(tmp_path):
    """``from_year = -5`` was taken as a cut in force in every year; a year before the
    earliest [run] first_year (1960) is a mistake, an earlier year of the run is not."""
    text = '[scenario]\ncut = [{ sector = "F", percent = 30, from_year = -5 }]'
    with pytest.raises(ConfigError) as e:
        load_scenario(_toml(tmp_path, text))
    assert "cut 1: from_year -5 is before 1960" in str(e.value)
    assert len(str(e.value).splitlines()) == 1
    with pytest.raises(ConfigError, match="from_year 1959 is before 1960"):
        Cut(ROAD, None, 0.3, 1959)
    assert Cut(ROAD, None, 0.3, 1960).from_year == 1960


# ------------------------------------------------------------------ what is not a baseline
def test_an_output_without_mass_pollutant_is_one_line(small):
    """A run of particle numbers only (UFP) holds no mass pollutant: a scenario of it ended
    on a TypeError (an empty pollutant dim)."""
    _, out, _ = small
    numbers_only = xr.open_dataset(out).isel(pollutant=slice(0, 0))
    with pytest.raises(InputError, match="holds no mass pollutant") as e:
        apply_scenario(numbers_only, Scenario("r", [Cut(ROAD, None, 0.5, 2017)]))
    assert "a scenario applies to the mass species only" in str(e.value)
    assert len(str(e.value).splitlines()) == 1


def test_a_scenario_output_is_not_a_baseline(small, tmp_path, capsys):
    """`--from S.nc` chained a second scenario on a first one without a word."""
    _, out, _ = small
    first = _road_scenario(tmp_path, out, 2017)
    capsys.readouterr()
    p = _toml(tmp_path, '[scenario]\ncut = [{ sector = "B", percent = 20, from_year = 2017 }]\n')
    code = main(["scenario", str(p), "--from", str(first), "--out", str(tmp_path / "t.nc")])
    err = capsys.readouterr().err
    assert code == 2 and "this file is the output of a scenario (road:" in err
    assert "give the output of `trajectoire run`" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "t.nc").exists()


def test_a_pollutant_no_cut_touches_changes_by_exactly_zero(small):
    """The change was the float64 sum of the stored parts less the stored float32 total:
    round-off (``PFOA +4.55e-13``) for pollutants the cuts leave as they are."""
    _, out, _ = small
    base = xr.open_dataset(out)
    parts = np.abs(base["territory_contribution"]).sum(("year", "receptor", "origin"))
    sector, pol = next(
        (str(s), str(p))
        for s in parts["sector"].values
        for p in parts["pollutant"].values
        if p != "NO2"
        and float(parts.sel(sector=s, pollutant=p)) == 0.0
        and float(parts.sel(sector=s).sum()) > 0
    )
    ds = apply_scenario(out, Scenario("x", [Cut(sector, None, 1.0, 2016)]))
    for name in ("territory_concentration", "exposure", "station_concentration"):
        change = ds[f"{name}_change"].sel(pollutant=pol).values
        assert np.isfinite(change).all() and (change == 0.0).all(), (name, sector, pol)
    touched = ds["exposure_change"].sel(pollutant=[p for p in LINEAR if p != pol]).values
    assert (touched < 0).any()


# ------------------------------------------------------------- probe 6: F2, F3, F4, F7
def test_a_cut_with_numpy_numbers_gives_the_same_scenario(small):
    """``Cut(sector, None, np.float64(0.3), ds.year.values[-1])``: the year read from the
    output (np.int64) was refused as "must be an integer year"."""
    _, out, _ = small
    with xr.open_dataset(out) as ds:  # closed here: an open file left to the garbage
        last = ds["year"].values[-1]  # collector may be closed by HDF5 in another thread
    assert isinstance(last, np.integer)
    given = apply_scenario(out, Scenario("np", [Cut(ROAD, "ACSO", np.float64(0.3), last)]))
    plain = apply_scenario(out, Scenario("py", [Cut(ROAD, "ACSO", 0.3, int(last))]))
    xr.testing.assert_identical(
        given["exposure"].reset_coords(drop=True), plain["exposure"].reset_coords(drop=True)
    )


@pytest.mark.parametrize(
    ("cut", "expected"),
    [
        (
            'sector = "F_RoadTransport", percent = 10, from_year = 2030',
            "[scenario] cut 1: from_year 2030 is outside the years of",
        ),
        (
            'sector = "G_Shipping", percent = 10, from_year = 2017',
            "[scenario] cut 1: sector 'G_Shipping' is not a sector of the run in",
        ),
        (
            'sector = "F", territory = "mel", percent = 10, from_year = 2017',
            "[scenario] cut 1: territory 'MEL' is not a territory of the run in",
        ),
    ],
)
def test_a_mistake_the_output_tells_names_the_scenario_file(small, tmp_path, capsys, cut, expected):
    """The mistakes found once the output is open began at "[scenario] cut 1", without the
    scenario file every other mistake of the file names."""
    _, out, _ = small
    p = _toml(tmp_path, f"[scenario]\ncut = [{{ {cut} }}]\n")
    code = main(["scenario", str(p), "--from", str(out), "--out", str(tmp_path / "s.nc")])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith(f"trajectoire: error: {p}: {expected} {out}")
    with pytest.raises(ConfigError, match=rf"^{p}: \[scenario\] cut 1: "):
        apply_scenario(out, load_scenario(p))
    with pytest.raises(ConfigError, match=r"^\[scenario\] cut 1: "):  # built in Python: no file
        apply_scenario(out, scenario_from_table(tomllib.loads(p.read_text())["scenario"]))


def test_the_no2_note_says_which_years_were_recomputed(small):
    """With a cut limited to one territory the exact path has no NOx map, so NO2's territory
    means are NaN; the notes said "NO2 maps and territory means recomputed" all the same."""
    _, out, _ = small
    one = apply_scenario(out, Scenario("acso", [Cut(ROAD, "ACSO", 0.5, 2018)]))
    assert np.isnan(one["territory_concentration"].sel(pollutant="NO2").values).all()
    notes = one.attrs["scenario_notes"]
    assert "recomputed from the scenario NOx maps" not in notes
    assert (
        "NO2 territory means of 2018 (a cut is limited to one territory) are NaN, not "
        "recomputed: NO2 is converted from the scenario's NOx map" in notes
    )
    # 2016: no contribution maps; 2017: a cut everywhere, a map; 2018: a territory cut
    mixed = apply_scenario(
        out,
        Scenario("mix", [Cut(ROAD, None, 0.3, 2016), Cut("B_Industry", "ACSO", 0.2, 2018)]),
    )
    no2 = mixed["territory_concentration"].sel(pollutant="NO2")
    assert np.isfinite(no2.sel(year=2017)).all()
    assert np.isnan(no2.sel(year=[2016, 2018])).all()
    notes = mixed.attrs["scenario_notes"]
    assert "NO2 maps and territory means of 2017 recomputed from the scenario NOx maps" in notes
    assert (
        "NO2 territory means of 2018 (a cut is limited to one territory) and 2016 (no "
        "contribution maps stored) are NaN" in notes
    )
    everywhere = apply_scenario(out, Scenario("all", [Cut(ROAD, None, 0.3, 2017)]))
    assert "are NaN, not recomputed" not in everywhere.attrs["scenario_notes"]
    assert "of 2017, 2018 recomputed" in everywhere.attrs["scenario_notes"]


def test_recompute_years_before_every_cut_are_refused(small, tmp_path, capsys):
    """``--recompute --years 2016:2017`` with the cuts from 2018 wrote the baseline again as
    the scenario, without a word (the exact path refuses a cut after the output's years)."""
    cfg, out, ctx = small
    s = Scenario("late", [Cut(ROAD, None, 0.3, 2018), Cut("B_Industry", "ARC", 0.2, 2018)])
    expected = (
        r"\[scenario\] from_year 2018: no cut is in force in the years asked \(2016, 2017\): "
        r"the scenario would be the baseline; expected years from 2018 on \(--years 2018:2018"
    )
    with pytest.raises(ConfigError, match=expected):
        recompute_scenario(cfg, s, baseline=out, ctx=ctx, years=[2016, 2017])
    with pytest.raises(ConfigError, match=expected):
        recompute_scenario(cfg, s, ctx=ctx, years=[2016, 2017])
    p = _toml(
        tmp_path,
        '[scenario]\nname = "road"\ncut = [{ sector = "F_RoadTransport", percent = 30, '
        "from_year = 2018 }]\n",
    )
    target = tmp_path / "s.nc"
    code = main(
        ["scenario", str(p), "--from", str(out), "--out", str(target), "--recompute"]
        + ["--years", "2016:2017", "-q"]
    )
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert f"error: {p}: [scenario] from_year 2018: no cut is in force" in err
    assert not target.exists()


def test_the_exact_path_counts_the_inhabitants_of_the_population_map(small):
    """At a threshold the run did not count, the baseline's count is the output's
    population map times the territory's share of each cell, not rescaled to
    ``population_total`` (which moved every inland cell by the border cells' deficit); at
    one of the run's thresholds it is the run's own ``inhabitants_above`` (one number for
    one fact: the report's 'today' column is its section 2), and the scenario's count is
    that plus the change of the map's count."""
    _, out, _ = small
    base = xr.open_dataset(out)
    s = Scenario("road", [Cut(ROAD, None, 0.5, 2017)], thresholds={"NO2": 10.0, "PM10": 12.5})
    ds = apply_scenario(out, s)
    frac = base["territory_fraction"].values.astype(float)
    for year in (2017, 2018):
        pop = base["population"].sel(year=year).values.astype(float)

        def by_hand(conc: xr.DataArray, limit: float, pop: np.ndarray = pop) -> np.ndarray:
            above = np.nan_to_num(conc.values, nan=-np.inf) > limit
            return (frac * pop * above).sum(axis=(1, 2))

        def got(name: str, p: str, year: int = year) -> np.ndarray:
            return ds[name].sel(year=year, pollutant=p).values

        # PM10 at 12.5 ug m-3, no threshold of the run: the map's count
        pm10 = base["concentration"].sel(year=year, pollutant="PM10")
        np.testing.assert_allclose(got("baseline_inhabitants_above", "PM10"), by_hand(pm10, 12.5))
        np.testing.assert_allclose(
            got("inhabitants_above", "PM10"),
            by_hand(ds["concentration"].sel(year=year, pollutant="PM10"), 12.5),
        )
        # NO2 at 10 ug m-3, the run's WHO2021 value: the run's count, and the map's change
        run = base["inhabitants_above"].sel(year=year, threshold="WHO2021", pollutant="NO2")
        assert float(run.sum()) > 1000.0
        np.testing.assert_allclose(got("baseline_inhabitants_above", "NO2"), run.values, rtol=1e-6)
        no2 = base["concentration"].sel(year=year, pollutant="NO2")
        change = by_hand(ds["concentration"].sel(year=year, pollutant="NO2"), 10.0) - by_hand(
            no2, 10.0
        )
        np.testing.assert_allclose(
            got("inhabitants_above_change", "NO2"), change, rtol=1e-6, atol=1e-3
        )
    assert "border crosses" in ds["baseline_inhabitants_above"].attrs["comment"]
    assert "the run's own inhabitants_above" in ds["inhabitants_above"].attrs["comment"]
