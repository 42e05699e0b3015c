"""A regional model field as background, its local part removed the uEMEP way (issue 14).

The synthetic CTM-like NetCDF files are written here, in ``tmp_path``; the sample keeps its
scalar station background. The run checks use the small sample run of test_pipeline (ACSO and
ARC at 250 m, 5 km kernel), for two years.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj
import pytest
import xarray as xr

from trajectoire import Grid, InputError, TrajectoireWarning, UnitsError, regrid
from trajectoire import pipeline as P
from trajectoire.config import load_config
from trajectoire.dispersion.background import (
    RegionalBackground,
    bilinear_weights,
    read_background_field,
    remove_local_part,
)
from trajectoire.units import mixing_ratio_factor

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample"
YEARS = (2017, 2018)
#: a 2 km regional grid (Lambert-93) around the small run (ACSO and ARC)
COARSE = Grid.from_bounds(620_000, 6_880_000, 720_000, 6_960_000, 2000)


# ----------------------------------------------------------------------------- helpers
def write_field(
    path: Path,
    values: dict[str, np.ndarray],
    grid: Grid | None = None,
    *,
    lonlat: tuple[np.ndarray, np.ndarray] | None = None,
    years: tuple[int, ...] = YEARS,
    units: str = "ug m-3",
    crs: bool = True,
) -> Path:
    """A CTM-like NetCDF: one ``(time, y, x)`` variable per pollutant, monthly steps,
    ``conc_<pollutant>`` with a CF grid mapping (or ``(time, lat, lon)``)."""
    time = pd.date_range(f"{years[0]}-01-01", f"{years[-1]}-12-01", freq="MS")
    if lonlat is None:
        assert grid is not None
        dims, coords = ("time", "y", "x"), {"y": grid.y, "x": grid.x}
    else:
        dims, coords = ("time", "lat", "lon"), {"lat": lonlat[1], "lon": lonlat[0]}
    ds = xr.Dataset(coords={"time": time, **coords})
    for pol, v in values.items():
        v = np.asarray(v, dtype=float)
        per_step = (
            np.repeat(v, 12, axis=0) if v.ndim == 3 else np.broadcast_to(v, (len(time), *v.shape))
        )
        attrs = {"units": units}
        if crs and lonlat is None:
            attrs["grid_mapping"] = "lambert"
        ds[f"conc_{pol}"] = (dims, np.array(per_step), attrs)
    if crs and lonlat is None:
        ds["lambert"] = xr.DataArray(0, attrs={"crs_wkt": pyproj.CRS(grid.crs).to_wkt()})
    ds.to_netcdf(path)
    return path


def variables(pols) -> str:
    return "{ " + ", ".join(f'"{p}" = "conc_{p}"' for p in pols) + " }"


def small_config(tmp: Path, background: str | None = None, last_year: int = YEARS[-1]) -> Path:
    """test_pipeline's small run (two years), with `background` as the background entry."""
    text = (SAMPLE / "config.toml").read_text()
    text = re.sub(
        r'^(\w+) = "([\w.]+\.(?:gpkg|csv|gz|tif))"',
        lambda m: f'{m[1]} = "{SAMPLE / m[2]}"',
        text,
        flags=re.M,
    )
    repl = {
        r"^first_year = \d+": f"first_year = {YEARS[0]}",
        r"^last_year = \d+": f"last_year = {last_year}",
        r"^resolution = [\d.]+": "resolution = 250.0",
        r"^territories = \[.*\]": 'territories = ["ACSO", "ARC"]',
        r"^radius = [\d.]+": "radius = 5000.0",
        r"^map_years = \[.*\]": f"map_years = [{YEARS[-1]}]",
    }
    if background is not None:
        repl[r"^background = .*$"] = f"background = {background}"
    for pat, new in repl.items():
        text, n = re.subn(pat, new, text, flags=re.M)
        assert n == 1, pat
    path = tmp / "config.toml"
    path.write_text(text)
    return path


def run_years(path: Path, spy: list | None = None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        ctx = P.prepare(load_config(path))
        if spy is not None and ctx.regional is not None:
            inner = ctx.regional.remove_local_part

            def record(year, pol, local):
                spy.append((year, pol, np.array(local)))
                return inner(year, pol, local)

            ctx.regional.remove_local_part = record  # type: ignore[method-assign]
        return ctx, {y: P.compute_year(ctx, y) for y in YEARS}


@pytest.fixture(scope="module")
def scalar_run(tmp_path_factory):
    return run_years(small_config(tmp_path_factory.mktemp("scalar")))


@pytest.fixture(scope="module")
def constant_field_run(tmp_path_factory, scalar_run):
    """The sample's scalar background written as a constant field, local part kept."""
    ctx, _ = scalar_run
    tmp = tmp_path_factory.mktemp("constant")
    bg = ctx.background
    values = {
        p: np.stack([np.full(COARSE.shape, float(bg.sel(year=y, pollutant=p))) for y in YEARS])
        for p in ctx.output_pollutants
    }
    nc = write_field(tmp / "ctm.nc", values, COARSE)
    entry = (
        f'{{ path = "{nc}", format = "field", variables = {variables(values)}, '
        "local_fraction = 0.0 }"
    )
    spy: list = []
    out = run_years(small_config(tmp, entry), spy)
    return (*out, spy)


# ----------------------------------------------------------------- local-part removal
def test_local_part_removal_recovers_the_regional_part_exactly(constant_field_run):
    """A field = known regional part R + the run's own local NOx averaged on the regional
    cells: removal gives back R on the regional cells, to round-off (uEMEP's identity)."""
    ctx, _, spy = constant_field_run
    year, pol, local = next(s for s in spy if s[1] == "NOx")
    assert local.shape == ctx.grid.shape and local.max() > 1.0
    plan = ctx.regional
    rng = np.random.default_rng(14)
    known = rng.uniform(5.0, 20.0, plan.coarse.shape)
    # the function on DataArrays, the way a notebook calls it
    local_da = ctx.grid.to_dataarray(local, attrs={"units": "ug m-3"})
    inner = plan.coarse.subgrid(slice(1, -1), slice(1, -1))  # the cells the grid reaches
    coarse_mean = regrid(local_da, inner, extensive=False)
    assert np.isfinite(coarse_mean.values).all()
    regional = inner.to_dataarray(known[1:-1, 1:-1], attrs={"units": "ug m-3"}) + coarse_mean
    regional.attrs["crs"] = inner.crs.to_string()
    got = remove_local_part(regional, local_da)
    scale = float(regional.max())
    np.testing.assert_allclose(
        got.values, known[1:-1, 1:-1], rtol=0, atol=4 * np.finfo(float).eps * scale
    )
    assert got.attrs["clipped_share"] == 0.0
    # the run's own plan (the one prepared for the grid)
    field = plan.values.copy()
    field[plan.years.index(year), plan.pollutants.index(pol)] = known + plan.local_mean(local)
    again = RegionalBackground(
        xr.DataArray(
            field,
            dims=("year", "pollutant", "y", "x"),
            coords={"year": plan.years, "pollutant": plan.pollutants, **plan.coarse.coords()},
            attrs={"crs": plan.coarse.crs.to_string()},
        ),
        ctx.grid,
    )
    coarse, clipped = again.remove_local_part(year, pol, local)
    np.testing.assert_allclose(coarse, known, rtol=0, atol=4 * np.finfo(float).eps * scale)
    assert clipped == 0.0


def test_local_part_larger_than_the_field_is_clipped_and_reported():
    fine = Grid.from_bounds(700_000, 7_000_000, 704_000, 7_004_000, 100)
    coarse = Grid.from_bounds(700_000, 7_000_000, 704_000, 7_004_000, 2000)
    local = fine.to_dataarray(np.full(fine.shape, 3.0))
    reg = coarse.to_dataarray(np.array([[1.0, 5.0], [5.0, 5.0]]))
    with pytest.warns(TrajectoireWarning, match=r"25.0% of the regional cells .* 2 ug m-3"):
        out = remove_local_part(reg, local)
    np.testing.assert_allclose(out.values, [[0.0, 2.0], [2.0, 2.0]], rtol=1e-14, atol=0)
    assert out.attrs["clipped_share"] == 0.25


def test_background_and_clipped_is_what_the_run_writes(constant_field_run):
    """One definition of a year's background maps and clipped share: the maps of
    :meth:`background_maps`, the share of :meth:`remove_local_part`, NO2 with NOx's share."""
    ctx, out, spy = constant_field_run
    year, pol, local = next(s for s in spy if s[1] == "NOx")
    run_plan = ctx.regional
    plan = RegionalBackground(  # the run's field, its local part removed this time
        xr.DataArray(
            run_plan.values,
            dims=("year", "pollutant", "y", "x"),
            coords={
                "year": run_plan.years,
                "pollutant": run_plan.pollutants,
                **run_plan.coarse.coords(),
            },
            attrs={"crs": run_plan.coarse.crs.to_string()},
        ),
        ctx.grid,
    )
    for scale in (1.0, 1e4):  # no clipping, then most cells clipped
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TrajectoireWarning)
            maps, clipped = plan.background_and_clipped(year, pol, scale * local, with_no2=True)
            coarse, share = plan.remove_local_part(year, pol, scale * local)
            alone = plan.background_maps(year, pol, scale * local, with_no2=True)
        assert clipped == share and sorted(maps) == ["NO2", "NOx"]
        np.testing.assert_array_equal(maps["NOx"], plan.on_grid(coarse))
        np.testing.assert_array_equal(maps["NO2"], plan.on_grid(plan.no2(year, coarse)))
        for p in maps:
            np.testing.assert_array_equal(maps[p], alone[p])
    assert clipped > 0.5
    ds = out[year]
    assert float(ds["background_clipped_share"].sel(year=year, pollutant="NO2")) == float(
        ds["background_clipped_share"].sel(year=year, pollutant="NOx")
    )
    with pytest.raises(InputError, match="with_no2 needs pollutant 'NOx'"):
        run_plan.background_and_clipped(year, "PM10", local, with_no2=True)


# ------------------------------------------------------------------------ in the run
def test_constant_field_equals_the_scalar_background(scalar_run, constant_field_run):
    """A constant field with its local part kept (local_fraction = 0) is the scalar option."""
    _, scalar = scalar_run
    ctx, field, _ = constant_field_run
    for y in YEARS:
        a, b = scalar[y], field[y]
        np.testing.assert_array_equal(a["concentration"].values, b["concentration"].values)
        for name in ("territory_concentration", "exposure", "station_concentration"):
            np.testing.assert_allclose(b[name].values, a[name].values, rtol=1e-12, err_msg=name)
        bg = b["background"].sel(year=y)
        assert bg.dims == ("pollutant", "y", "x")
        number = b["background_number"].sel(year=y) if "background_number" in b else None
        for p in ctx.output_pollutants:
            # a particle-number species has its own variables (background_number, in cm-3)
            on_mass = p in bg["pollutant"].values
            got = bg.sel(pollutant=p) if on_mass else number.sel(pollutant_number=p)
            want = a["background" if on_mass else "background_number"]
            key = {"pollutant": p} if on_mass else {"pollutant_number": p}
            np.testing.assert_allclose(
                np.nanmax(got.values), float(want.sel(year=y, **key)), rtol=1e-7
            )
        np.testing.assert_allclose(
            b["territory_background"].values[0],
            np.broadcast_to(a["background"].values, b["territory_background"].shape[1:]),
            rtol=1e-12,
        )


def test_field_background_is_the_background_term_of_the_aggregates(constant_field_run):
    """territory_concentration = Σ sectors x origins + territory_background, exactly."""
    _, field, _ = constant_field_run
    ds = field[YEARS[-1]]
    parts = ds["territory_contribution"].sum(("sector", "origin"))
    np.testing.assert_allclose(
        ds["territory_concentration"].values,
        (parts + ds["territory_background"]).transpose(*parts.dims).values,
        rtol=1e-12,
    )
    expo = ds["exposure_contribution"].sum(("sector", "origin")).rename(receptor="territory")
    np.testing.assert_allclose(
        ds["exposure"].values,
        (expo + ds["exposure_background"]).transpose(*ds["exposure"].dims).values,
        rtol=1e-12,
    )


def test_run_removes_the_local_part_of_a_ctm_field(tmp_path, constant_field_run):
    """End to end: a field = R + the run's own coarse-cell local means, local_fraction 1:
    the written background is R interpolated (bilinear), for the dispersed pollutants."""
    ctx, _, spy = constant_field_run
    plan = ctx.regional
    year = YEARS[-1]
    known = {
        p: 5.0 + 0.1 * np.add.outer(np.arange(plan.coarse.ny), np.arange(plan.coarse.nx))
        for p in ctx.dispersed
    }
    values = {}
    for p in ctx.output_pollutants:
        per_year = []
        for y in YEARS:
            # no local part for NO2 (from NOx's) nor for a species deposited at its source
            local = next((s[2] for s in spy if s[0] == y and s[1] == p), None)
            base = known["NOx" if p == "NO2" else p]
            per_year.append(base if local is None else base + plan.local_mean(local))
        values[p] = np.stack(per_year)
    # the field covers exactly the cells the plan cut; write it on that grid
    nc = write_field(tmp_path / "ctm.nc", values, plan.coarse)
    entry = f'{{ path = "{nc}", format = "field", variables = {variables(values)} }}'
    ctx2, out = run_years(small_config(tmp_path, entry))
    ds = out[year]
    mask = ctx2.mask
    removed = {s[1] for s in spy}
    assert "NOx" in removed and "UFP" in removed  # a mass and a particle-number species
    for p in sorted(removed):
        on_mass = p in ds["pollutant"].values
        key = {"pollutant": p} if on_mass else {"pollutant_number": p}
        suffix = "" if on_mass else "_number"
        want = plan.on_grid(known[p])
        got = ds[f"background{suffix}"].sel(year=year, **key).values
        np.testing.assert_allclose(got[mask], want[mask].astype(np.float32), rtol=1e-6)
        assert float(ds[f"background_clipped_share{suffix}"].sel(year=year, **key)) == 0.0


# ------------------------------------------------------------------ change split
def _split(ctx):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        return P.decompose_change(ctx, *YEARS)


def test_change_split_with_a_constant_field_equals_the_scalar_split(scalar_run, constant_field_run):
    """A constant field equal to the scalar background (its local part kept): the split of
    the change into emission, meteorology and background effects is the scalar one."""
    want = _split(scalar_run[0])
    got = _split(constant_field_run[0])
    assert set(got.data_vars) == set(want.data_vars)
    for name in want.data_vars:
        np.testing.assert_allclose(
            got[name].values, want[name].values, rtol=1e-10, atol=1e-12, err_msg=name
        )
    assert np.abs(want["change_background"].values).max() > 0  # the years' scalars differ


@pytest.fixture(scope="module")
def ctm_field_run(tmp_path_factory, constant_field_run):
    """A field = a known regional part, different in each year, + the run's own coarse-cell
    local means (local_fraction 1): the background maps are the known part interpolated."""
    ctx, _, spy = constant_field_run
    plan = ctx.regional
    ny, nx = plan.coarse.shape
    values = {}
    for p in ctx.output_pollutants:
        per_year = []
        for k, y in enumerate(YEARS):
            known = (5.0 + 3.0 * k) + (0.1 + 0.05 * k) * np.add.outer(np.arange(ny), np.arange(nx))
            local = next((s[2] for s in spy if s[0] == y and s[1] == p), None)
            per_year.append(known if local is None else known + plan.local_mean(local))
        values[p] = np.stack(per_year)
    tmp = tmp_path_factory.mktemp("ctm")
    nc = write_field(tmp / "ctm.nc", values, plan.coarse)
    entry = f'{{ path = "{nc}", format = "field", variables = {variables(values)} }}'
    return run_years(small_config(tmp, entry))


def test_change_split_with_a_field_background_adds_up(ctm_field_run):
    """Emission + meteorology + background effects = the change the run computes, and the
    background effect is the change of the regional part the run wrote (linear species)."""
    ctx, years = ctm_field_run
    ch = _split(ctx)
    effects = (
        ch["change_emission"].sel(sector="all")
        + ch["change_meteorology"].sel(sector="all")
        + ch["change_background"]
    )
    np.testing.assert_allclose(effects.values, ch["change_total"].values, rtol=1e-12, atol=1e-12)
    a, b = (years[y] for y in YEARS)
    direct = b["territory_concentration"].isel(year=0) - a["territory_concentration"].isel(year=0)
    # NO2 goes through the maps (single-precision FFT) in compute_year
    np.testing.assert_allclose(
        ch["change_total"].sel(pollutant=["NOx", "NO2", "PM10"]).values,
        direct.sel(pollutant=["NOx", "NO2", "PM10"]).transpose("receptor", "pollutant").values,
        rtol=2e-5,
    )
    bg = b["territory_background"].isel(year=0) - a["territory_background"].isel(year=0)
    for p in ("NOx", "PM10", "SO2"):
        np.testing.assert_allclose(
            ch["change_background"].sel(pollutant=p).values,
            bg.sel(pollutant=p).values,
            rtol=1e-6,
            err_msg=p,
        )
        assert (ch["change_background"].sel(pollutant=p).values > 2.0).all()  # 5 -> 8 + slope
    # NO2's background effect is that of a field too (not the scalar's)
    assert (ch["change_background"].sel(pollutant="NO2").values > 1.0).all()


# -------------------------------------------------------------------------- CRS, units
def test_same_field_in_lonlat_and_lambert93_gives_the_same_background():
    """f(x, y) linear in Lambert-93, on a 2 km L93 grid and on a 0.02 degree grid: the
    background on a 100 m grid agrees to the interpolation precision."""
    fine = Grid.from_bounds(680_000, 6_900_000, 690_000, 6_908_000, 100)
    l93 = Grid.from_bounds(670_000, 6_890_000, 700_000, 6_918_000, 2000)
    to_l93 = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)

    def f(x, y):
        return 12.0 + 2e-4 * (x - 680_000) - 1e-4 * (y - 6_900_000)

    lon = np.arange(2.60, 3.00, 0.02)
    lat = np.arange(49.10, 49.36, 0.02)[::-1]
    glon, glat = np.meshgrid(lon, lat)
    xs, ys = to_l93.transform(glon, glat)
    ll = Grid.from_coords(lon, lat, "EPSG:4326")
    xx, yy = np.meshgrid(l93.x, l93.y)
    local = np.full(fine.shape, 2.0)
    out = []
    for grid, values in ((l93, f(xx, yy)), (ll, f(xs, ys))):
        da = xr.DataArray(
            values[None, None],
            dims=("year", "pollutant", "y", "x"),
            coords={"year": [2019], "pollutant": ["PM10"], **grid.coords()},
            attrs={"crs": grid.crs.to_string()},
        )
        plan = RegionalBackground(da, fine)
        coarse, _ = plan.remove_local_part(2019, "PM10", local)
        out.append(plan.on_grid(coarse))
    fx, fy = np.meshgrid(fine.x, fine.y)
    np.testing.assert_allclose(out[0], f(fx, fy) - 2.0, rtol=1e-12)  # bilinear: exact
    np.testing.assert_allclose(out[1], out[0], rtol=1e-5)  # measured 5.5e-7


def test_bilinear_weights_sum_to_one_and_hold_the_edges():
    coarse = Grid.from_bounds(700_000, 6_900_000, 704_000, 6_903_000, 1000)
    fine = Grid.from_bounds(700_000, 6_900_000, 704_000, 6_903_000, 100)
    w = bilinear_weights(coarse, fine)
    np.testing.assert_allclose(np.asarray(w.sum(axis=1)).ravel(), 1.0, rtol=1e-15)
    field = np.add.outer(np.arange(3.0), 10 * np.arange(4.0))
    out = (w @ field.ravel()).reshape(fine.shape)
    assert out[0, 0] == field[0, 0] and out[-1, -1] == field[-1, -1]


def test_ppb_are_converted_with_the_molar_mass(tmp_path):
    nc = write_field(tmp_path / "ppb.nc", {"NO2": np.full(COARSE.shape, 10.0)}, COARSE, units="ppb")
    da = read_background_field(nc, variables={"NO2": "conc_NO2"})
    assert da.attrs["units"] == "ug m-3"
    np.testing.assert_allclose(da.values, 10.0 * 46.0055 * 101_325 / (8.314462618 * 293.15) * 1e-3)
    assert mixing_ratio_factor("ppb", 46.0055) == pytest.approx(1.9125, abs=1e-4)
    nc2 = write_field(tmp_path / "pm.nc", {"PM10": np.full(COARSE.shape, 1.0)}, COARSE, units="ppb")
    with pytest.raises(UnitsError, match=r"pm.nc.*'conc_PM10'.*molar mass"):
        read_background_field(nc2, variables={"PM10": "conc_PM10"})


def test_kg_m3_and_monthly_means_weighted_by_days(tmp_path):
    time = pd.date_range("2019-01-01", "2019-12-01", freq="MS")
    v = np.where(time.month == 2, 1e-8, 2e-8)[:, None, None] * np.ones((1, *COARSE.shape))
    ds = xr.Dataset(
        {"pm": (("time", "y", "x"), v, {"units": "kg m-3", "grid_mapping": "crs"})},
        coords={"time": time, "y": COARSE.y, "x": COARSE.x},
    )
    ds["crs"] = xr.DataArray(0, attrs={"spatial_ref": "EPSG:2154"})
    ds.to_netcdf(tmp_path / "m.nc")
    da = read_background_field(tmp_path / "m.nc", variables={"pm25": "pm"})
    assert list(da["pollutant"].values) == ["PM2.5"]
    np.testing.assert_allclose(float(da.max()), (28 * 10 + 337 * 20) / 365)


# ------------------------------------------------------------------------ bad inputs
def test_field_without_crs_is_one_clear_line(tmp_path):
    nc = write_field(tmp_path / "nocrs.nc", {"NO2": np.ones(COARSE.shape)}, COARSE, crs=False)
    with pytest.raises(
        InputError, match=r"nocrs.nc.*'conc_NO2'.*no CRS.*\[inputs.background\] crs"
    ):
        read_background_field(nc, variables={"NO2": "conc_NO2"})
    da = read_background_field(nc, variables={"NO2": "conc_NO2"}, crs="EPSG:2154")
    assert pyproj.CRS(da.attrs["crs"]).to_epsg() == 2154


def test_missing_variable_is_one_clear_line(tmp_path):
    nc = write_field(tmp_path / "ctm.nc", {"NO2": np.ones(COARSE.shape)}, COARSE)
    with pytest.raises(
        InputError,
        match=r"ctm.nc.*no variable 'no2'.*\['conc_NO2'.*\[inputs.background\] variables.NO2",
    ):
        read_background_field(nc, variables={"NO2": "no2"})


def test_years_not_covered_is_one_clear_line(tmp_path):
    nc = write_field(tmp_path / "ctm.nc", {"NO2": np.ones(COARSE.shape)}, COARSE)
    with pytest.raises(
        InputError, match=r"ctm.nc.*'conc_NO2'.*years \[2019, 2020\].*\[inputs.background\] years"
    ):
        read_background_field(nc, variables={"NO2": "conc_NO2"}, years="2017:2020")


def test_run_years_not_covered_by_the_field_is_an_error(tmp_path, scalar_run):
    ctx, _ = scalar_run
    values = {p: np.ones((len(YEARS), *COARSE.shape)) for p in ctx.output_pollutants}
    nc = write_field(tmp_path / "ctm.nc", values, COARSE)
    entry = f'{{ path = "{nc}", format = "field", variables = {variables(values)} }}'
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        with pytest.raises(
            InputError,
            match=r"ctm.nc \(\[inputs\] background\): no background for years \[2019\].*conc_NOx.*\[inputs.background\] years",
        ):
            P.prepare(load_config(small_config(tmp_path, entry, last_year=2019)))


def test_field_not_covering_the_grid_is_an_error(tmp_path):
    small = Grid.from_bounds(700_000, 6_900_000, 704_000, 6_904_000, 2000)
    nc = write_field(tmp_path / "ctm.nc", {"PM10": np.ones((len(YEARS), *small.shape))}, small)
    field = read_background_field(nc, variables={"PM10": "conc_PM10"})
    with pytest.raises(InputError, match=r"ctm.nc.*does not cover the run grid"):
        RegionalBackground(field, COARSE)


def test_cli_run_writes_the_field_background(tmp_path, scalar_run):
    """``trajectoire run`` with a field: the file holds the maps and the receptor terms."""
    from trajectoire.cli import main

    ctx, _ = scalar_run
    values = {p: np.full((len(YEARS), *COARSE.shape), 9.0) for p in ctx.output_pollutants}
    nc = write_field(tmp_path / "ctm.nc", values, COARSE)
    entry = f'{{ path = "{nc}", format = "field", variables = {variables(values)} }}'
    cfg = small_config(tmp_path, entry)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        assert main(["run", str(cfg), "--out", str(tmp_path / "out.nc")]) == 0
    with xr.open_dataset(tmp_path / "out.nc") as ds:
        assert ds["background"].dims == ("year", "pollutant", "y", "x")
        for name in ("territory_background", "exposure_background", "station_background"):
            assert name in ds and float(ds[name].max()) <= 9.0 + 1e-6
        assert float(ds["background"].sel(pollutant="PM10").min()) < 9.0  # local part removed


def test_background_table_in_ppb_for_a_gas_is_converted(tmp_path: Path) -> None:
    """A background table of NO2 and SO2 in ppb (as many networks give them) is read as
    ug m-3 with each gas's molar mass at 293.15 K, 101.325 kPa (1 ppb NO2 = 1.9125 ug m-3),
    the same factor as the fields; a particle species in ppb is named with its line."""
    from trajectoire.dispersion.background import read_background

    path = tmp_path / "bg.csv"
    path.write_text(
        "year,pollutant,value,units\n2019,NO2,10,ppb\n2019,SO2,2,ppb\n2019,PM10,15,ug m-3\n"
    )
    bg = read_background(path)
    no2 = float(bg.sel(year=2019, pollutant="NO2"))
    so2 = float(bg.sel(year=2019, pollutant="SO2"))
    assert no2 == pytest.approx(10 * mixing_ratio_factor("ppb", 46.0055), rel=1e-12)
    assert no2 == pytest.approx(19.125, abs=5e-4)
    assert so2 == pytest.approx(2 * 64.066 * 101325 / (8.314462618 * 293.15) * 1e-3, rel=1e-6)
    assert float(bg.sel(year=2019, pollutant="PM10")) == 15.0
    path.write_text("year,pollutant,value,units\n2019,NO2,10,ppb\n2019,PM10,15,ppb\n")
    with pytest.raises(UnitsError, match=r"bg.csv \(\[inputs\] background\), line 3, pollutant "):
        read_background(path)
