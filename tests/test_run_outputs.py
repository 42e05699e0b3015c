"""What a real run writes beyond the maps (issue 16): the evaluation table at the stations.

A small run of the bundled sample (ACSO and ARC, 250 m, a 5 km kernel, two years) through
the runner, as ``trajectoire run`` does it, then ``trajectoire info`` on its output.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr

from test_pipeline import SAMPLE, small_config
from trajectoire import TrajectoireWarning
from trajectoire.assess.evaluation import EVALUATION_STATISTICS, evaluate, mqi, mqi_network
from trajectoire.batch.runner import run as run_chain
from trajectoire.cli import main

YEARS = (2017, 2018)


@pytest.fixture(scope="module")
def output(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("run")
    cfg = small_config(tmp, **{r"^first_year = \d+": f"first_year = {YEARS[0]}"})
    out = tmp / "out.nc"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)  # zones outside the small grid
        run_chain(cfg, out, progress=False)
    ds = xr.open_dataset(out)
    yield out, ds
    ds.close()


def test_output_holds_the_evaluation_table(output):
    _, ds = output
    ev = ds["evaluation"]
    assert ev.dims == ("year", "pollutant", "statistic")
    assert [str(s) for s in ev["statistic"].values] == list(EVALUATION_STATISTICS)
    assert ds["station_mqi"].dims == ("year", "station", "pollutant")
    obs, mod = ds["station_observation"], ds["station_concentration"]
    checked = 0
    for pol in ("NO2", "PM10"):
        for year in YEARS:
            o, m = obs.sel(pollutant=pol, year=year), mod.sel(pollutant=pol, year=year)
            both = o.notnull() & m.notnull()
            row = ev.sel(pollutant=pol, year=year)
            assert int(row.sel(statistic="n")) == int(both.sum())
            if int(both.sum()) < 1:
                continue
            ref = evaluate(m.where(both), o.where(both), dim="station")
            for stat in ("fb", "nmse", "fac2", "mean_observed", "bias"):
                assert float(row.sel(statistic=stat)) == pytest.approx(
                    float(ref[stat]), rel=1e-5, nan_ok=True
                ), (pol, year, stat)
            per = mqi(m.where(both), o.where(both), pollutant=pol, kind="annual")
            p90 = float(mqi_network(per["mqi"]).mqi_percentile)
            assert float(row.sel(statistic="mqi_p90")) == pytest.approx(p90, rel=1e-5)
            np.testing.assert_allclose(
                ds["station_mqi"].sel(pollutant=pol, year=year), per["mqi"], rtol=1e-5
            )
            checked += 1
    assert checked >= 2
    # no FAIRMODE parameters for NOx: no MQI
    assert bool(ev.sel(pollutant="NOx", statistic="mqi_p90").isnull().all())


def test_info_prints_the_evaluation(output, capsys):
    out, _ = output
    assert main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "evaluation at the stations" in text
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("NO2 ") and "MQI90" in ln)
    assert "FB" in line and "FAC2" in line


def _zones_on_grid(ds, year):
    """Σ over the zones of pop_<year> × the share of the zone's area inside the grid."""
    import geopandas as gpd
    import shapely

    zones = gpd.read_file(SAMPLE / "zones.gpkg")
    res = float(ds["x"][1] - ds["x"][0])
    box = shapely.box(
        float(ds["x"].min()) - res / 2,
        float(ds["y"].min()) - res / 2,
        float(ds["x"].max()) + res / 2,
        float(ds["y"].max()) + res / 2,
    )
    share = zones.geometry.intersection(box).area / zones.geometry.area
    return float((zones[f"pop_{year}"] * share).sum())


def test_population_per_year_is_mass_conserving_and_interpolated(output):
    """population(year, y, x): sums to the zones' population on the grid, linear between
    the censuses 2013 and 2019 of the sample."""
    _, ds = output
    pop = ds["population"]
    assert pop.dims == ("year", "y", "x") and pop.attrs["units"] == "1"
    assert pop.attrs["long_name"] and pop.encoding["dtype"] == np.float32
    assert "significant_digits" not in pop.encoding
    c13, c19 = _zones_on_grid(ds, 2013), _zones_on_grid(ds, 2019)
    for year in YEARS:
        expected = c13 + (year - 2013) / 6 * (c19 - c13)
        total = float(pop.sel(year=year).sum(dtype=np.float64))
        assert total == pytest.approx(expected, rel=1e-5), year
        # the zones' own inhabitants, cut by the territories, are part of the grid's
        assert float(ds["population_total"].sel(year=year).sum()) <= total * (1 + 1e-6)
    # cell by cell: linear between the census grids
    import geopandas as gpd

    from trajectoire.geo.grid import Grid
    from trajectoire.inventory.population import census_population

    grid = Grid.from_coords(ds["x"].values, ds["y"].values, "EPSG:2154")
    census = census_population(gpd.read_file(SAMPLE / "zones.gpkg"), grid).sel(census=[2013, 2019])
    ref = census.values[0] + (2018 - 2013) / 6 * (census.values[1] - census.values[0])
    np.testing.assert_allclose(pop.sel(year=2018).values, ref, rtol=1e-6, atol=1e-4)


def test_exposure_inside_and_outside_the_priority_neighbourhoods(output):
    """[inputs] exposure_zones (the sample's synthetic QPV): inside + outside = the
    territory's inhabitants; the two means weigh up to the territory's exposure."""
    _, ds = output
    n = ds["zone_inhabitants"]
    assert n.dims == ("year", "territory", "zone")
    assert [str(z) for z in n["zone"].values] == ["inside", "outside"]
    np.testing.assert_allclose(n.sum("zone"), ds["population_total"], rtol=1e-6)
    assert float(n.sel(territory="ACSO", zone="inside").min()) > 1000  # two QPV in ACSO
    assert float(n.sel(territory="ARC", zone="inside").max()) == 0.0  # none in ARC
    mean = ds["zone_exposure"]
    weighted = (mean * n).sum("zone") / n.sum("zone")
    acso = weighted.sel(territory="ACSO")
    np.testing.assert_allclose(acso, ds["exposure"].sel(territory="ACSO"), rtol=1e-5)
    above = ds["zone_inhabitants_above"].sel(territory="ACSO")
    np.testing.assert_allclose(
        above.sum("zone", skipna=False),
        ds["inhabitants_above"].sel(territory="ACSO"),
        rtol=1e-5,
        atol=1.0,
    )


def test_every_variable_and_coordinate_is_described(output):
    """CF: each variable says what it is (``long_name``), each data variable its units (or
    its flags); the stations' positions are projection coordinates in metres."""
    _, ds = output
    unnamed = [str(v) for v in ds.variables if v != "crs" and not ds[v].attrs.get("long_name")]
    assert unnamed == []
    no_units = [
        str(v)
        for v in ds.data_vars
        if v != "crs" and "units" not in ds[v].attrs and "flag_values" not in ds[v].attrs
    ]
    assert no_units == []
    assert ds["station_x"].attrs["standard_name"] == "projection_x_coordinate"
    assert ds["station_y"].attrs["units"] == "m"
    # CF 4.4: an axis T is a time coordinate, which needs "<unit> since <date>" units; the
    # integer year is not one (it carried axis = "T" without units, which a checker refused)
    axes_t = [str(v) for v in ds.variables if ds[v].attrs.get("axis") == "T"]
    assert all("since" in str(ds[v].attrs.get("units", "")) for v in axes_t)
