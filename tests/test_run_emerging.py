"""Emerging species in the batch run (issue 15): particle numbers, decay, deposition.

The small sample run of ``test_pipeline`` (ACSO and ARC, 250 m, 5 km radius) with
``[run] pollutants`` extended by UFP (particle numbers, area rows in ``yr-1``), PFOA
(stacks), TRWP and TRWP_coarse (roads) from the sample inputs, TRWP_coarse also on the
stacks (test numbers added to a copy), and ``[dispersion] dry_deposition`` a list. The checks: number species in variables of their own with
their own units; their concentration is the annual kernel (with the registry's decay and
deposition) applied to their emission times 1e-18; deposition flux = v_d x concentration
cell by cell; TRWP_coarse deposited in its cell; the cumulative deposition per territory
is the running sum of the yearly one; the output reads back with CF units.
"""

from __future__ import annotations

import math
import re
import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from test_pipeline import SAMPLE, small_config
from trajectoire import TrajectoireWarning
from trajectoire import pipeline as P
from trajectoire.config import load_config
from trajectoire.dispersion import YearDispersion
from trajectoire.dispersion.background import read_background
from trajectoire.dispersion.local import local_concentration, year_stacks
from trajectoire.errors import ConfigError, InputError, UnitsError
from trajectoire.io.config import DispersionConfig
from trajectoire.io.netcdf import select_map, summary, write_netcdf
from trajectoire.io.outputs import NUMBER_UNITS, cumulative_deposition, split_number_species
from trajectoire.species import get_pollutant, run_scale
from trajectoire.units import SECONDS_PER_YEAR

YEARS = (2017, 2018)  # 2018 is the map year of small_config
POLLUTANTS = ["NOx", "NO2", "PM10", "UFP", "PFOA", "TRWP", "TRWP_coarse"]
DEPOSITING = ["PFOA", "TRWP", "UFP", "PM10"]


def _inputs(tmp):
    """Copies of the sample inputs (UFP, PFOA, TRWP, TRWP_coarse from roads,
    S-metolachlor) with TRWP_coarse on the stacks too (test numbers: 0.5 x PM10)."""
    ps = pd.read_csv(SAMPLE / "point_sources.csv")
    ps["TRWP_coarse"] = ps["PM10"] * 0.5
    ps.to_csv(tmp / "point_sources.csv", index=False)
    tr = pd.read_csv(SAMPLE / "trends.csv")
    assert "TRWP_coarse" in set(tr["pollutant"])  # the sample has its trend and road factors
    ef = pd.read_csv(SAMPLE / "road_emission_factors.csv")
    assert "TRWP_coarse" in set(ef["pollutant"])


def _config(tmp, **over):
    _inputs(tmp)
    repl = {
        r"^pollutants = \[.*\]": f"pollutants = {POLLUTANTS!r}".replace("'", '"'),
        r'^point_sources = ".*"': f'point_sources = "{tmp}/point_sources.csv"',
        r"^receptor_height = 1\.5": (
            f"receptor_height = 1.5\ndry_deposition = {DEPOSITING!r}".replace("'", '"')
        ),
    }
    repl.update(over)
    return load_config(small_config(tmp, **repl))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("emerging")
    cfg = _config(tmp)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        ctx = P.prepare(cfg)
        years = {y: P.compute_year(ctx, y) for y in YEARS}
    return ctx, years


def test_the_run_sorts_the_species(run):
    ctx, _ = run
    assert ctx.numbers == ["UFP"] and ctx.at_source == ["TRWP_coarse"]
    # the registry's half-life applies to the emerging species only (decay = "emerging")
    assert ctx.settings.decay_rate == {"UFP": math.log(2.0) / 10800.0}
    assert set(ctx.settings.deposition_velocity) == set(DEPOSITING)
    groups = ctx.kernel_groups
    members = sorted(i for m in groups.values() for i in m)
    assert ctx.dispersed.index("TRWP_coarse") not in members  # never dispersed
    assert groups[(0.0, 0.004, None)] == [ctx.dispersed.index("PM10"), ctx.dispersed.index("TRWP")]
    attrs = P.global_attributes(ctx)
    assert attrs["first_order_loss"].startswith("UFP: half-life 3 h")
    assert attrs["deposited_at_source"] == "TRWP_coarse"


def test_number_species_never_share_a_variable_with_masses(run):
    ctx, years = run
    for ds in years.values():
        assert "UFP" not in ds["pollutant"].values
        assert list(ds["pollutant_number"].values) == ["UFP"]
        allowed = {u for u, _ in NUMBER_UNITS.values()}
        for name, da in ds.data_vars.items():
            if "pollutant" in da.dims:
                assert f"{name}_number" in ds, name
            if name.endswith("_number") and da.dtype.kind == "f" and "units" in da.attrs:
                assert "pollutant" not in da.dims and da.attrs["units"] in allowed, name
        assert ds["concentration_number"].attrs["units"] == "cm-3"
        assert ds["emission_number"].attrs["units"] == "yr-1"
        assert ds["concentration"].attrs["units"] == "ug m-3"


def test_number_emission_is_written_as_read(run):
    ctx, years = run
    for year, ds in years.items():
        got = ds["emission_number"].sel(pollutant_number="UFP").isel(year=0).values
        want = P.emission_of(ctx, year, "UFP")  # (sector, y, x) [yr-1], unscaled
        keep = ctx.mask
        np.testing.assert_array_equal(got[:, keep], want[:, keep].astype(np.float32))
        assert float(np.nansum(got)) > 1e20


def test_number_concentration_is_the_decaying_kernel_times_1e_18(run):
    """Independent path: a YearDispersion built here with UFP's own (decay, v_d)."""
    ctx, years = run
    year = 2018
    k, vd = ctx.settings.removal("UFP")
    assert k > 0 and vd == 0.002
    heights, _ = ctx.heights()
    met = ctx.met.sel(year=year)
    disp = YearDispersion(
        ctx.grid, met, ctx.settings, heights, decay_rate=k, deposition_velocity=vd
    )
    stacks = year_stacks(
        ctx.points, met, ctx.grid, ctx.settings, ctx.sectors, ctx.origins,
        decay_rate=k, deposition_velocity=vd,
    )  # fmt: skip
    e = P.emission_of(ctx, year, "UFP") * 1e-18
    q = np.zeros(len(stacks.sector))
    want = local_concentration(disp, e.astype(np.float32), q, stacks, ctx.sectors)
    ds = years[year].isel(year=0)
    bg = float(ds["background_number"].sel(pollutant_number="UFP"))  # cm-3
    got = ds["concentration_number"].sel(pollutant_number="UFP").values.astype(float) - bg
    ok = np.isfinite(got)
    assert ok.sum() > 1000 and float(np.nanmax(got)) > 100.0  # cm-3, the local part
    np.testing.assert_allclose(got[ok], want[ok], rtol=2e-5, atol=1e-3)
    # the decay lowers it: the same kernel without decay gives more everywhere
    plain = YearDispersion(ctx.grid, met, ctx.settings, heights, deposition_velocity=vd)
    more = local_concentration(plain, e.astype(np.float32), q, stacks, ctx.sectors)
    assert (more[ok] >= want[ok] * (1 - 1e-6)).all() and more[ok].sum() > want[ok].sum()


def test_deposition_flux_is_velocity_times_concentration(run):
    ctx, years = run
    ds = years[2018].isel(year=0)
    assert ds["deposition"].attrs["units"] == "ug m-2 yr-1"
    assert ds["deposition_number"].attrs["units"] == "m-2 yr-1"
    for pol in ctx.dispersed:
        if pol in ctx.at_source:
            continue
        number = pol in ctx.numbers
        dim = "pollutant_number" if number else "pollutant"
        suffix = "_number" if number else ""
        vd = ctx.settings.removal(pol)[1]
        assert (vd > 0) == (pol in DEPOSITING)
        local = (
            ds[f"contribution{suffix}"].sel({dim: pol}).astype(float).sum("sector", skipna=False)
        )
        got = ds[f"deposition{suffix}"].sel({dim: pol}).values.astype(float)
        # cm-3 x m s-1 x s yr-1 = 1e6 m-2 yr-1 for particle numbers
        want = local.values * vd * SECONDS_PER_YEAR * (1e6 if number else 1.0)
        ok = np.isfinite(want)
        assert ok.sum() > 1000
        np.testing.assert_allclose(got[ok], want[ok], rtol=5e-6, atol=1e-30, err_msg=pol)


def test_coarse_wear_is_deposited_in_its_cell(run):
    ctx, years = run
    ds = years[2018].isel(year=0)
    pol = "TRWP_coarse"
    assert float(np.nanmax(np.abs(ds["concentration"].sel(pollutant=pol).values))) == 0.0
    emitted = ds["emission"].sel(pollutant=pol).astype(float).sum("sector", skipna=False).values
    flux = ds["deposition"].sel(pollutant=pol).values.astype(float)
    ok = np.isfinite(flux)
    assert emitted[ok].sum() > 0
    np.testing.assert_allclose(flux[ok], emitted[ok] * 1e12 / ctx.grid.cell_area, rtol=1e-6)
    for it, terr in enumerate(ctx.territories):
        frac = ctx.fractions[it]
        want = np.nansum(np.where(ok, emitted, 0.0) * frac)  # t yr-1
        got = float(ds["territory_deposition"].sel(territory=terr, pollutant=pol))
        assert got == pytest.approx(want, rel=1e-5), terr


def test_territory_deposition_of_numbers_in_particles(run):
    ctx, years = run
    ds = years[2018].isel(year=0)
    td = ds["territory_deposition_number"]
    assert td.attrs["units"] == "yr-1"
    flux = ds["deposition_number"].sel(pollutant_number="UFP").values.astype(float)
    for it, terr in enumerate(ctx.territories):
        want = np.nansum(flux * ctx.fractions[it]) * ctx.grid.cell_area
        assert float(td.sel(territory=terr, pollutant_number="UFP")) == pytest.approx(
            want, rel=1e-5
        )


def test_cumulative_deposition_is_the_running_sum(run):
    _, years = run
    both = xr.concat([years[y] for y in YEARS], dim="year", data_vars="minimal")
    cum = cumulative_deposition(both)
    for name, units in (("territory_deposition", "t"), ("territory_deposition_number", "1")):
        c = cum[name.replace("territory_deposition", "territory_deposition_cumulative")]
        assert c.attrs["units"] == units and c.attrs["accumulated_since"] == YEARS[0]
        yearly = both[name].values
        np.testing.assert_allclose(c.values[0], yearly[0], equal_nan=True)
        np.testing.assert_allclose(c.values[1], yearly[0] + yearly[1], equal_nan=True)
    gap = both.assign_coords(year=[2015, 2018])
    with pytest.raises(InputError, match="miss 2016"):
        cumulative_deposition(gap)


def test_cumulative_deposition_by_hand():
    td = xr.DataArray(
        np.array([[[1.0, np.nan]], [[2.0, np.nan]], [[0.5, np.nan]]]),
        dims=("year", "territory", "pollutant"),
        coords={"year": [1990, 1991, 1992], "territory": ["A"], "pollutant": ["PFOA", "NO2"]},
        attrs={"units": "t yr-1"},
    )
    out = cumulative_deposition(xr.Dataset({"territory_deposition": td}))
    c = out["territory_deposition_cumulative"]
    assert c.sel(pollutant="PFOA", territory="A").values.tolist() == [1.0, 3.0, 3.5]
    assert bool(c.sel(pollutant="NO2").isnull().all())
    assert not cumulative_deposition(xr.Dataset()).data_vars


def test_output_reads_back_with_cf_units(run, tmp_path):
    ctx, years = run
    ds = years[2018]
    path = write_netcdf(ds.drop_attrs(deep=False), tmp_path / "y.nc")
    back = xr.open_dataset(path)
    assert back["concentration_number"].attrs["units"] == "cm-3"
    assert back["deposition_number"].attrs["units"] == "m-2 yr-1"
    assert list(back["pollutant_number"].values) == ["UFP"]
    m = select_map(back, "concentration", year=2018, pollutant="ufp")[0]
    assert m.attrs["units"] == "cm-3"
    m = select_map(back, "concentration", year=2018, pollutant="PFOA")[0]
    assert m.attrs["units"] == "ug m-3"
    text = summary(path)
    assert "particle no.: UFP" in text and "[cm-3]" in text
    # UDUNITS grammar: symbols with integer exponents separated by spaces (no "/" or "#")
    udunits = re.compile(r"^(1|[a-z]+(-?\d+)?( [a-z]+(-?\d+)?)*)$")
    for name in ("concentration_number", "emission_number", "deposition_number"):
        assert udunits.match(back[name].attrs["units"]), name
    back.close()


def test_number_exposure_has_the_who_good_practice_level(run):
    _, years = run
    ds = years[2018]
    thr = ds["exposure_threshold_number"].sel(pollutant_number="UFP")
    assert float(thr.sel(threshold="WHO2021_GPS")) == 10000.0
    assert ds["exposure_threshold_number"].attrs["units"] == "cm-3"
    assert bool(ds["exposure_threshold"].sel(threshold="WHO2021_GPS").isnull().all())


def test_split_refuses_units_without_a_number_counterpart():
    ds = xr.Dataset(
        {"x": (("pollutant",), [1.0, 2.0], {"units": "ppb"})}, coords={"pollutant": ["NOx", "UFP"]}
    )
    with pytest.raises(UnitsError, match="'x'"):
        split_number_species(ds, ["UFP"])
    assert split_number_species(ds, []) is ds


def test_run_scale_is_the_unit_ratio():
    # (1 yr-1 -> cm-3 factor) / (1 t yr-1 -> ug m-3 factor) with the same kernel [s m-3]
    assert run_scale("UFP") == pytest.approx((1.0 * 1e-6) / 1e12, rel=1e-15)
    assert run_scale("PFOA") == 1.0 and get_pollutant("TRWP_coarse").deposited_at_source


# ------------------------------------------------------------------- configuration errors
def _settings(**kw):
    return P._settings(SimpleNamespace(dispersion=DispersionConfig(**kw)), ["NOx", "S-metolachlor"])


def test_a_listed_species_without_velocity_is_named_with_the_key():
    with pytest.raises(ConfigError) as err:
        _settings(dry_deposition=["S-metolachlor"])
    msg = str(err.value)
    assert "'S-metolachlor'" in msg and "[dispersion] deposition_velocity" in msg
    assert "\n" not in msg
    s = _settings(dry_deposition=["S-metolachlor"], deposition_velocity={"S-metolachlor": 0.005})
    assert s.removal("S-metolachlor") == (0.0, 0.005) and s.removal("NOx") == (0.0, 0.0)
    # a list leaves the others undeposited, whatever the registry knows of them
    assert _settings(dry_deposition=["NOx"]).deposition_velocity == {"NOx": 0.001}


def test_decay_choices():
    s = P._settings(SimpleNamespace(dispersion=DispersionConfig()), ["SO2", "UFP"])
    assert set(s.decay_rate) == {"UFP"}  # default "emerging": SO2's 4 h not applied
    s = P._settings(SimpleNamespace(dispersion=DispersionConfig(decay=True)), ["SO2", "UFP"])
    assert s.decay_rate["SO2"] == pytest.approx(math.log(2) / 14400.0)
    s = P._settings(SimpleNamespace(dispersion=DispersionConfig(decay=False)), ["SO2", "UFP"])
    assert not s.decay_rate
    s = P._settings(SimpleNamespace(dispersion=DispersionConfig(decay=["so2"])), ["SO2", "UFP"])
    assert set(s.decay_rate) == {"SO2"}


def test_coarse_wear_asked_to_disperse_is_an_error():
    """Whether the inputs emit it or not: the registry marks it deposited at source."""
    disp = DispersionConfig(deposition_velocity={"TRWP_coarse": 0.01})
    with pytest.raises(ConfigError, match="TRWP_coarse.*deposited_at_source"):
        P._check_at_source(SimpleNamespace(dispersion=disp, source_path=None))
    disp = DispersionConfig(decay=["TRWP_coarse"])
    with pytest.raises(ConfigError, match=r"^\[dispersion\] decay"):
        P._check_at_source(SimpleNamespace(dispersion=disp, source_path=None))
    P._check_at_source(
        SimpleNamespace(dispersion=DispersionConfig(decay=["UFP"]), source_path=None)
    )


def test_a_number_background_in_mass_units_is_an_error(tmp_path):
    path = tmp_path / "bg.csv"
    path.write_text("year,pollutant,value\n2018,NO2,20\n2018,UFP,5000\n")
    with pytest.raises(UnitsError, match="'UFP'.*never mix"):
        read_background(path)
    path.write_text("year,pollutant,value,units\n2018,NO2,20,ug m-3\n2018,UFP,5000,cm-3\n")
    bg = read_background(path)
    assert float(bg.sel(year=2018, pollutant="UFP")) == 5000.0


def test_a_number_species_deposited_at_source_is_refused():
    from trajectoire.species import read_species

    with pytest.raises(InputError, match="deposited_at_source"):
        read_species(
            {"species": {"X": {"name": "x", "unit_family": "number", "deposited_at_source": True}}}
        )


def test_accessor_reads_the_number_variables(run):
    import trajectoire.accessor  # noqa: F401  (registers ds.trajectoire)

    _, years = run
    ds = years[2018]
    m = ds.trajectoire.source_receptor(pollutant="UFP")
    local = ds["territory_concentration_number"] - ds["background_number"]
    np.testing.assert_allclose(
        m.sum("origin").values, local.sel(pollutant_number="UFP").values, rtol=1e-6
    )
    shares = ds.trajectoire.sector_shares(pollutant="ufp")
    np.testing.assert_allclose(shares.sum("sector").values, 1.0, rtol=1e-6)
    assert ds.trajectoire.source_receptor(pollutant="PFOA").notnull().all()


def test_plots_read_the_number_species(run):
    """The plots take a particle-number species by its name, from its ``*_number``
    variables, in their units (cm-3), as they take a mass pollutant."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from trajectoire import plot

    _, years = run
    both = xr.concat([years[y] for y in YEARS], "year", data_vars="minimal", coords="minimal",
                     compat="override", join="override")  # fmt: skip
    ds = years[2018]
    fig, ax = plot.trajectories(both, variable="exposure", territory="ARC", pollutant="ufp")
    assert "cm⁻³" in ax.get_ylabel() and "UFP" in ax.get_title()
    total = [ln for ln in ax.get_lines() if ln.get_label() == "Total"][0]
    np.testing.assert_allclose(
        total.get_ydata(), both["exposure_number"].sel(territory="ARC", pollutant_number="UFP")
    )
    plt.close(fig)
    fig, ax = plot.source_receptor(ds, year=2018, pollutant="UFP")
    shown = np.array(ax.images[0].get_array())
    want = ds.trajectoire.source_receptor(pollutant="UFP").sel(year=2018)
    np.testing.assert_allclose(np.nan_to_num(shown), np.nan_to_num(want.values), rtol=1e-6)
    plt.close(fig)
    fig, ax = plot.exposure_distribution(ds, year=2018, pollutant="UFP", territory="ARC")
    assert "cm⁻³" in ax.get_xlabel()
    plt.close(fig)
    with pytest.raises(InputError, match="trajectories: pollutant"):
        plot.trajectories(both, variable="exposure", territory="ARC", pollutant="no-such")


def test_change_split_of_a_number_species_adds_up_in_cm3(run):
    ctx, years = run
    ch = P.decompose_change(ctx, *YEARS)
    assert "UFP" in ch["pollutant_number"].values and "UFP" not in ch["pollutant"].values
    assert ch["change_total_number"].attrs["units"] == "cm-3"
    tc = {y: years[y]["territory_concentration_number"].isel(year=0) for y in YEARS}
    want = (tc[YEARS[1]] - tc[YEARS[0]]).sel(pollutant_number="UFP").values
    total = ch["change_total_number"].sel(pollutant_number="UFP").values
    np.testing.assert_allclose(total, want, rtol=1e-4, atol=1e-6 * np.abs(want).max())
    parts = sum(
        ch[f"change_{k}_number"].sel(pollutant_number="UFP").values
        for k in ("emission", "meteorology", "background")
        if "sector" not in ch[f"change_{k}_number"].dims
    ) + sum(
        ch[f"change_{k}_number"].sel(pollutant_number="UFP", sector="all").values
        for k in ("emission", "meteorology")
    )
    np.testing.assert_allclose(parts, total, rtol=1e-9, atol=1e-9)
    # never in the air: the species deposited at source has a concentration of 0 in both
    # years, and so has each part of its change
    for name in ("change_total", "change_background", "change_emission", "change_meteorology"):
        assert float(np.abs(ch[name].sel(pollutant="TRWP_coarse")).max()) == 0.0, name


@pytest.mark.slow
def test_a_whole_run_writes_and_describes_the_emerging_species(tmp_path):
    """trajectoire.runner.run end to end: parts, assembly, info."""
    from trajectoire.io.netcdf import check_output
    from trajectoire.runner import run as run_all

    cfg = _config(tmp_path, **{r"^realizations = \d+": "realizations = 40"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        out = run_all(cfg, tmp_path / "out.nc", progress=False)
    check_output(out)
    text = summary(out)
    assert "particle no.: UFP" in text and "WHO2021_GPS UFP" in text
    with xr.open_dataset(out) as ds:
        assert ds["contribution_number"].sel(year=2018).notnull().any()
        assert bool(ds["contribution_number"].sel(year=2016).isnull().all())  # not a map year
        # the emissions' uncertainty reaches the particle numbers too, in their own units
        p = ds["exposure_percentile_number"].sel(pollutant_number="UFP")
        assert p.attrs["units"] == "cm-3" and p.dims == ("percentile", "year", "territory")
        assert (p.isel(percentile=-1) > p.isel(percentile=0)).all()
        np.testing.assert_allclose(
            p.sel(percentile=50.0), ds["exposure_number"].sel(pollutant_number="UFP"), rtol=0.05
        )
        assert "exposure_percentile" in ds and "UFP" not in ds["exposure_percentile"]["pollutant"]
        cum = ds["territory_deposition_cumulative"].sel(pollutant="PFOA").values
        np.testing.assert_allclose(
            cum,
            np.cumsum(ds["territory_deposition"].sel(pollutant="PFOA").values, axis=0),
            rtol=1e-6,
        )


@pytest.mark.parametrize("pol", ["UFP", "PFOA", "TRWP"])
def test_mass_balance_with_the_registry_removal(pol):
    """Emitted = outflow + deposited + decayed to 1e-6 on the long-term kernel the run uses,
    with each species' own velocity and half-life (UFP: both), over 20 km (the check of
    test_kernels_deposition, with the registry's numbers)."""
    from test_kernels_deposition import (
        test_mass_balance_emitted_equals_outflow_deposited_decayed as balance,
    )

    sp = get_pollutant(pol)
    assert sp.deposition_velocity and (sp.decay_rate > 0) == (pol == "UFP")
    for cls, h, zi, inv_u, sz0 in ((4, 1.0, 800.0, 0.3, 1.5), (5, 3.0, 300.0, 0.6, 0.0)):
        balance(cls, h, zi, sp.deposition_velocity, sp.decay_rate, inv_u, sz0)


def test_number_observations_need_their_own_units():
    rows = {"station_id": ["A", "A"], "year": [2018, 2018], "pollutant": ["NO2", "UFP"]}
    table = pd.DataFrame({**rows, "value": [20.0, 9000.0]})
    assert P._observed_units(table, "NO2", "obs.csv") == {}  # masses: as before
    with pytest.raises(UnitsError, match=r"obs.csv: .*'UFP'.*no units column.*never mix"):
        P._observed_units(table, "UFP", "obs.csv")
    with pytest.raises(UnitsError, match="ug m-3"):
        P._observed_units(table.assign(units=["ug m-3", "ug m-3"]), "UFP", "obs.csv")
    ok = table.assign(units=["ug m-3", "cm-3"])
    assert P._observed_units(ok, "UFP", "obs.csv") == {"units": "cm-3"}


def test_background_warning_names_only_species_in_the_air(recwarn):
    """A species deposited at its source (TRWP_coarse) needs no background: no warning."""
    bg = xr.DataArray(
        np.ones((1, 1)), dims=("year", "pollutant"), coords={"year": [2019], "pollutant": ["NOx"]}
    )
    cfg = SimpleNamespace()
    _, need = P._emerging_background(bg, ["NOx", "TRWP_coarse"], cfg)
    assert need == ["NOx"] and not [w for w in recwarn if "no background" in str(w.message)]
    with pytest.warns(TrajectoireWarning, match=r"\['UFP'\]"):
        _, need = P._emerging_background(bg, ["NOx", "UFP", "TRWP_coarse"], cfg)
    assert need == ["NOx"]


@pytest.mark.parametrize("key", ["dry_deposition", "decay"])
def test_an_unknown_species_in_a_list_is_named_once(tmp_path, key):
    path = small_config(
        tmp_path, **{r"^receptor_height = 1\.5": f'receptor_height = 1.5\n{key} = ["PFOS"]'}
    )
    with pytest.raises(ConfigError) as err:
        load_config(path)
    msg = str(err.value)
    assert f"[dispersion] {key}: unknown pollutant 'PFOS'" in msg
    assert msg.count(f"[dispersion] {key}") == 1


@pytest.mark.parametrize(
    ("key", "line"),
    [
        ("decay", 'decay = ["TRWP_coarse"]'),
        ("deposition_velocity", "deposition_velocity = { TRWP_coarse = 0.01 }"),
    ],
)
def test_a_removal_asked_for_a_species_deposited_at_source_is_refused_first(
    tmp_path, monkeypatch, key, line
):
    """``[dispersion] decay`` or ``deposition_velocity`` naming a species deposited at
    source: one ConfigError naming the configuration file and the key, said before any
    input is read (it came after the inventory was built, without the file's name)."""
    cfg = _config(
        tmp_path,
        **{r"^receptor_height = 1\.5": f"receptor_height = 1.5\n{line}"},
    )
    read = []
    monkeypatch.setattr(P, "_territories_and_grid", lambda *a: read.append(a) or 1 / 0)
    with pytest.raises(ConfigError, match=rf"^config\.toml: \[dispersion\] {key} names "
                       r"'TRWP_coarse', which the species registry marks deposited_at_source"):  # fmt: skip
        P.prepare(cfg)
    assert read == []


def test_a_run_of_coarse_wear_alone_deposits_it(run, tmp_path):
    """A run whose only pollutant is deposited at source has no kernel set: it still runs,
    and its deposition is the one it has in a run that disperses other species."""
    # the sample's [dispersion] lists kept: said in one line (they name species not run)
    with pytest.warns(TrajectoireWarning, match=r"dry_deposition names 'PFOA', 'TRWP', 'UFP'"):
        cfg = _config(tmp_path, **{r"^pollutants = \[.*\]": 'pollutants = ["TRWP_coarse"]'})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        ctx = P.prepare(cfg)
        ds = P.compute_year(ctx, 2018).isel(year=0)
    assert ctx.kernel_groups == {}
    both = run[1][2018].isel(year=0).sel(pollutant=["TRWP_coarse"], sector=ds["sector"])
    for name in ("deposition", "territory_deposition", "emission", "concentration"):
        np.testing.assert_array_equal(ds[name].values, both[name].values, err_msg=name)
