"""Ordinary mistakes made with the plots and the report from Python (probe of 2026-12-05).

Each mistake ends on one line that names the argument, the value and the fix (it was a
KeyError, a numpy or xarray error, or a blank figure without a word); a dataset already cut
to the year, pollutant, territory asked (``ds.sel(year=2020)``, common in notebooks) is
drawn as the whole one would be. The datasets are small and built here, so that every
check runs in seconds.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import xarray as xr
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from shapely.geometry import box

from trajectoire import InputError, plot
from trajectoire.errors import TrajectoireWarning
from trajectoire.geo.grid import Grid
from trajectoire.report.build import build_report

YEARS = [2019, 2020]
SECTORS = ["A_PublicPower", "F_RoadTransport"]
POLLUTANTS = ["NOx", "PM10", "NO2"]
TERRITORIES = ["MEL", "CUD"]
ORIGINS = [*TERRITORIES, "rest"]


@pytest.fixture(scope="module")
def output() -> xr.Dataset:
    """An output-like dataset (docs/outputs.md) on a 20 x 30 grid of 100 m in Lambert-93:
    two years (both map years), two sectors, A_PublicPower emitting no PM10."""
    rng = np.random.default_rng(7)
    g = Grid.from_bounds(700_000, 7_050_000, 703_000, 7_052_000, 100)
    ny, nx = g.shape
    emission = rng.uniform(0.5, 2.0, size=(2, 2, 3, ny, nx))
    emission[:, 0, 1] = 0.0  # no PM10 from A_PublicPower
    emission[:, :, 2] = np.nan  # NO2 is not emitted
    contribution = rng.uniform(0.1, 1.0, size=(2, 2, 3, ny, nx))
    concentration = contribution.sum(1) + 5.0
    frac = np.zeros((2, ny, nx), dtype=np.float32)
    frac[0, 2:12, 2:14] = 1.0
    frac[1, 8:18, 16:28] = 1.0
    agg_dims = ("year", "receptor", "sector", "origin", "pollutant")
    agg = xr.DataArray(
        rng.uniform(0.1, 1.0, size=(2, 2, 2, 3, 3)),
        dims=agg_dims,
        coords={
            "year": YEARS,
            "receptor": TERRITORIES,
            "sector": SECTORS,
            "origin": ORIGINS,
            "pollutant": POLLUTANTS,
        },
        attrs={"units": "ug m-3"},
    )
    background = xr.DataArray(
        np.full((2, 3), 4.0), dims=("year", "pollutant"), attrs={"units": "ug m-3"}
    )
    return xr.Dataset(
        {
            "emission": (("year", "sector", "pollutant", "y", "x"), emission, {"units": "t yr-1"}),
            "contribution": (
                ("year", "sector", "pollutant", "y", "x"),
                contribution,
                {"units": "ug m-3"},
            ),
            "concentration": (("year", "pollutant", "y", "x"), concentration, {"units": "ug m-3"}),
            "background": background,
            "territory_contribution": agg,
            "exposure_contribution": 1.1 * agg,
            "territory_concentration": agg.sum(("sector", "origin")) + background,
            "exposure": (1.1 * agg.sum(("sector", "origin")) + background).rename(
                receptor="territory"
            ),
            "territory_fraction": (("territory", "y", "x"), frac, {"units": "1"}),
            "mask": (("y", "x"), np.ones((ny, nx), dtype=np.int8)),
        },
        coords={
            "year": YEARS,
            "sector": SECTORS,
            "pollutant": POLLUTANTS,
            "territory": TERRITORIES,
            **g.coords(),
        },
        attrs={"crs": "EPSG:2154", "map_years": "2019, 2020"},
    )


@pytest.fixture(scope="module")
def decomposition() -> xr.Dataset:
    """A change split as trajectoire.batch.pipeline.decompose_change returns it."""
    rng = np.random.default_rng(5)
    sectors = [*SECTORS, "all"]
    em = rng.uniform(-1.0, 0.1, size=(2, 3, 3))
    me = rng.uniform(-0.3, 0.3, size=(2, 3, 3))
    em[:, 2] = em[:, :2].sum(1)
    me[:, 2] = me[:, :2].sum(1)
    bgc = rng.uniform(-1.0, 0.0, size=(2, 3))
    attrs = {"units": "ug m-3", "period": "2019-2020"}
    c3 = {"receptor": TERRITORIES, "sector": sectors, "pollutant": POLLUTANTS}
    c2 = {"receptor": TERRITORIES, "pollutant": POLLUTANTS}
    dims3, dims2 = ("receptor", "sector", "pollutant"), ("receptor", "pollutant")
    return xr.Dataset(
        {
            "change_emission": xr.DataArray(em, dims=dims3, coords=c3, attrs=attrs),
            "change_meteorology": xr.DataArray(me, dims=dims3, coords=c3, attrs=attrs),
            "change_background": xr.DataArray(bgc, dims=dims2, coords=c2, attrs=attrs),
            "change_total": xr.DataArray(
                em[:, 2] + me[:, 2] + bgc, dims=dims2, coords=c2, attrs=attrs
            ),
        }
    )


def _one_line(call: Callable[[], Any], *words: str, error: type[Exception] = InputError) -> str:
    """The message of the error `call()` raises: one line holding each of `words`."""
    with pytest.raises(error) as info:
        call()
    message = str(info.value)
    assert "\n" not in message, message
    for word in words:
        assert word in message, (word, message)
    return message


def _heights(ax: Axes) -> list[float]:
    return [float(p.get_height()) for p in ax.patches if isinstance(p, Rectangle)]


def _image(fig: Figure) -> np.ndarray:
    return np.asarray(fig.axes[0].images[0].get_array(), dtype=float)


# ----------------------------------------------------------------------------- map
def test_map_of_a_dataset_cut_to_the_year_asked_is_the_same_map(output: xr.Dataset) -> None:
    """``plot.map(ds.sel(year=2020), year=2020, ...)`` was a KeyError 'year'."""
    whole, _ = plot.map(output, year=2020, pollutant="NO2")
    cut, ax = plot.map(output.sel(year=2020), year=2020, pollutant="NO2")
    np.testing.assert_array_equal(_image(cut), _image(whole))
    assert "2020" in ax.get_title()


def test_map_of_a_dataset_cut_to_another_year_names_the_cut(output: xr.Dataset) -> None:
    _one_line(
        lambda: plot.map(output.sel(year=2019), year=2020, pollutant="NO2"),
        "year=2020 is asked",
        "cut to year=2019",
        "ds.sel(year=2019)",
        "pass the whole dataset",
    )


def test_map_of_a_dataset_cut_to_the_pollutant_asked_is_the_same_map(output: xr.Dataset) -> None:
    """``plot.map(ds.sel(pollutant="PM10"), ...)`` was a KeyError 'pollutant'."""
    whole, _ = plot.map(output, year=2020, pollutant="PM10")
    cut, ax = plot.map(output.sel(pollutant="PM10"), year=2020, pollutant="pm10")
    np.testing.assert_array_equal(_image(cut), _image(whole))
    assert "PM10" in ax.get_title()


def test_map_of_a_dataset_cut_to_another_pollutant_names_the_cut(output: xr.Dataset) -> None:
    _one_line(
        lambda: plot.map(output.sel(pollutant="PM10"), year=2020, pollutant="NO2"),
        "pollutant='NO2' is asked",
        "cut to pollutant='PM10'",
        "pass the whole dataset",
    )


def test_map_of_a_dataset_cut_to_the_sector_asked_and_to_another(output: xr.Dataset) -> None:
    whole, _ = plot.map(output, "emission", year=2020, pollutant="NOx", sector="F")
    one = output.sel(sector="F_RoadTransport", year=2020, pollutant="NOx")
    cut, _ = plot.map(one, "emission", year=2020, pollutant="NOx", sector="F")
    np.testing.assert_array_equal(_image(cut), _image(whole))
    _one_line(
        lambda: plot.map(one, "emission", year=2020, pollutant="NOx", sector="A"),
        "sector='A_PublicPower' is asked",
        "cut to sector='F_RoadTransport'",
    )


def test_map_of_nan_everywhere_is_refused(output: xr.Dataset) -> None:
    """An all-NaN map drew a blank figure without a word."""
    nan = output.assign(concentration=output["concentration"] * np.nan)
    _one_line(
        lambda: plot.map(nan, year=2020, pollutant="NO2"),
        "concentration of NO2 in 2020",
        "NaN in every cell",
        "nothing to draw",
    )


def test_map_without_a_value_above_0_on_the_default_log_scale_is_drawn_linear(
    output: xr.Dataset,
) -> None:
    """Emissions of a sector that does not emit the pollutant: the default log scale masked
    every zero and drew a blank map."""
    with pytest.warns(TrajectoireWarning, match="no value above 0") as record:
        fig, _ = plot.map(output, "emission", year=2020, pollutant="PM10", sector="A")
    assert len(record) == 1 and "\n" not in str(record[0].message)
    assert "log=False" in str(record[0].message)
    shown = _image(fig)
    assert np.isfinite(shown).any() and (shown[np.isfinite(shown)] == 0).all()
    with warnings.catch_warnings():  # said with log=False: drawn without a warning
        warnings.simplefilter("error")
        plot.map(output, "emission", year=2020, pollutant="PM10", sector="A", log=False)
    _one_line(
        lambda: plot.map(output, "emission", year=2020, pollutant="PM10", sector="A", log=True),
        "log=True",
        "no value above 0",
        "pass log=False",
    )


def test_map_with_territories_in_a_wrong_crs_is_refused(output: xr.Dataset) -> None:
    """Outlines whose CRS label is not that of their coordinates were drawn far away: a map
    without outlines, no warning."""
    frame = gpd.GeoDataFrame(
        {"territory": ["MEL"]}, geometry=[box(700_500, 7_050_500, 702_000, 7_051_500)]
    )
    fig, ax = plot.map(output, year=2020, pollutant="NO2", territories=frame.set_crs(2154))
    assert len(ax.lines) == 1  # the valid frame draws its outline
    wrong = frame.set_crs(3857)
    _one_line(
        lambda: plot.map(output, year=2020, pollutant="NO2", territories=wrong),
        "territories lie outside the map",
        "EPSG:3857",
        "set_crs('EPSG:2154', allow_override=True)",
    )
    _one_line(
        lambda: plot.map(output, year=2020, pollutant="NO2", territories=frame.iloc[:0]),
        "territories has no outline",
        "territories=None",
    )


def test_map_in_a_string_instead_of_axes_is_one_line(output: xr.Dataset) -> None:
    _one_line(
        lambda: plot.map(output, year=2020, pollutant="NO2", ax="left"),  # type: ignore[arg-type]
        "ax='left'",
        "expected a matplotlib Axes",
    )


def test_map_takes_a_colormap_object(output: xr.Dataset) -> None:
    """A matplotlib Colormap was refused as 'not a matplotlib colour map'."""
    fig, ax = plot.map(output, year=2020, pollutant="NO2", cmap=colormaps["magma"])
    assert ax.images[0].get_cmap().name == "magma"
    by_name, _ = plot.map(output, year=2020, pollutant="NO2", cmap="magma")
    np.testing.assert_array_equal(_image(fig), _image(by_name))


# ----------------------------------------------------------------------------- trajectories
def test_trajectories_of_one_year_cut_as_a_scalar_says_how(output: xr.Dataset) -> None:
    """``plot.trajectories(ds.sel(year=2020), ...)`` was xarray's 'Dimensions {'year'} do
    not exist'."""
    _one_line(
        lambda: plot.trajectories(output.sel(year=2020), territory="MEL", pollutant="NOx"),
        "cut to year=2020",
        "drawn over the years",
        "pass the whole dataset",
        "ds.sel(year=[2020])",
    )


def test_trajectories_of_a_dataset_cut_to_the_pollutant_and_territory_asked(
    output: xr.Dataset,
) -> None:
    for variable in ("emission", "concentration", "exposure"):
        whole, ax_whole = plot.trajectories(
            output, variable=variable, territory="MEL", pollutant="NOx"
        )
        one = output.sel(pollutant="NOx", territory="MEL", receptor="MEL")
        cut, ax_cut = plot.trajectories(one, variable=variable, territory="MEL", pollutant="NOx")
        assert ax_cut.get_title() == ax_whole.get_title()
        np.testing.assert_allclose(
            np.asarray(ax_cut.get_lines()[-1].get_ydata(), dtype=float),
            np.asarray(ax_whole.get_lines()[-1].get_ydata(), dtype=float),
        )
    _one_line(
        lambda: plot.trajectories(output.sel(pollutant="NO2"), territory="MEL", pollutant="NOx"),
        "pollutant='NOx' is asked",
        "cut to pollutant='NO2'",
    )
    _one_line(
        lambda: plot.trajectories(output.sel(territory="CUD"), territory="MEL", pollutant="NOx"),
        "territory='MEL' is asked",
        "cut to territory='CUD'",
    )


def test_trajectories_band_low_above_high_is_refused(output: xr.Dataset) -> None:
    low = xr.DataArray([1e4, 1e4], dims="year", coords={"year": YEARS})
    _one_line(
        lambda: plot.trajectories(output, territory="MEL", pollutant="NOx", band=(low, 0.5 * low)),
        "low bound is above its high bound",
        "2019: 10000 > 5000",
        "swap them",
    )
    plot.trajectories(output, territory="MEL", pollutant="NOx", band=(0.5 * low, low))


# ----------------------------------------------------------------------------- change_bars
def test_change_bars_of_a_decomposition_cut_to_one_receptor(decomposition: xr.Dataset) -> None:
    """``change_bars(d.sel(receptor="MEL"), ...)`` was numpy's 'iteration over a 0-d
    array': the receptor is drawn (as territory="MEL")."""
    fig, ax = plot.change_bars(decomposition.sel(receptor="MEL"), pollutant="PM10")
    _, whole = plot.change_bars(decomposition, pollutant="PM10", territory="MEL")
    assert ax.get_title() == whole.get_title() and "MEL" in ax.get_title()
    assert _heights(ax) == _heights(whole)
    _one_line(
        lambda: plot.change_bars(
            decomposition.sel(receptor="MEL"), pollutant="PM10", territory="CUD"
        ),
        "territory='CUD' is asked",
        "cut to receptor='MEL'",
    )


def test_change_bars_of_a_decomposition_cut_to_one_pollutant(decomposition: xr.Dataset) -> None:
    _, ax = plot.change_bars(decomposition.sel(pollutant="PM10"), pollutant="pm10")
    _, whole = plot.change_bars(decomposition, pollutant="PM10")
    assert _heights(ax) == _heights(whole)
    _one_line(
        lambda: plot.change_bars(decomposition.sel(pollutant="PM10"), pollutant="NOx"),
        "pollutant='NOx' is asked",
        "cut to pollutant='PM10'",
    )
    _one_line(
        lambda: plot.change_bars(decomposition.sel(sector="F_RoadTransport"), pollutant="NOx"),
        "cut to sector='F_RoadTransport'",
        "sum 'all'",
    )


# ----------------------------------------------------------------------------- report
def test_report_of_a_dataset_cut_to_one_year_says_how(output: xr.Dataset) -> None:
    """``build_report(ds.sel(year=2020), "MEL")`` was numpy's 'iteration over a 0-d array'."""
    _one_line(
        lambda: build_report(output.sel(year=2020), "MEL"),
        "report",
        "cut to year=2020",
        "pass the whole output",
        "ds.sel(year=[2020])",
    )


def test_report_scenario_that_is_not_a_dataset_says_what_it_expects(output: xr.Dataset) -> None:
    """``scenario=ds.concentration`` was an AttributeError from xarray."""
    _one_line(
        lambda: build_report(output, "MEL", scenario=output["concentration"]),  # type: ignore[arg-type]
        "scenario=",
        "DataArray 'concentration'",
        "expected the xarray.Dataset",
        "open_output",
    )
    _one_line(
        lambda: build_report("out.nc", "MEL"),  # type: ignore[arg-type]
        "ds=",
        "trajectoire.open_output('out.nc')",
    )


def test_report_language_names_the_python_argument_too(output: xr.Dataset) -> None:
    message = _one_line(lambda: build_report(output, "MEL", lang="de"), "--lang 'de'", "lang=")
    assert "['fr', 'en']" in message
