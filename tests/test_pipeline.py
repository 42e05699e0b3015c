"""The concentration chain on a small run of the bundled sample (issue 6).

ACSO and ARC (Oise) on a 250 m grid, a 5 km kernel radius and three years keep it fast; the
checks are the invariants of the attribution: contributions add up, receptor aggregates
computed by adjoint agree with the maps, exposure is the population-weighted mean, the split
of a change between two years is exact.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import dask
import numpy as np
import pytest
import xarray as xr

from trajectoire import InputError, TrajectoireWarning, UnitsError
from trajectoire import pipeline as P
from trajectoire.config import load_config

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample"
YEARS = (2016, 2017, 2018)
LINEAR = ["NOx", "PM10", "PM2.5", "SO2", "NH3", "NMVOC"]
REGULATED = ["NOx", "NO2", "PM10", "PM2.5", "SO2", "NH3", "NMVOC"]


def small_config(tmp: Path, **over: str) -> Path:
    """The sample configuration shrunk to two territories, 250 m and three years, with the
    regulated pollutants only and no deposition (the emerging species of the sample have
    their own tests, tests/test_run_emerging.py, which put them back through `over`)."""
    text = (SAMPLE / "config.toml").read_text()
    text = re.sub(
        r'^(\w+) = "([\w.]+\.(?:gpkg|csv|gz|tif))"',
        lambda m: f'{m[1]} = "{SAMPLE / m[2]}"',
        text,
        flags=re.M,
    )
    repl = {
        r"^first_year = \d+": f"first_year = {YEARS[0]}",
        r"^last_year = \d+": f"last_year = {YEARS[-1]}",
        r"^resolution = [\d.]+": "resolution = 250.0",
        r"^territories = \[.*\]": 'territories = ["ACSO", "ARC"]',
        r"^radius = [\d.]+": "radius = 5000.0",
        r"^map_years = \[.*\]": "map_years = [2018]",
        r"^pollutants = \[.*\]": f"pollutants = {REGULATED!r}".replace("'", '"'),
        r"^dry_deposition = .*\n": "",
    }
    repl.update(over)
    for pat, new in repl.items():
        text, n = re.subn(pat, new, text, flags=re.M)
        assert n == 1, pat
    path = tmp / "config.toml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    cfg = load_config(small_config(tmp_path_factory.mktemp("small")))
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore", TrajectoireWarning
        )  # zones and stacks outside the small grid
        ctx = P.prepare(cfg)
        years = {y: P.compute_year(ctx, y) for y in YEARS}
    return ctx, years


def _masked(da):
    return np.asarray(da.values, dtype=float)


def test_contributions_add_up_to_the_concentration(run):
    ctx, years = run
    ds = years[2018]
    assert "contribution" in ds and "contribution" not in years[2017]
    for pol in ctx.output_pollutants:
        total = _masked(ds["concentration"].sel(pollutant=pol, year=2018))
        parts = _masked(ds["contribution"].sel(pollutant=pol, year=2018)).sum(axis=0)
        bg = float(ds["background"].sel(pollutant=pol, year=2018))
        ok = np.isfinite(total)
        assert ok.sum() > 100
        np.testing.assert_allclose(parts[ok] + bg, total[ok], rtol=1e-6, err_msg=pol)


def test_territory_aggregates_agree_with_the_maps(run):
    """Aggregates by adjoint (float64) == means of the maps (single-precision FFT)."""
    ctx, years = run
    for year, ds in years.items():
        for it, terr in enumerate(ctx.territories):
            frac = ctx.fractions[it]
            for pol in ctx.output_pollutants:
                conc = _masked(ds["concentration"].sel(pollutant=pol, year=year))
                mean_map = np.nansum(conc * frac) / frac.sum()
                agg = float(
                    ds["territory_concentration"].sel(receptor=terr, pollutant=pol, year=year)
                )
                assert agg == pytest.approx(mean_map, rel=2e-5), (year, terr, pol)
                parts = ds["territory_contribution"].sel(receptor=terr, pollutant=pol, year=year)
                bg = float(ds["background"].sel(pollutant=pol, year=year))
                assert float(parts.sum()) + bg == pytest.approx(agg, rel=1e-12)


def test_exposure_is_the_population_weighted_mean(run):
    """Weighted by each territory's own inhabitants per cell (zones cut by territories)."""
    ctx, years = run
    ds = years[2017]
    assert ctx.inhabitants is not None
    own = ctx.inhabitants.at(2017)
    for it, terr in enumerate(ctx.territories):
        w = own.getrow(it).toarray().reshape(ctx.grid.shape)
        for pol in ("NO2", "PM2.5"):
            conc = _masked(ds["concentration"].sel(pollutant=pol, year=2017))
            ref = np.nansum(conc * w) / w.sum()
            got = float(ds["exposure"].sel(territory=terr, pollutant=pol, year=2017))
            assert got == pytest.approx(ref, rel=2e-5)


def test_exposure_quantiles_and_counts_come_from_the_maps(run):
    """exposure_quantile and inhabitants_above: the territory's own inhabitants, the map."""
    from trajectoire.assess.exposure import (
        DEFAULT_QUANTILES,
        exposure_distribution,
        inhabitants_above,
    )

    ctx, years = run
    ds = years[2017]
    own = ctx.inhabitants.at(2017)
    q = ds["exposure_quantile"].sel(year=2017)
    assert q.attrs["units"] == "ug m-3"
    assert tuple(q["quantile"].values) == DEFAULT_QUANTILES
    assert bool((q.diff("quantile") >= 0).all())
    above = ds["inhabitants_above"].sel(year=2017)
    assert bool((above.fillna(0) <= ds["population_total"].sel(year=2017) * (1 + 1e-9)).all())
    thr = ds["exposure_threshold"]
    assert float(thr.sel(threshold="WHO2021", pollutant="NO2")) == 10.0
    assert bool(above.sel(pollutant="NOx").isnull().all())  # no reference value for NOx
    for it, terr in enumerate(ctx.territories):
        w = own.getrow(it).toarray().reshape(-1)
        for pol in ("NO2", "PM2.5"):
            conc = _masked(ds["concentration"].sel(pollutant=pol, year=2017)).reshape(-1)
            ref = exposure_distribution(conc, w, q["quantile"].values)
            np.testing.assert_allclose(q.sel(territory=terr, pollutant=pol), ref, rtol=1e-6)
            t = thr.sel(pollutant=pol).values
            near = np.array([w[np.abs(conc - ti) < 1e-4].sum() for ti in t])
            got = above.sel(territory=terr, pollutant=pol).values
            assert np.all(np.abs(got - inhabitants_above(conc, w, t)) <= near + 1e-6)


def test_station_values_are_the_map_values(run):
    ctx, years = run
    ds = years[2018]
    if "station" not in ds.dims:
        pytest.skip("no station inside the small grid")
    for ist, st in ctx.stations.iterrows():
        for pol in ("NOx", "PM10"):
            cell = float(
                ds["concentration"]
                .sel(pollutant=pol, year=2018)
                .values[int(st["row"]), int(st["col"])]
            )
            got = float(ds["station_concentration"].sel(pollutant=pol, year=2018).isel(station=ist))
            if np.isfinite(cell):
                assert got == pytest.approx(cell, rel=2e-5)


def test_source_receptor_rows_add_up_to_the_local_part(run):
    from trajectoire.attribution import source_receptor_matrix

    ctx, years = run
    ds = years[2016]
    sr = source_receptor_matrix(ds["territory_contribution"])
    local = ds["territory_concentration"] - ds["background"]
    np.testing.assert_allclose(sr.sum("origin").values, local.values, rtol=1e-12)
    # the two Oise territories influence each other, and far territories contribute nothing
    assert float(sr.sel(receptor="ACSO", origin="ACSO", pollutant="NOx", year=2016)) > 0


def test_year_by_year_equals_all_at_once_and_dask(run):
    ctx, years = run
    again = P.compute_year(ctx, 2017)
    xr.testing.assert_identical(again.drop_attrs(), years[2017].drop_attrs())
    lazy = [dask.delayed(P.compute_year)(ctx, y) for y in YEARS]
    with dask.config.set(scheduler="threads", num_workers=2):
        computed = dask.compute(*lazy)
    for y, ds in zip(YEARS, computed, strict=True):
        for v in ("territory_contribution", "exposure_contribution", "concentration"):
            np.testing.assert_array_equal(ds[v].values, years[y][v].values)


def test_years_given_as_text_or_not_whole_are_read_or_named(run):
    """``decompose_change(ctx, "2016", "2018")`` said "year 2016 is not in the run
    (2016..2018)"; a year such as 2016.5 is named."""
    ctx, _ = run
    ch = P.decompose_change(ctx, "2016", 2018.0)
    assert np.isfinite(ch["change_total"].values).all()
    with pytest.raises(InputError, match=r"decompose_change: year0=2016.5 \(float\): expected"):
        P.decompose_change(ctx, 2016.5, 2018)
    with pytest.raises(InputError, match=r"year=\[2017\] \(list\): expected one whole year"):
        P.compute_year(ctx, [2017])


def test_change_between_two_years_adds_up_exactly(run):
    ctx, years = run
    ch = P.decompose_change(ctx, 2016, 2018)
    effects = (
        ch["change_emission"].sel(sector="all")
        + ch["change_meteorology"].sel(sector="all")
        + ch["change_background"]
    )
    np.testing.assert_allclose(effects.values, ch["change_total"].values, rtol=1e-12, atol=1e-12)
    direct = years[2018]["territory_concentration"].isel(year=0) - years[2016][
        "territory_concentration"
    ].isel(year=0)
    # NO2 goes through the maps (single-precision FFT) here and the adjoints in compute_year
    np.testing.assert_allclose(
        ch["change_total"].values, direct.transpose("receptor", "pollutant").values, rtol=2e-5
    )
    # per-sector effects add up to the "all" entry for the linear pollutants
    per_sector = ch["change_emission"].sel(pollutant=LINEAR).drop_sel(sector="all").sum("sector")
    np.testing.assert_allclose(
        per_sector.values,
        ch["change_emission"].sel(sector="all", pollutant=LINEAR).values,
        rtol=1e-12,
        atol=1e-14,
    )


def test_year_outside_the_run_is_an_error(run):
    ctx, _ = run
    with pytest.raises(InputError, match="not in the run"):
        P.compute_year(ctx, 1970)


def test_meteorology_missing_years_is_an_error(tmp_path):
    path = small_config(tmp_path, **{r"^last_year = \d+": "last_year = 2025"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        with pytest.raises(InputError, match="no meteorology for years"):
            P.prepare(load_config(path))


def test_background_with_wrong_units_is_an_error(tmp_path):
    from trajectoire.background import read_background

    f = tmp_path / "bg.csv"
    f.write_text("year,pollutant,value,units\n2018,NOx,10,dB\n")
    with pytest.raises(UnitsError, match="'dB' are not a known concentration"):
        read_background(f)
    f.write_text("year,pollutant,value,units\n2018,PM10,10,ppb\n")  # a mixing ratio of particles
    with pytest.raises(UnitsError, match="ppb.*no molar mass"):
        read_background(f)


def test_sample_inventory_follows_the_real_national_trend(shared_data, tmp_path):
    """Issue 4: the sample's 2018 reference inventory, rebuilt 1990-2013 with the real
    2016-vintage Eurostat series (France, env_air_emis, mapped to GNFR), reproduces each
    sector's relative trend 1990 -> 2013. The series ends in 2013, so the index at the
    reference year 2018 comes from bounded multiplicative extrapolation; the ratio
    E(1990)/E(2013) is the series' own. Stacks follow the index here (no register)."""
    from trajectoire.inventory import build_inventory, read_zones
    from trajectoire.territories import load_territories, regional_grid
    from trajectoire.trajectory import rebuild
    from trajectoire.trends import Method, read_eurostat_air_emissions

    idx = read_eurostat_air_emissions(
        shared_data / "emission_trends" / "france_trends.csv",
        vintage="EUROSTAT_ENV_AIR_EMIS_SNAP2016",
    )
    terr = load_territories(SAMPLE / "territories.gpkg")
    grid = regional_grid(terr, ["ACSO"], resolution=500.0, buffer=2000.0)
    pols = LINEAR
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        ref = build_inventory(
            grid,
            reference_year=2018,
            point_sources=SAMPLE / "point_sources.csv",
            roads=SAMPLE / "roads.gpkg",
            road_emission_factors=SAMPLE / "road_emission_factors.csv",
            area_totals=SAMPLE / "area_emissions.csv",
            zones=read_zones(SAMPLE / "zones.gpkg"),
            landuse=SAMPLE / "landuse.tif",
            pollutants=pols,
            others="drop",  # the sample also holds the emerging species
        )
    # sectors whose series is positive at its end (M_Other is all zeros in this vintage)
    last = idx[idx["year"] == 2013].groupby("sector")["value"].min()
    covered = set(last[last > 0].index)
    gridded = ref["emission"].sum(("y", "x"))
    sectors = [
        str(s)
        for s in ref["sector"].values
        if str(s) in covered and float(gridded.sel(sector=s).sum()) > 0
    ]
    # NH3 of the residential sector is 0 in this Eurostat vintage (no ratio to it): left out
    pols = ["NOx", "PM10", "PM2.5", "SO2", "NMVOC"]
    ref = ref.sel(sector=sectors, pollutant=pols)
    ref = ref.isel(source=np.isin(ref["source_sector"].values, sectors))
    methods = {}
    for s in sectors:
        for p in pols:
            tail = idx[(idx["sector"] == s) & (idx["pollutant"] == p) & (idx["year"] >= 2008)]
            positive = bool((tail["value"] > 0).all())
            methods[(s, p)] = Method(
                "extrapolation", trend="multiplicative" if positive else "linear"
            )
    out = rebuild(ref, idx, range(1990, 2014), methods=methods)
    stacks = out["point_emission"].groupby(out["source_sector"].rename("sector")).sum()
    totals = out["emission"].sum(("y", "x")) + stacks.reindex(sector=sectors, fill_value=0.0)
    checked = 0
    for s in sectors:
        for p in pols:
            series = idx[(idx["sector"] == s) & (idx["pollutant"] == p)].set_index("year")["value"]
            series = series.loc[1990:2013].to_numpy(float)
            tot = totals.sel(sector=s, pollutant=p).values
            if tot[-1] <= 0 or series[-1] <= 0:
                continue
            np.testing.assert_allclose(
                tot / tot[-1], series / series[-1], rtol=1e-9, err_msg=f"{s} {p}"
            )
            checked += 1
    assert checked >= 10


def test_accessor_answers_from_a_year(run, tmp_path):
    """ds.trajectoire: grid, checked maps, territory matrix and shares that add up."""
    import rasterio

    import trajectoire  # noqa: F401  (registers the accessor)
    from trajectoire import InputError

    ctx, years = run
    ds = years[2018]  # the map year of the small configuration
    acc = ds.trajectoire
    assert acc.grid.same_as(ctx.grid)
    m = acc.map("contribution", year=2018, pollutant="nox", sector="F_RoadTransport")
    assert m.dims == ("y", "x") and m.attrs["units"] == "ug m-3"
    np.testing.assert_array_equal(
        m.values, ds["contribution"].sel(year=2018, pollutant="NOx", sector="F_RoadTransport")
    )
    with pytest.raises(InputError, match="pollutant 'UFP' not in"):
        acc.map(year=2018, pollutant="UFP")
    with pytest.raises(InputError, match="year 1990 not in"):
        acc.map(year=1990, pollutant="NOx")
    # rows of the territory matrix + background = territory means (area and population)
    for weighting, total in (("area", "territory_concentration"), ("population", "exposure")):
        sr = acc.source_receptor(pollutant="NOx", weighting=weighting)
        assert set(sr.dims) == {"year", "receptor", "origin"}
        mean = ds[total].sel(pollutant="NOx")
        if "territory" in mean.dims:
            mean = mean.rename(territory="receptor")
        bg = ds["background"].sel(pollutant="NOx")
        np.testing.assert_allclose(sr.sum("origin") + bg, mean, rtol=1e-5)
        shares = acc.sector_shares(pollutant="NOx", weighting=weighting)
        assert str(shares["sector"].values[-1]) == "background"
        np.testing.assert_allclose(shares.sum("sector"), 1.0, rtol=1e-6)
        got, want = xr.broadcast(shares.sel(sector="background") * mean, bg)
        np.testing.assert_allclose(got.values, want.transpose(*got.dims).values, rtol=1e-5)
    with pytest.raises(InputError, match="weighting"):
        acc.sector_shares(weighting="volume")
    tif = acc.to_geotiff(tmp_path / "no2.tif", year=2018, pollutant="NO2")
    with rasterio.open(tif) as src:
        assert src.crs.to_epsg() == 2154
        np.testing.assert_array_equal(
            src.read(1), ds["concentration"].sel(year=2018, pollutant="NO2").values
        )


def test_map_years_attribute_is_integers(run):
    ctx, _ = run
    maps = P.global_attributes(ctx)["map_years"]
    assert maps.dtype == np.int32 and maps.tolist() == [2018]


def test_default_map_years_are_every_fifth_year_and_the_last(tmp_path):
    """An empty ``[attribution] map_years``: maps every fifth year of the run and its last."""
    cfg = load_config(
        small_config(
            tmp_path,
            **{
                r"^map_years = \[.*\]": "map_years = []",
                r"^first_year = \d+": "first_year = 1993",
            },
        )
    )
    assert P._map_years(cfg, list(range(1993, 2019))) == {1995, 2000, 2005, 2010, 2015, 2018}


def test_register_notes_summarised_by_pair_with_their_years(caplog):
    """The trajectory's per-pair messages (stacks that the sector's series cannot absorb)
    are one warning that counts the pairs and their (sector, pollutant, year) totals and
    names the pairs; each pair's message goes to the debug log. Its other warnings (stacks
    out of service with register figures) are not summarised away."""
    from trajectoire.batch.pipeline import _summarise_register_notes
    from trajectoire.trajectory.backcast import _warn_unreconciled

    short = np.zeros((4, 2, 3), dtype=bool)  # (year, sector, pollutant)
    short[:, 0, 1] = True  # A NOx in 4 years
    short[1:3, 1, 2] = True  # D SO2 in 2 years
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _warn_unreconciled(short, [1990, 1991, 1992, 1993], ["A_PublicPower", "D_Fugitive"],
                           ["PM10", "NOx", "SO2"])  # fmt: skip
        warnings.warn(
            "point_history: register figures ... are ignored", TrajectoireWarning, stacklevel=1
        )
    assert len(caught) == 3
    with caplog.at_level("DEBUG", logger="trajectoire"):
        with pytest.warns(TrajectoireWarning) as said:
            _summarise_register_notes(caught)
    other, one = said  # another warning of the trajectory is passed on as it was
    assert str(other.message) == "point_history: register figures ... are ignored"
    text = str(one.message)
    assert "6 (sector, pollutant, year) totals of 2 (sector, pollutant) pair(s)" in text
    assert "A_PublicPower NOx" in text and "D_Fugitive SO2" in text
    assert sum("in 4 year(s) (1990, 1991, 1992, 1993)" in r.message for r in caplog.records) == 1
