"""Figures of a run's output (issue 17): every plot renders, carries units, speaks French.

The output is built by hand (an output-like dataset on a 40 x 50 grid at 100 m in Lambert-93,
two territories, three years, three sectors) so that every check runs in seconds; the
gallery script ``docs/gallery.py`` draws the same figures from a sample run.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.image import imread

from trajectoire import InputError, plot
from trajectoire.assess.evaluation import mqi
from trajectoire.assess.exposure import WHO_2021_GUIDELINES
from trajectoire.geo.grid import Grid

YEARS = [1990, 2005, 2020]
SECTORS = ["B_Industry", "C_OtherStationaryComb", "F_RoadTransport"]
POLLUTANTS = ["NOx", "PM2.5", "NO2"]
TERRITORIES = ["MEL", "CUD"]
ORIGINS = [*TERRITORIES, "rest"]


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def output() -> xr.Dataset:
    """An output-like dataset with the variables and dims of docs/outputs.md."""
    rng = np.random.default_rng(17)
    g = Grid.from_bounds(700_000, 7_050_000, 705_000, 7_054_000, 100)
    gc = g.coords()
    ny, nx = g.shape
    yy, xx = np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")
    disks = [(yy - 20) ** 2 + (xx - 14) ** 2 < 11**2, (yy - 18) ** 2 + (xx - 36) ** 2 < 9**2]
    frac = np.stack([d.astype(np.float32) for d in disks])
    mask = (frac.sum(0) > 0) | ((yy - 20) ** 2 + (xx - 25) ** 2 < 14**2)
    keep = np.where(mask, 1.0, np.nan)
    trend = np.array([2.0, 1.5, 1.0])  # emissions fall from 1990
    base = rng.gamma(2.0, 0.5, size=(len(SECTORS), ny, nx))
    emission = trend[:, None, None, None, None] * base[None, :, None] * np.ones((1, 1, 3, 1, 1))
    emission[:, :, 2] = np.nan  # NO2 is not emitted
    emission = emission * keep
    smooth = 5.0 + 10.0 * np.exp(-((yy - 20) ** 2 + (xx - 20) ** 2) / 200.0)
    contribution = (
        trend[:, None, None, None, None]
        * np.stack([0.2 * smooth, 0.3 * smooth, 0.5 * smooth])[None, :, None]
        * np.array([1.0, 0.4, 0.6])[None, None, :, None, None]
    )
    bg = np.array([[12.0, 6.0, 8.0], [10.0, 5.5, 7.0], [8.0, 5.0, 6.0]])  # (year, pollutant)
    concentration = (contribution.sum(1) + bg[:, :, None, None]) * keep
    contribution = contribution * keep
    contribution[:2] = np.nan  # only 2020 is a map year
    coords5 = {"year": YEARS, "sector": SECTORS, "pollutant": POLLUTANTS, **gc}
    agg = rng.uniform(0.1, 1.0, size=(3, 2, 3, 3, 3)) * trend[:, None, None, None, None]
    agg_coords = {
        "year": YEARS,
        "receptor": TERRITORIES,
        "sector": SECTORS,
        "origin": ORIGINS,
        "pollutant": POLLUTANTS,
    }
    agg_dims = ("year", "receptor", "sector", "origin", "pollutant")
    bg_da = xr.DataArray(
        bg, dims=("year", "pollutant"), coords={"year": YEARS, "pollutant": POLLUTANTS}
    )
    terr_c = xr.DataArray(agg, dims=agg_dims, coords=agg_coords, attrs={"units": "ug m-3"})
    exp_c = xr.DataArray(1.2 * agg, dims=agg_dims, coords=agg_coords, attrs={"units": "ug m-3"})
    ds = xr.Dataset(
        {
            "emission": (("year", "sector", "pollutant", "y", "x"), emission, {"units": "t yr-1"}),
            "concentration": (("year", "pollutant", "y", "x"), concentration, {"units": "ug m-3"}),
            "contribution": (
                ("year", "sector", "pollutant", "y", "x"),
                contribution,
                {"units": "ug m-3"},
            ),
            "background": bg_da.assign_attrs(units="ug m-3"),
            "territory_contribution": terr_c,
            "exposure_contribution": exp_c,
            "territory_concentration": (terr_c.sum(("sector", "origin")) + bg_da).assign_attrs(
                units="ug m-3"
            ),
            "exposure": (exp_c.sum(("sector", "origin")) + bg_da)
            .rename(receptor="territory")
            .assign_attrs(units="ug m-3"),
            "population_total": (
                ("year", "territory"),
                np.array([[9000.0, 3000.0], [9500.0, 3100.0], [10000.0, 3200.0]]),
                {"units": "1"},
            ),
            "territory_fraction": (("territory", "y", "x"), frac, {"units": "1"}),
            "mask": (("y", "x"), mask.astype(np.int8)),
        },
        coords={**coords5, "territory": TERRITORIES},
        attrs={"crs": "EPSG:2154", "map_years": "2020"},
    )
    return ds


@pytest.fixture(scope="module")
def stats() -> xr.Dataset:
    """Time-series MQI of 6 stations, one of them far off (MQI > 1)."""
    rng = np.random.default_rng(3)
    obs = 30.0 + 10.0 * rng.standard_normal((6, 200))
    noise = np.array([0.5, 2.0, 4.0, 6.0, 3.0, 20.0])[:, None] * rng.standard_normal((6, 200))
    bias = np.array([1.0, -2.0, 3.0, -4.0, 0.0, 15.0])[:, None]
    model = obs * np.array([1.0, 0.9, 1.1, 1.0, 0.8, 1.3])[:, None] + bias + noise
    coords = {"station": [f"FR{i:05d}" for i in range(6)]}
    o = xr.DataArray(obs, dims=("station", "time"), coords=coords, attrs={"units": "ug m-3"})
    m = xr.DataArray(model, dims=("station", "time"), coords=coords, attrs={"units": "ug m-3"})
    return mqi(m, o, pollutant="NO2")


@pytest.fixture(scope="module")
def decomposition() -> xr.Dataset:
    """A change split shaped as trajectoire.batch.pipeline.decompose_change returns it."""
    rng = np.random.default_rng(5)
    sectors = [*SECTORS, "all"]
    em = rng.uniform(-1.0, 0.1, size=(2, 4, 3))
    me = rng.uniform(-0.3, 0.3, size=(2, 4, 3))
    em[:, :3, 2] = me[:, :3, 2] = np.nan  # NO2 split on its total only
    em[:, 3, :2] = em[:, :3, :2].sum(1)
    me[:, 3, :2] = me[:, :3, :2].sum(1)
    bgc = rng.uniform(-1.0, 0.0, size=(2, 3))
    total = em[:, 3] + me[:, 3] + bgc
    c3 = {"receptor": TERRITORIES, "sector": sectors, "pollutant": POLLUTANTS}
    c2 = {"receptor": TERRITORIES, "pollutant": POLLUTANTS}
    attrs = {"units": "ug m-3", "period": "1990-2020"}
    dims3 = ("receptor", "sector", "pollutant")
    dims2 = ("receptor", "pollutant")
    return xr.Dataset(
        {
            "change_emission": xr.DataArray(em, dims=dims3, coords=c3, attrs=attrs),
            "change_meteorology": xr.DataArray(me, dims=dims3, coords=c3, attrs=attrs),
            "change_background": xr.DataArray(bgc, dims=dims2, coords=c2, attrs=attrs),
            "change_total": xr.DataArray(total, dims=dims2, coords=c2, attrs=attrs),
        }
    )


def _calls(output, stats, decomposition):
    """Every plot function, with its arguments (name -> zero-argument call)."""
    return {
        "map": lambda **kw: plot.map(output, year=2020, pollutant="NO2", **kw),
        "map_emission": lambda **kw: plot.map(
            output, "emission", year=1990, pollutant="NOx", sector="F", **kw
        ),
        "map_contribution": lambda **kw: plot.map(
            output, "contribution", year=2020, pollutant="PM2.5", sector="F_RoadTransport", **kw
        ),
        "trajectories": lambda **kw: plot.trajectories(
            output, territory="MEL", pollutant="NOx", **kw
        ),
        "trajectories_concentration": lambda **kw: plot.trajectories(
            output, variable="concentration", territory="CUD", pollutant="PM2.5", **kw
        ),
        "trajectories_exposure_lines": lambda **kw: plot.trajectories(
            output,
            variable="exposure",
            territory="MEL",
            pollutant="NO2",
            by="origin",
            stacked=False,
            **kw,
        ),
        "source_receptor": lambda **kw: plot.source_receptor(
            output, year=2020, pollutant="NOx", **kw
        ),
        "exposure_distribution": lambda **kw: plot.exposure_distribution(
            output, year=2020, pollutant="NO2", **kw
        ),
        "target_plot": lambda **kw: plot.target_plot(stats, **kw),
        "change_bars": lambda **kw: plot.change_bars(decomposition, pollutant="NOx", **kw),
        "change_bars_sector": lambda **kw: plot.change_bars(
            decomposition, pollutant="PM2.5", territory="MEL", by="sector", **kw
        ),
    }


NAMES = list(_calls(None, None, None))


def _labels(fig: Figure) -> str:
    """Every text of a figure: titles, axis labels (colour bars included), legends, texts."""
    out = []
    for ax in fig.axes:
        out += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        out += [t.get_text() for t in ax.texts]
        legend = ax.get_legend()
        if legend is not None:
            out += [t.get_text() for t in legend.get_texts()]
    return "\n".join(out)


def _assert_not_blank(path) -> None:
    img = imread(path)
    rgb = img[..., :3].reshape(-1, 3)
    assert float(rgb.std()) > 0.05, "the image is (almost) uniform"
    colours = np.unique((rgb * 255).round().astype(np.uint8), axis=0)
    assert len(colours) > 50, f"only {len(colours)} distinct colours"


# ----------------------------------------------------------------------------- rendering
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("lang", ["en", "fr"])
def test_every_plot_renders_a_png_that_is_not_blank(
    name, lang, output, stats, decomposition, tmp_path
):
    fig, ax = _calls(output, stats, decomposition)[name](lang=lang)
    assert isinstance(fig, Figure)
    assert ax in fig.axes
    path = tmp_path / f"{name}-{lang}.png"
    fig.savefig(path, dpi=60)
    _assert_not_blank(path)


def test_plots_leave_no_pyplot_state(output, stats, decomposition):
    for call in _calls(output, stats, decomposition).values():
        call()
    if "matplotlib.pyplot" in sys.modules:  # another test may have imported it
        assert sys.modules["matplotlib.pyplot"].get_fignums() == []


def test_plots_draw_into_the_given_axes(output, stats, decomposition):
    fig = Figure(figsize=(20, 12))
    axes = fig.subplots(3, 4).ravel()
    for ax, call in zip(axes, _calls(output, stats, decomposition).values(), strict=False):
        got_fig, got_ax = call(ax=ax)
        assert got_fig is fig and got_ax is ax
        assert ax.has_data()


# ----------------------------------------------------------------------------- labels
UNITS = {
    "map": ["µg m⁻³"],
    "map_emission": ["t yr⁻¹ per cell"],
    "map_contribution": ["µg m⁻³", "[km]"],
    "trajectories": ["[t yr⁻¹]"],
    "trajectories_concentration": ["[µg m⁻³]"],
    "trajectories_exposure_lines": ["[µg m⁻³]"],
    "source_receptor": ["[µg m⁻³]"],
    "exposure_distribution": ["[µg m⁻³]", "[inhabitants]"],
    "target_plot": ["[1]"],
    "change_bars": ["[µg m⁻³]"],
    "change_bars_sector": ["[µg m⁻³]"],
}


@pytest.mark.parametrize("name", NAMES)
def test_value_axes_and_colour_bars_carry_units(name, output, stats, decomposition):
    fig, ax = _calls(output, stats, decomposition)[name]()
    value_labels = [ax.get_ylabel(), ax.get_xlabel()]
    value_labels += [a.get_ylabel() for a in fig.axes if a is not ax]  # colour bars
    text = "\n".join(value_labels)
    for units in UNITS[name]:
        assert units in text, (name, text)
    assert ax.get_title()


FRENCH = {
    "map": ["Abscisse", "Ordonnée", "moyenne annuelle"],
    "map_emission": ["Émission", "t/an par maille"],
    "map_contribution": ["Transport routier"],
    "trajectories": ["Année", "sur le territoire", "Transport routier"],
    "trajectories_concentration": ["Fond régional", "moyenne sur le territoire"],
    "trajectories_exposure_lines": ["Exposition", "pondérée"],
    "source_receptor": ["Territoire d'origine", "Territoire récepteur", "Matrice"],
    "exposure_distribution": ["Habitants", "Valeur guide OMS 2021", "au-dessus"],
    "target_plot": ["Biais", "Diagramme cible", "surestimation"],
    "change_bars": ["Variation", "Météorologie", "Fond régional"],
    "change_bars_sector": ["Secteur", "Émissions"],
}


@pytest.mark.parametrize("name", NAMES)
def test_lang_fr_gives_french_labels(name, output, stats, decomposition):
    fr = _labels(_calls(output, stats, decomposition)[name](lang="fr")[0])
    en = _labels(_calls(output, stats, decomposition)[name](lang="en")[0])
    for word in FRENCH[name]:
        assert word in fr, (name, word, fr)
        assert word not in en, (name, word)


@pytest.mark.parametrize("name", NAMES)
def test_lang_fr_writes_decimal_commas(name, output, stats, decomposition):
    """In French every number of the figure has a decimal comma, its texts and its tick
    labels drawn (legends of the exposure histogram used to read « 1.49 µg »); English keeps
    the point."""
    import re

    def numbers(fig: Figure) -> str:
        fig.canvas.draw()
        ticks = [
            t.get_text() for ax in fig.axes for t in (*ax.get_xticklabels(), *ax.get_yticklabels())
        ]
        return _labels(fig) + "\n" + "\n".join(ticks)

    fr = numbers(_calls(output, stats, decomposition)[name](lang="fr")[0])
    en = numbers(_calls(output, stats, decomposition)[name](lang="en")[0])
    assert not re.search(r"\d\.\d", fr), fr
    if re.search(r"\d\.\d", en):  # where the English figure has decimals, French has commas
        assert re.search(r"\d,\d", fr), fr


@pytest.mark.parametrize("name", NAMES)
def test_plot_options_keep_their_keywords(name, output, stats, decomposition):
    """`ax`, `lang` and `title`, written once as PlotOptions (issue 11), work as keywords."""
    call = _calls(output, stats, decomposition)[name]
    _, default = call(lang="fr")
    fig = Figure()
    ax = fig.add_subplot()
    got_fig, got_ax = call(ax=ax, lang="fr", title="Mon titre")
    assert got_fig is fig and got_ax is ax
    assert ax.get_title() == "Mon titre" != default.get_title()
    assert (ax.get_xlabel(), ax.get_ylabel()) == (default.get_xlabel(), default.get_ylabel())
    assert [t.get_text() for t in ax.texts] == [t.get_text() for t in default.texts]


@pytest.mark.parametrize("name", NAMES)
def test_a_misspelled_keyword_raises_one_error_naming_it(name, output, stats, decomposition):
    function = next(f for f in ("map", *plot.__all__) if name.startswith(f))
    with pytest.raises(TypeError) as info:
        _calls(output, stats, decomposition)[name](titel="Mon titre")
    message = str(info.value)
    assert message.startswith(f"{function}() got an unexpected keyword argument 'titel'")
    assert "['ax', 'lang', 'title']" in message and "\n" not in message


def test_the_accessor_passes_the_plot_options_on(output):
    _, ax = output.trajectoire.plot.map(year=2020, pollutant="NO2", lang="fr", title="Carte")
    assert ax.get_title() == "Carte" and "Abscisse" in ax.get_xlabel()
    with pytest.raises(TypeError, match="unexpected keyword argument 'lng'"):
        output.trajectoire.plot.map(year=2020, pollutant="NO2", lng="fr")


def test_units_label():
    assert plot.units_label("ug m-3") == "µg m⁻³"
    assert plot.units_label("t yr-1", "fr") == "t/an"  # the report's text notation
    assert plot.units_label("ug m-3", "fr") == "µg/m³"
    assert plot.units_label("kg m-2 s-1", "fr") == "kg/(m²·s)"
    assert plot.units_label("cm-3", "fr") == "particules/cm³"
    assert plot.units_label("cm-3") == "cm⁻³"
    assert plot.units_label("1") == "1"


# ----------------------------------------------------------------------------- content
def test_map_respects_the_mask_and_draws_outlines(output):
    fig, ax = plot.map(output, year=2020, pollutant="NOx", crop=False)
    shown = np.ma.masked_invalid(ax.images[0].get_array())
    outside = output["mask"].values == 0
    assert outside.any()
    assert np.ma.getmaskarray(shown)[outside].all()
    assert not np.ma.getmaskarray(shown)[~outside].any()
    assert {t.get_text() for t in ax.texts} >= {"MEL", "CUD", "N", "0"}
    assert any(t.get_text().endswith(" km") for t in ax.texts)  # scale bar


def test_map_crops_to_the_written_cells(output):
    _, ax = plot.map(output, year=2020, pollutant="NOx")
    x0, x1 = ax.get_xlim()
    rows_cols = np.argwhere(output["mask"].values == 1)
    x = output["x"].values
    assert x0 == pytest.approx(x[rows_cols[:, 1].min()] - 50.0)
    assert x1 == pytest.approx(x[rows_cols[:, 1].max()] + 50.0)


def test_map_takes_territory_outlines_from_a_geodataframe(output, tmp_path):
    gpd = pytest.importorskip("geopandas")
    from shapely.geometry import Point

    frame = gpd.GeoDataFrame(
        {"territory": ["MEL"]}, geometry=[Point(701_450, 7_052_000).buffer(1000)], crs="EPSG:2154"
    )
    fig, ax = plot.map(output, year=2020, pollutant="NOx", territories=frame)
    assert "MEL" in {t.get_text() for t in ax.texts}
    assert len(ax.lines) == 1
    fig.savefig(tmp_path / "m.png")


def test_trajectories_of_emissions_add_the_territory_cells(output):
    output = output.assign_coords(year=[2018, 2019, 2020])  # years in a row: areas
    _, ax = plot.trajectories(output, territory="MEL", pollutant="NOx")
    total = next(line for line in ax.lines if line.get_label() == "Total")
    frac = output["territory_fraction"].sel(territory="MEL")
    expected = (output["emission"].sel(pollutant="NOx").fillna(0) * frac).sum(("sector", "y", "x"))
    np.testing.assert_allclose(total.get_ydata(), expected.values, rtol=1e-6)
    np.testing.assert_array_equal(total.get_xdata(), [2018, 2019, 2020])
    assert len(ax.collections) == len(SECTORS)  # one stacked (hatched) area per sector
    assert len({c.get_hatch() for c in ax.collections}) == len(SECTORS)


def test_trajectories_of_concentration_stack_sectors_on_the_background(output):
    output = output.assign_coords(year=[2018, 2019, 2020])  # years in a row: areas
    _, ax = plot.trajectories(output, variable="concentration", territory="CUD", pollutant="NOx")
    labels = [c.get_label() for c in ax.collections]
    assert labels[0] == "Background"
    total = next(line for line in ax.lines if line.get_label() == "Total")
    ref = output["territory_concentration"].sel(receptor="CUD", pollutant="NOx")
    np.testing.assert_allclose(total.get_ydata(), ref.values, rtol=1e-6)


def test_trajectories_draw_a_band_from_a_pair_or_an_ensemble(output):
    total = output["exposure"].sel(territory="MEL", pollutant="NOx")
    _, ax = plot.trajectories(
        output,
        variable="exposure",
        territory="MEL",
        pollutant="NOx",
        band=(0.9 * total, 1.1 * total),
    )
    assert "uncertainty band" in _labels(ax.figure)
    rng = np.random.default_rng(0)
    ens = output.copy()
    ens["exposure"] = output["exposure"] * xr.DataArray(
        rng.lognormal(0.0, 0.1, 50), dims="realization"
    )
    ens["exposure"].attrs["units"] = "ug m-3"
    _, ax = plot.trajectories(ens, variable="exposure", territory="MEL", pollutant="NOx")
    assert "5–95 % band" in _labels(ax.figure)


def test_source_receptor_writes_every_value(output):
    _, ax = plot.source_receptor(output, year=2020, pollutant="NOx")
    assert len(ax.texts) == len(TERRITORIES) * len(ORIGINS)
    ref = output["territory_contribution"].sel(year=2020, pollutant="NOx").sum("sector")
    assert ax.texts[0].get_text() == f"{float(ref.sel(receptor='MEL', origin='MEL')):.2g}"
    assert [t.get_text() for t in ax.get_xticklabels()] == ORIGINS


def test_source_receptor_takes_a_printf_format(output):
    """fmt="%.2f" wrote the literal "%.2f" in every cell (only str.format was applied)."""
    _, ax = plot.source_receptor(output, year=2020, pollutant="NOx", fmt="%.2f")
    _, ref = plot.source_receptor(output, year=2020, pollutant="NOx", fmt="{:.2f}")
    texts = [t.get_text() for t in ax.texts]
    assert texts == [t.get_text() for t in ref.texts]
    assert "%.2f" not in texts and all(len(t.split(".")[-1]) == 2 for t in texts)


def test_trajectories_draw_a_band_over_some_of_the_years(output):
    total = output["exposure"].sel(territory="MEL", pollutant="NOx").sel(year=[2005, 2020])
    _, ax = plot.trajectories(
        output, variable="exposure", territory="MEL", pollutant="NOx", band=(total, 1.1 * total)
    )
    assert "uncertainty band" in _labels(ax.figure)


def test_exposure_distribution_counts_the_inhabitants(output):
    _, ax = plot.exposure_distribution(output, year=2020, pollutant="NO2", territory="MEL")
    heights = sum(p.get_height() for p in ax.patches if hasattr(p, "get_height"))
    # the bars hold the territory's inhabitants (spread evenly: no population grid)
    assert heights == pytest.approx(10_000.0, rel=1e-6)
    conc = output["concentration"].sel(year=2020, pollutant="NO2").values
    frac = output["territory_fraction"].sel(territory="MEL").values
    above = 10_000.0 * frac[conc > WHO_2021_GUIDELINES["NO2"]].sum() / frac.sum()
    text = _labels(ax.figure)
    assert f"{above:,.0f}".replace(",", "\u202f") + " above" in text
    assert "no population grid" in ax.get_title()


def test_exposure_distribution_uses_a_population_grid_when_there_is_one(output):
    ds = output.copy()
    ds["population"] = xr.ones_like(output["mask"], dtype=float) * 2.0
    _, ax = plot.exposure_distribution(ds, year=2020, pollutant="PM2.5")
    assert "population grid of the output" in ax.get_title()
    heights = sum(p.get_height() for p in ax.patches if hasattr(p, "get_height"))
    inside = output["territory_fraction"].sum("territory").values
    assert heights == pytest.approx(2.0 * inside.sum(), rel=1e-6)


def test_exposure_distribution_without_thresholds_says_so(output):
    _, ax = plot.exposure_distribution(output, year=2020, pollutant="NOx")
    assert "no WHO 2021 or EU 2030 annual threshold for NOx" in _labels(ax.figure)


def test_target_plot_puts_each_station_at_its_mqi(stats):
    _, ax = plot.target_plot(stats)
    points = np.concatenate([c.get_offsets() for c in ax.collections if len(c.get_offsets())])
    radius = np.sort(np.hypot(points[:, 0], points[:, 1]))
    np.testing.assert_allclose(radius, np.sort(stats["mqi"].values), rtol=1e-9)
    inside, outside = (int(c.get_offsets().shape[0]) for c in ax.collections[:2])
    assert (inside, outside) == (int((stats["mqi"] <= 1).sum()), int((stats["mqi"] > 1).sum()))
    assert outside >= 1
    np.testing.assert_allclose(np.sort(points[:, 1]), np.sort(stats["mqi_bias"].values), rtol=1e-9)
    assert "90th percentile" in ax.get_title()


def test_change_bars_add_up_to_the_total(decomposition):
    _, ax = plot.change_bars(decomposition, pollutant="NOx")
    bars = np.array([p.get_height() for p in ax.patches if hasattr(p, "get_height")])
    effects = bars.reshape(3, len(TERRITORIES))  # emission, meteorology, background
    diamonds = ax.collections[0].get_offsets()[:, 1]
    np.testing.assert_allclose(effects.sum(0), diamonds, rtol=1e-9)
    np.testing.assert_allclose(diamonds, decomposition["change_total"].sel(pollutant="NOx"))


def test_trajectories_of_one_year_draw_a_stacked_bar(output):
    """An output of one year drew its stacked areas from that year to the next, invisible
    (an area needs two years), the axis running to a year not in the file."""
    one = output.sel(year=[2020])
    _, ax = plot.trajectories(one, territory="MEL", pollutant="NOx")
    heights = [p.get_height() for p in ax.patches if hasattr(p, "get_height")]
    (total,) = [line.get_ydata()[0] for line in ax.lines if line.get_label() == "Total"]
    assert len(heights) >= 2 and all(h >= 0 for h in heights)
    assert sum(heights) == pytest.approx(float(total), rel=1e-9)
    assert ax.get_xlim() == (2019.25, 2020.75)
    assert [int(t) for t in ax.get_xticks()] == [2020]


def test_map_axes_name_the_grid_crs(output):
    """The axes said Lambert-93 whatever the grid's CRS."""
    _, ax = plot.map(output, year=2020, pollutant="NO2")
    assert "Lambert-93" in ax.get_xlabel()
    laea = output.assign_attrs(crs="EPSG:3035")
    _, ax = plot.map(laea, year=2020, pollutant="NO2")
    assert "LAEA Europe" in ax.get_xlabel() and "Lambert-93" not in ax.get_ylabel()


def test_change_bars_draw_a_particle_number_species(decomposition):
    """A run with UFP writes its effects in ``change_*_number`` on ``pollutant_number``
    (cm-3): change_bars(pollutant="UFP") said UFP was not in the data."""
    from trajectoire.io.outputs import split_number_species

    d = decomposition.assign_coords(pollutant=["NOx", "UFP", "NO2"])
    d = split_number_species(d, ["UFP"])
    _, ax = plot.change_bars(d, pollutant="UFP")
    bars = np.array([p.get_height() for p in ax.patches if hasattr(p, "get_height")])
    diamonds = ax.collections[0].get_offsets()[:, 1]
    np.testing.assert_allclose(
        diamonds, d["change_total_number"].sel(pollutant_number="UFP"), rtol=1e-12
    )
    np.testing.assert_allclose(bars.reshape(3, len(TERRITORIES)).sum(0), diamonds, rtol=1e-9)
    assert "cm" in ax.get_ylabel() and "UFP" in ax.get_title()
    _, by_sector = plot.change_bars(d, pollutant="ufp", territory="MEL", by="sector")
    assert len(by_sector.patches) > 0


# ----------------------------------------------------------------------------- bad inputs
BAD = {
    "map unknown variable": (
        lambda o, s, d: plot.map(o, "ozone_dose", year=2020, pollutant="NO2"),
        "ozone_dose",
    ),
    "map year": (lambda o, s, d: plot.map(o, year=1850, pollutant="NO2"), "year 1850"),
    "map pollutant": (lambda o, s, d: plot.map(o, year=2020, pollutant="O3"), "O3"),
    "map missing contribution": (
        lambda o, s, d: plot.map(o, "contribution", year=1990, pollutant="NOx", sector="F"),
        "map year",
    ),
    "trajectories variable": (
        lambda o, s, d: plot.trajectories(o, variable="dose", territory="MEL", pollutant="NOx"),
        "dose",
    ),
    "trajectories territory": (
        lambda o, s, d: plot.trajectories(o, territory="LYON", pollutant="NOx"),
        "LYON",
    ),
    "trajectories concentration territory": (
        lambda o, s, d: plot.trajectories(
            o, variable="concentration", territory="LYON", pollutant="NOx"
        ),
        "LYON",
    ),
    "trajectories NO2 emission": (
        lambda o, s, d: plot.trajectories(o, territory="MEL", pollutant="NO2"),
        "not emitted",
    ),
    "trajectories emission by origin": (
        lambda o, s, d: plot.trajectories(o, territory="MEL", pollutant="NOx", by="origin"),
        "by='sector'",
    ),
    "source_receptor year": (
        lambda o, s, d: plot.source_receptor(o, year=2021, pollutant="NOx"),
        "year 2021",
    ),
    "source_receptor year not whole": (
        lambda o, s, d: plot.source_receptor(o, year=2020.5, pollutant="NOx"),
        "year=2020.5 (float): expected one whole year",
    ),
    "source_receptor weighting": (
        lambda o, s, d: plot.source_receptor(o, year=2020, pollutant="NOx", weighting="volume"),
        "volume",
    ),
    "exposure year": (
        lambda o, s, d: plot.exposure_distribution(o, year=1850, pollutant="NO2"),
        "year 1850",
    ),
    "exposure territory": (
        lambda o, s, d: plot.exposure_distribution(o, year=2020, pollutant="NO2", territory="LYON"),
        "LYON",
    ),
    "target annual": (
        lambda o, s, d: plot.target_plot(s[["mqi"]]),
        "kind='timeseries'",
    ),
    "target dims": (
        lambda o, s, d: plot.target_plot(s.expand_dims(pollutant=["NO2", "PM10"])),
        "select one value",
    ),
    "change territory": (
        lambda o, s, d: plot.change_bars(d, pollutant="NOx", territory="LYON"),
        "LYON",
    ),
    "change NO2 by sector": (
        lambda o, s, d: plot.change_bars(d, pollutant="NO2", territory="MEL", by="sector"),
        "by='factor'",
    ),
    "change not a decomposition": (
        lambda o, s, d: plot.change_bars(o, pollutant="NOx"),
        "decompose_change",
    ),
    "lang": (lambda o, s, d: plot.map(o, year=2020, pollutant="NO2", lang="de"), "lang='de'"),
    # were bare numpy / matplotlib / Python errors
    "map log vmin 0": (
        lambda o, s, d: plot.map(o, year=2020, pollutant="NO2", log=True, vmin=0),
        "vmin=0 with log=True",
    ),
    "map vmin above vmax": (
        lambda o, s, d: plot.map(o, year=2020, pollutant="NO2", vmin=50, vmax=10),
        "vmin=50 >= vmax=10",
    ),
    "map cmap": (
        lambda o, s, d: plot.map(o, year=2020, pollutant="NO2", cmap="viridiss"),
        "cmap='viridiss' is not a matplotlib colour map (did you mean 'viridis'?)",
    ),
    "map territories path": (
        lambda o, s, d: plot.map(o, year=2020, pollutant="NO2", territories="t.gpkg"),
        "geopandas.read_file('t.gpkg')",
    ),
    "map territories DataFrame": (
        lambda o, s, d: plot.map(
            o, year=2020, pollutant="NO2", territories=o["population_total"].to_dataframe()
        ),
        "territories is a DataFrame; expected a geopandas.GeoDataFrame",
    ),
    "map of a DataArray": (
        lambda o, s, d: plot.map(o["concentration"], year=2020, pollutant="NO2"),
        "not ds['concentration']",
    ),
    "map of a path": (
        lambda o, s, d: plot.map("out.nc", year=2020, pollutant="NO2"),
        "trajectoire.open_output('out.nc')",
    ),
    "trajectories band of numpy arrays": (
        lambda o, s, d: plot.trajectories(
            o, territory="MEL", pollutant="NOx", band=(np.ones(3), np.ones(3))
        ),
        "the band's low bound is a ndarray",
    ),
    "trajectories band of other years": (
        lambda o, s, d: plot.trajectories(
            o,
            territory="MEL",
            pollutant="NOx",
            band=(xr.DataArray([1.0, 2.0], coords={"year": [2000, 2001]}),) * 2,
        ),
        "years [2000, 2001] that the series does not have (it has 1990..2020)",
    ),
    "trajectories band of 2 dims": (
        lambda o, s, d: plot.trajectories(
            o,
            variable="exposure",
            territory="MEL",
            pollutant="NOx",
            band=(o["exposure"].sel(pollutant="NOx"),) * 2,
        ),
        "has dims ('year', 'territory')",
    ),
    "source_receptor fmt": (
        lambda o, s, d: plot.source_receptor(o, year=2020, pollutant="NOx", fmt="{:.2q}"),
        "fmt='{:.2q}' cannot write a number",
    ),
    "source_receptor fmt without a field": (
        lambda o, s, d: plot.source_receptor(o, year=2020, pollutant="NOx", fmt=".2f"),
        "such as '{:.2f}' (or '%.2f')",
    ),
    "exposure bins 0": (
        lambda o, s, d: plot.exposure_distribution(o, year=2020, pollutant="NO2", bins=0),
        "bins=0: expected the number of concentration classes, an integer >= 1",
    ),
    "exposure bins float": (
        lambda o, s, d: plot.exposure_distribution(o, year=2020, pollutant="NO2", bins=2.5),
        "bins=2.5",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_inputs_raise_one_clear_line(case, output, stats, decomposition):
    call, needle = BAD[case]
    with pytest.raises(InputError) as info:
        call(output, stats, decomposition)
    message = str(info.value)
    assert needle in message
    assert "\n" not in message


# ----------------------------------------------------------------------------- accessor
def test_accessor_exposes_the_plots(output, stats, decomposition):
    fig, ax = output.trajectoire.plot.map(year=2020, pollutant="NO2")
    assert isinstance(fig, Figure) and ax.images
    fig, _ = output.trajectoire.plot.trajectories(territory="MEL", pollutant="NOx")
    fig, _ = output.trajectoire.plot.source_receptor(year=2020, pollutant="NOx")
    fig, _ = output.trajectoire.plot.exposure_distribution(year=2020, pollutant="NO2")
    fig, _ = stats.trajectoire.plot.target_plot()
    fig, _ = decomposition.trajectoire.plot.change_bars(pollutant="NOx")
    assert isinstance(fig, Figure)
    assert "target_plot" in repr(output.trajectoire.plot)


def test_accessor_takes_a_pollutant_already_selected(output):
    """ds.sel(pollutant="NO2").trajectoire.sector_shares(pollutant="NO2") ended on numpy's
    'iteration over a 0-d array': the selected pollutant is a scalar coordinate."""
    one = output.sel(pollutant="NO2")
    for method in ("sector_shares", "source_receptor"):
        for weighting in ("area", "population"):
            got = getattr(one.trajectoire, method)(pollutant="no2", weighting=weighting)
            want = getattr(output.trajectoire, method)(pollutant="NO2", weighting=weighting)
            xr.testing.assert_allclose(got, want)
    with pytest.raises(InputError, match=r"pollutant 'NOx' is not in the dataset; have \['NO2'\]"):
        one.trajectoire.sector_shares(pollutant="NOx")
    with pytest.raises(InputError, match="no 'pollutant' coordinate"):
        output.isel(pollutant=0, drop=True).trajectoire.sector_shares(pollutant="NOx")


def test_import_trajectoire_does_not_import_matplotlib():
    code = "import sys, trajectoire; xr = trajectoire.accessor; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_year_axis_writes_the_years_in_full(output, lang):
    """Over two years matplotlib wrote the ticks as offsets ("-1", "0" and "+2.02e3")."""
    two = output.isel(year=[0, 1]).assign_coords(year=[2019, 2020])
    fig, ax = plot.trajectories(two, territory="MEL", pollutant="NOx", lang=lang)
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    years = [str(int(y)) for y in two["year"].values]
    assert labels and set(labels) <= set(years), labels
    assert ax.xaxis.get_offset_text().get_text() == ""


def _decomposition(sector: bool = True, with_all: bool = True) -> xr.Dataset:
    """A decompose_change-like result of two territories and two pollutants."""
    rec, pol = ["MEL", "CUD"], ["NO2", "PM10"]
    secs = ["all", "F_RoadTransport", "B_Industry"] if with_all else ["F_RoadTransport"]
    dims = ("receptor", "sector", "pollutant") if sector else ("receptor", "pollutant")
    shape = (2, len(secs), 2) if sector else (2, 2)
    coords = {"receptor": rec, "pollutant": pol, **({"sector": secs} if sector else {})}
    rng = np.random.default_rng(0)
    names = ["change_emission", "change_meteorology", "change_background"]
    d = xr.Dataset({v: (dims, rng.normal(size=shape)) for v in names}, coords=coords)
    d["change_total"] = (("receptor", "pollutant"), np.ones((2, 2)))
    d["change_total"].attrs.update(units="ug m-3", period="2019-2020")
    return d


def test_change_bars_of_a_layout_it_cannot_draw_say_so():
    """by='sector' without a sector dim, and sectors without their sum 'all': one
    InputError each (they were raw KeyErrors)."""
    plot.change_bars(_decomposition(), pollutant="PM10", territory="MEL", by="sector")
    with pytest.raises(InputError, match="by='sector' needs the effects per sector"):
        plot.change_bars(
            _decomposition(sector=False), pollutant="PM10", territory="MEL", by="sector"
        )
    with pytest.raises(InputError, match="without their sum, the sector 'all'"):
        plot.change_bars(_decomposition(with_all=False), pollutant="PM10")


def test_target_plot_titles_one_station_and_none_in_words(stats):
    """« 1 station » (it wrote "1 stations"), and no "90th percentile of the MQI: nan" when no
    station has an MQI."""
    one = stats.isel(station=[0])
    assert "1 station," in plot.target_plot(one)[1].get_title()
    assert "1 station," in plot.target_plot(one, lang="fr")[1].get_title()
    assert "3 stations," in plot.target_plot(stats.isel(station=[0, 1, 2]))[1].get_title()
    none = stats.where(False)
    title = plot.target_plot(none)[1].get_title()
    assert "0 stations," in title and "nan" not in title
    assert "0 station," in plot.target_plot(none, lang="fr")[1].get_title()


def test_a_map_of_one_column_or_row_is_drawn(output):
    """A one-column (or one-row) selection draws without the outlines' contours, which need
    2 x 2 cells (it was matplotlib's "Input z must be at least a (2, 2) shaped array")."""
    for part in (output.isel(x=[20]), output.isel(y=[20])):
        fig, ax = plot.map(part, year=2020, pollutant="NO2")
        fig.canvas.draw()
        assert ax.images or ax.collections


def test_exposure_distribution_draws_the_run_s_own_reference_values(output):
    """The reference lines came from hand-written tables (no SO2 2030 limit, nothing for a
    [species] file's species): now the output's exposure_threshold, else the registry's."""
    ds = output.copy()
    thresholds = xr.DataArray(
        [[np.nan, 33.0]], dims=("pollutant", "threshold"),
        coords={"pollutant": ["NO2"], "threshold": ["WHO2021", "EU2030"]},
    ).transpose("threshold", "pollutant")  # fmt: skip
    ds["exposure_threshold"] = thresholds
    _, ax = plot.exposure_distribution(ds, year=2020, pollutant="NO2", territory="MEL")
    lines = sorted(float(line.get_xdata()[0]) for line in ax.lines)
    assert 33.0 in lines and WHO_2021_GUIDELINES["NO2"] not in lines
    _, ax = plot.exposure_distribution(output.drop_vars("exposure_threshold", errors="ignore"),
                                       year=2020, pollutant="PM2.5", territory="MEL")  # fmt: skip
    drawn = [float(line.get_xdata()[0]) for line in ax.lines]
    assert 10.0 in drawn and 5.0 in drawn  # EU 2030 and WHO 2021, the registry's
