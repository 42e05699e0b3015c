"""Figures of a run's output: maps, trajectories, source-receptor matrix, exposure, evaluation.

Every function draws with matplotlib's object API only (no pyplot state) and returns
``(fig, ax)``. Besides its own parameters each takes the same options, described once in
:class:`PlotOptions`: ``ax`` (a new :class:`matplotlib.figure.Figure` is made when it is
None), ``lang`` (``"en"`` or ``"fr"``, the language of the labels) and ``title``. The figures
read in black and white (line styles, markers and hatches besides colours; the perceptually
uniform ``viridis`` colour map for maps and matrices) and every value axis and colour bar
names its units. The inputs are checked first: an unknown variable, year, pollutant, sector
or territory raises :class:`trajectoire.InputError` with one line that lists the valid values.

The same functions are reachable from a dataset: ``ds.trajectoire.plot.map(year=2020,
pollutant="NO2")`` (see :mod:`trajectoire.accessor`). ``docs/plots.md`` shows each figure.

matplotlib is an optional dependency (``pip install trajectoire[plot]``).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Sequence
from importlib import resources
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

import numpy as np
import xarray as xr

from trajectoire._validate import (
    did_you_mean,
    refuse_cuts,
    require_year,
    rows_preview,
    scalar_coordinate,
)
from trajectoire.errors import InputError, MissingVariableError, warn
from trajectoire.tables import keyword_options, with_options

try:
    from matplotlib import colormaps, patheffects
    from matplotlib.axes import Axes as MplAxes
    from matplotlib.colors import Colormap, LogNorm, Normalize
    from matplotlib.figure import Figure
    from matplotlib.patches import Circle, Patch, Rectangle
    from matplotlib.text import Text
    from matplotlib.ticker import Formatter, FuncFormatter, MaxNLocator, ScalarFormatter
except ImportError as exc:  # pragma: no cover - matplotlib is installed in the test env
    raise ImportError(
        "trajectoire.plot needs matplotlib: pip install 'trajectoire[plot]' (or matplotlib)."
    ) from exc

if TYPE_CHECKING:
    import geopandas as gpd
    from matplotlib.axes import Axes

__all__ = [
    "PlotOptions",
    "change_bars",
    "exposure_distribution",
    "map",
    "source_receptor",
    "target_plot",
    "trajectories",
]

LANGS = ("en", "fr")


def _labels() -> dict[str, Any]:
    """The labels of ``data/plot_labels.toml`` (phrases in each language, sector names)."""
    text = resources.files("trajectoire").joinpath("data/plot_labels.toml").read_text("utf-8")
    return tomllib.loads(text)


_LABELS = _labels()
#: Labels in both languages (a key per phrase; ``{}`` fields filled by the caller).
_TEXT: dict[str, dict[str, str]] = _LABELS["text"]
#: Short GNFR names for legends.
_SECTOR_NAMES: dict[str, dict[str, str]] = _LABELS["sectors"]

_HATCHES = ("", "//", "\\\\", "xx", "..", "++", "oo", "--", "||", "**", "O.", "/o", "\\|")
_LINESTYLES = ("-", "--", "-.", ":")
_MARKERS = ("o", "s", "^", "v", "D", "P", "X", "<", ">", "*", "h", "p", "d")
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
_MAP_VARIABLES = ("concentration", "contribution", "emission")
_SERIES = ("emission", "concentration", "contribution", "exposure")


class PlotOptions(TypedDict, total=False):
    """The options that every plot function takes besides its own parameters.

    Each function of this module accepts them as keywords (``**options``, PEP 692), with the
    defaults below, and returns ``(fig, ax)``.

    Attributes
    ----------
    ax : matplotlib.axes.Axes or None, default None
        Where to draw. None: a new :class:`matplotlib.figure.Figure` with constrained layout,
        of a size that each function chooses for its content (no pyplot state is made);
        another value than an Axes raises :class:`trajectoire.InputError`.
    lang : {"en", "fr"}, default "en"
        Language of the titles, axis labels, legends and GNFR sector names; another value
        raises :class:`trajectoire.InputError`.
    title : str or None, default None
        Title of the axes; None draws the function's own (its docstring says what it holds).

    Notes
    -----
    An unknown keyword (a misspelled option or parameter) raises :class:`TypeError` naming
    it, as Python does for a function without ``**options``.
    """

    ax: Axes | None
    lang: str
    title: str | None


#: The defaults of :class:`PlotOptions` other than None.
_PLOT_DEFAULTS: dict[str, Any] = {"lang": "en"}


# ----------------------------------------------------------------------------- helpers
def _options(caller: str, options: PlotOptions) -> tuple[Axes | None, str, str | None]:
    """``(ax, lang, title)`` of :class:`PlotOptions` `options`, defaults applied and checked."""
    given = keyword_options(PlotOptions, caller, options, _PLOT_DEFAULTS)
    if given["lang"] not in LANGS:
        raise InputError(f"lang={given['lang']!r}: expected one of {list(LANGS)}.")
    if given["ax"] is not None and not isinstance(given["ax"], MplAxes):
        raise InputError(
            f"{caller}: ax={given['ax']!r} ({type(given['ax']).__name__}): expected a "
            "matplotlib Axes to draw in (fig.add_subplot(), one of fig.subplots(1, 2)), or "
            "None for a new figure."
        )
    return given["ax"], given["lang"], given["title"]


def _t(key: str, lang: str, **fields: Any) -> str:
    text = _TEXT[key][lang]
    return text.format(**fields) if fields else text


#: Units written in words in French figures, as the report's text writes them.
_UNITS_FR = {"cm-3": "particules/cm³"}


def units_label(units: str | None, lang: str = "en") -> str:
    """UDUNITS string as printed on an axis: ``ug m-3`` -> ``µg m⁻³`` in English; in French
    the notation of the report's text, a slash before the units of negative power
    (``µg/m³``, ``t/an``, ``kg/(m²·s)``, ``particules/cm³``)."""
    if not units or units == "1":
        return "1"
    if lang == "fr" and str(units) in _UNITS_FR:
        return _UNITS_FR[str(units)]
    words: list[str] = []
    under: list[str] = []
    for word in str(units).split():
        base = word.rstrip("-0123456789")
        power = word[len(base) :]
        base = {"ug": "µg", "yr": "an" if lang == "fr" else "yr"}.get(base, base)
        if lang == "fr" and power.startswith("-"):
            under.append(base + ("" if power == "-1" else power[1:].translate(_SUPERSCRIPT)))
        else:
            words.append(base + power.translate(_SUPERSCRIPT))
    if not under:
        return " ".join(words)
    below = under[0] if len(under) == 1 else "(" + "·".join(under) + ")"
    return f"{' '.join(words) or '1'}/{below}"


#: Smaller units a value is shown in when it is under 0.1 in its own: (units, factor).
_SMALLER_UNITS: dict[str, tuple[tuple[str, float], ...]] = {
    "ug m-3": (("ng m-3", 1e3), ("pg m-3", 1e6)),
    "t yr-1": (("kg yr-1", 1e3), ("g yr-1", 1e6)),
}


def _display_units(units: str, values: Any) -> tuple[str, float]:
    """The units `values` [`units`] are drawn in and the factor to them: the largest of
    `units` and its :data:`_SMALLER_UNITS` that keeps the largest value at 0.1 or more (a
    PFOA level of 2e-5 µg m-3 is drawn as 20 pg m-3, never with a ``1e-5`` offset)."""
    finite = np.abs(np.asarray(values, dtype=float))
    finite = finite[np.isfinite(finite)]
    largest = float(finite.max()) if finite.size else 0.0
    if not largest > 0 or largest >= 0.1:
        return units, 1.0
    for smaller, factor in _SMALLER_UNITS.get(units, ()):
        if largest * factor >= 0.1:
            return smaller, factor
    smallest = _SMALLER_UNITS.get(units, ((units, 1.0),))[-1]
    return smallest


def _plain_numbers(axis: Any) -> None:
    """Ticks of `axis` written in full, without an offset or a ``1e-5`` factor."""
    formatter = ScalarFormatter(useOffset=False)
    formatter.set_scientific(False)
    axis.set_major_formatter(formatter)


#: What an origin label of the data is called in a figure (``rest``: the grid outside the
#: territories).
_ORIGIN_NAMES: dict[str, dict[str, str]] = {"en": {}, "fr": {"rest": "reste de la grille"}}
#: The legend of the cells a map leaves out (outside the output's mask, or without a value).
_MASKED = {"en": "outside the area calculated", "fr": "hors de la zone calculée"}
#: The legend of the years a run did not calculate, between two it did.
_NOT_COMPUTED = {"en": "years not calculated", "fr": "années non calculées"}
#: The colour and hatch of what a figure leaves out (light grey, hatched: not a data colour).
_LEFT_OUT: dict[str, Any] = {
    "facecolor": (0.93, 0.93, 0.93),
    "edgecolor": (0.6, 0.6, 0.6),
    "hatch": "///",
}


def _origin_name(origin: str, lang: str) -> str:
    return _ORIGIN_NAMES[lang].get(origin, origin)


def _sector_name(sector: str, lang: str) -> str:
    return _SECTOR_NAMES[lang].get(sector, sector)


def _new_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is None:
        fig = Figure(figsize=figsize, layout="constrained")
        return fig, fig.add_subplot()
    root = ax.get_figure(root=True)
    if not isinstance(root, Figure):  # pragma: no cover - an Axes always has a figure
        raise InputError("ax: the axes belong to no figure.")
    return root, ax


def _source_name(ds: xr.Dataset) -> str:
    return str(ds.encoding.get("source", "dataset"))


def _require(ds: xr.Dataset, names: Sequence[str], caller: str, hint: str = "") -> None:
    missing = [n for n in names if n not in ds.variables]
    if missing:
        have = sorted(str(v) for v in ds.data_vars)
        raise MissingVariableError(
            f"{caller}: {_source_name(ds)} has no {missing}; it has {have}.{hint}"
        )


def _require_result(
    result: Any, names: Sequence[str], caller: str, producer: str, hint: str
) -> None:
    """Raise unless `result` is a Dataset (the output of `producer`) holding `names`."""
    if not isinstance(result, xr.Dataset):
        raise InputError(
            f"{caller}: expected the Dataset of {producer}, got {type(result).__name__}."
        )
    _require(result, names, caller, hint)


def _check_year(ds: xr.Dataset, year: int, caller: str) -> int:
    year = require_year(year, f"{caller}: year")
    years = [int(v) for v in ds["year"].values] if "year" in ds.coords else []
    if year not in years:
        span = f"{years[0]}..{years[-1]}" if years else "none"
        raise InputError(f"{caller}: year {year} not in {_source_name(ds)}; available: {span}.")
    return year


def _check_pollutant(da: xr.DataArray | xr.Dataset, pollutant: str, caller: str) -> str:
    from trajectoire.species import normalise_pollutant

    pol = normalise_pollutant(pollutant, what=f"{caller}: pollutant")
    have = [str(v) for v in da["pollutant"].values]
    if pol not in have:
        raise InputError(f"{caller}: pollutant {pol!r} is not in the data; have {have}.")
    return pol


def _species(ds: xr.Dataset, pollutant: str, caller: str) -> xr.Dataset:
    """`ds` as it reads for `pollutant`: a particle-number species' ``*_number`` variables
    under the mass names (:func:`trajectoire.species.species_view`)."""
    from trajectoire.species import species_view

    return species_view(ds, pollutant, what=f"{caller}: pollutant")


def _check_label(da: xr.DataArray | xr.Dataset, dim: str, value: str, caller: str) -> str:
    have = [str(v) for v in da[dim].values]
    if str(value) not in have:
        raise InputError(f"{caller}: {dim} {value!r} is not in the data; have {have}.")
    return str(value)


def _labels_of(ds: xr.Dataset, dim: str) -> list[str]:
    """The labels of `dim` (one for a 0-d coordinate; none when `ds` lacks it)."""
    return [str(v) for v in np.atleast_1d(ds[dim].values)] if dim in ds.coords else []


def _cut_message(caller: str, dim: str, have: Any, asked: Any, name: str = "") -> str:
    """One line: `ds` was cut to ``dim=have`` where ``name=asked`` is asked (`name`: the
    argument, by default `dim`)."""
    name = name or dim
    fix = f"or ask {name}={have!r}"
    return (
        f"{caller}: {name}={asked!r} is asked, but the dataset was cut to {dim}={have!r} (a 0-d "
        f"coordinate, as ds.sel({dim}={have!r}) leaves); pass the whole dataset (ds, not "
        f"ds.sel({dim}=...)), {fix}."
    )


def _put_back(ds: xr.Dataset, dim: str, variables: Sequence[str]) -> xr.Dataset:
    """`ds` with its 0-d coordinate `dim` made a dim of length 1 again on `variables` (those
    it holds without it), as before the user's ``ds.sel(dim=value)``; the others lose it."""
    names = [v for v in variables if v in ds.data_vars and dim not in ds[v].dims]
    return ds.drop_vars(dim).assign({v: ds[v].expand_dims(dim) for v in names})


def _uncut(
    ds: xr.Dataset,
    caller: str,
    dim: str,
    asked: Any,
    variables: Sequence[str],
    name: str = "",
) -> xr.Dataset:
    """`ds` as if the user had not selected `dim` already: when `ds` was cut to ``dim=asked``
    (a 0-d coordinate), `dim` put back on `variables`; when it was cut to another value, one
    line saying so (drawing the value it holds would not be what was asked); `name`: the
    argument that asks it, by default `dim`."""
    have = scalar_coordinate(ds, dim)
    if have is None or asked is None:
        return ds
    if str(asked) != str(have):
        raise InputError(_cut_message(caller, dim, have, asked, name))
    return _put_back(ds, dim, variables)


def _uncut_pollutant(
    ds: xr.Dataset, caller: str, pollutant: Any, variables: Sequence[str]
) -> xr.Dataset:
    """:func:`_uncut` for a pollutant, a mass species on ``pollutant`` (`variables`) or a
    particle-number one on ``pollutant_number`` (the variables ``*_number``)."""
    from trajectoire.species import NUMBER_SUFFIX, normalise_pollutant

    mass, number = scalar_coordinate(ds, "pollutant"), scalar_coordinate(ds, "pollutant_number")
    if mass is None and number is None:
        return ds
    pol = normalise_pollutant(pollutant, what=f"{caller}: pollutant")
    masses, numbers = _labels_of(ds, "pollutant"), _labels_of(ds, "pollutant_number")
    if pol not in masses + numbers and (mass is not None or not masses):
        dim, have = ("pollutant", mass) if mass is not None else ("pollutant_number", number)
        raise InputError(_cut_message(caller, dim, have, pol, "pollutant"))
    if mass is not None:
        ds = _put_back(ds, "pollutant", variables)
    if number is not None:
        suffixed = [str(v) for v in ds.data_vars if str(v).endswith(NUMBER_SUFFIX)]
        ds = _put_back(ds, "pollutant_number", suffixed)
    return ds


def _check_dataset(ds: Any, caller: str) -> xr.Dataset:
    """`ds` when it is a Dataset (a run's output); else one line saying what to pass."""
    if isinstance(ds, xr.Dataset):
        return ds
    if isinstance(ds, xr.DataArray):
        fix = (
            f"pass the whole output (ds, not ds[{ds.name or '...'!r}]); the variable is chosen by "
            "the function's own parameters"
        )
    elif isinstance(ds, str | os.PathLike):
        fix = f"open the file first: {caller}(trajectoire.open_output({str(ds)!r}), ...)"
    else:
        fix = "open a run's output with trajectoire.open_output(path)"
    raise InputError(
        f"{caller}: got a {type(ds).__name__} where an xarray.Dataset (a run's output) is "
        f"expected; {fix}."
    )


def _check_territories(territories: Any, caller: str) -> gpd.GeoDataFrame:
    """`territories` when it is a GeoDataFrame of outlines; else one line saying how."""
    import geopandas as gpd

    if isinstance(territories, gpd.GeoDataFrame):
        return territories
    if isinstance(territories, str | os.PathLike):
        fix = f"read the file first: territories=geopandas.read_file({str(territories)!r})"
    elif isinstance(territories, gpd.GeoSeries):
        fix = "pass territories=series.to_frame() (a 'territory', 'id' or 'name' column labels it)"
    else:
        fix = "give the outlines with their geometry (geopandas.read_file(path))"
    raise InputError(
        f"{caller}: territories is a {type(territories).__name__}; expected a "
        f"geopandas.GeoDataFrame of outlines (or None: the output's own); {fix}."
    )


def _check_cmap(cmap: Any, caller: str) -> Colormap:
    """The colour map `cmap` names (a registered matplotlib one), or `cmap` itself when it
    is a :class:`matplotlib.colors.Colormap`; else one line, did-you-mean."""
    if isinstance(cmap, Colormap):
        return cmap
    if isinstance(cmap, str) and cmap in colormaps:
        return colormaps[cmap]
    hint = did_you_mean(cmap, list(colormaps)) if isinstance(cmap, str) else ""
    raise InputError(
        f"{caller}: cmap={cmap!r} is not a matplotlib colour map{hint}; expected a name such "
        "as 'viridis', 'cividis' or 'magma' (list(matplotlib.colormaps) lists them) or a "
        "matplotlib.colors.Colormap."
    )


def _check_limits(vmin: Any, vmax: Any, log: bool, caller: str) -> None:
    """Colour scale limits: numbers, vmin < vmax, both > 0 on a logarithmic scale."""
    for name, value in (("vmin", vmin), ("vmax", vmax)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float | np.number):
            raise InputError(
                f"{caller}: {name}={value!r}: expected a number in the variable's units."
            )
        if not np.isfinite(value):
            raise InputError(f"{caller}: {name}={value!r}: expected a finite number.")
        if log and value <= 0:
            raise InputError(
                f"{caller}: {name}={value!r} with log=True: a logarithmic colour scale needs "
                f"{name} > 0; give a positive {name} (e.g. {name}=0.1) or log=False."
            )
    if vmin is not None and vmax is not None and vmin >= vmax:
        raise InputError(
            f"{caller}: vmin={vmin!r} >= vmax={vmax!r}; expected vmin < vmax (swap them)."
        )


def _cell_format(fmt: Any, caller: str) -> Callable[[float], str]:
    """The function writing a cell's value: `fmt` in :meth:`str.format` style (``"{:.2g}"``)
    or in printf style (``"%.2f"``), checked on a number; else one line with an example."""
    example = "a format such as '{:.2f}' (or '%.2f')"
    if isinstance(fmt, str) and "{" in fmt:
        try:
            fmt.format(1.5)
        except (ValueError, IndexError, KeyError) as exc:
            raise InputError(
                f"{caller}: fmt={fmt!r} cannot write a number ({exc}); expected {example}."
            ) from None
        return fmt.format
    if isinstance(fmt, str) and "%" in fmt:
        try:
            fmt % 1.5
        except (ValueError, TypeError) as exc:
            raise InputError(
                f"{caller}: fmt={fmt!r} cannot write a number ({exc}); expected {example}."
            ) from None
        return lambda v: fmt % v
    raise InputError(
        f"{caller}: fmt={fmt!r} has no place for the value ('{{}}' or '%'); expected {example}."
    )


def _check_bins(bins: Any, caller: str) -> int:
    """`bins` when it is an integer >= 1; else one line."""
    if isinstance(bins, bool) or not isinstance(bins, int | np.integer) or bins < 1:
        raise InputError(
            f"{caller}: bins={bins!r}: expected the number of concentration classes, an "
            "integer >= 1 (default 40)."
        )
    return int(bins)


def _check_band(
    band: Any, total: xr.DataArray, caller: str
) -> tuple[xr.DataArray, xr.DataArray] | None:
    """`band` when it is a (low, high) pair of DataArrays on ``year`` within the series'
    years (both on the same years); else one line saying what to pass."""
    if band is None:
        return None
    example = "band=(low, high), two xarray.DataArray with dims ('year',), e.g. (0.9 * t, 1.1 * t)"
    if not isinstance(band, tuple | list) or len(band) != 2:
        got = f"{type(band).__name__} of {len(band)}" if isinstance(band, tuple | list) else ""
        raise InputError(f"{caller}: band is a {got or type(band).__name__}; expected {example}.")
    years = [int(y) for y in total["year"].values]
    span = f"{years[0]}..{years[-1]}" if years else "none"
    for name, bound in zip(("low", "high"), band, strict=True):
        if not isinstance(bound, xr.DataArray):
            raise InputError(
                f"{caller}: the band's {name} bound is a {type(bound).__name__}; "
                f"expected {example}."
            )
        if bound.dims != ("year",) or "year" not in bound.coords:
            raise InputError(
                f"{caller}: the band's {name} bound has dims {bound.dims}; expected ('year',) "
                "with the years as coordinate (select the territory and pollutant first)."
            )
        extra = sorted({int(y) for y in bound["year"].values} - set(years))
        if extra:
            raise InputError(
                f"{caller}: the band's {name} bound has years {extra} that the series does "
                f"not have (it has {span}); give the bounds of the series' years."
            )
    if not np.array_equal(band[0]["year"].values, band[1]["year"].values):
        raise InputError(
            f"{caller}: the band's low and high bounds have different years "
            f"({band[0]['year'].values.tolist()} and {band[1]['year'].values.tolist()}); "
            "give both on the same years."
        )
    low, high = (np.asarray(b.values, dtype=float) for b in band)
    above = np.flatnonzero(low > high)
    if above.size:
        rows = [f"{int(band[0]['year'].values[i])}: {low[i]:g} > {high[i]:g}" for i in above]
        raise InputError(
            f"{caller}: the band's low bound is above its high bound in {rows_preview(rows)}; "
            "expected band=(low, high) with low <= high (swap them)."
        )
    return band[0], band[1]


#: a decimal point between two digits (as matplotlib and Python's formats write numbers)
_DECIMAL_POINT = re.compile(r"(?<=\d)\.(?=\d)")


def _comma(text: str) -> str:
    """`text` with a decimal comma between digits (``1.49`` -> ``1,49``)."""
    return _DECIMAL_POINT.sub(",", text)


class _Commas(Formatter):
    """An axis's formatter, its labels written with decimal commas (French figures)."""

    def __init__(self, inner: Formatter) -> None:
        self.inner = inner

    def __call__(self, x: float, pos: int | None = None) -> str:
        return _comma(self.inner(x, pos))

    def format_ticks(self, values: Any) -> list[str]:
        return [_comma(v) for v in self.inner.format_ticks(values)]

    def get_offset(self) -> str:
        return _comma(self.inner.get_offset())


def _in_language(fig: Figure, ax: Axes, lang: str) -> tuple[Figure, Axes]:
    """`fig` and `ax`, their numbers written in `lang`'s style: in French a decimal comma in
    every text (legends, titles, labels: ``1,49 µg``) and in the tick labels (each axis's
    formatter wrapped once, so that ticks drawn later follow); unchanged in English."""
    if lang != "fr":
        return fig, ax
    for each in fig.axes:
        for axis in (each.xaxis, each.yaxis):
            inner = axis.get_major_formatter()
            if not isinstance(inner, _Commas):
                axis.set_major_formatter(_Commas(inner))
    for text in fig.findobj(Text):
        text.set_text(_comma(text.get_text()))
    return fig, ax


def _crs_name(ds: xr.Dataset) -> str:
    """The grid's CRS as an axis names it: ``Lambert-93`` for EPSG:2154 (the run's default),
    else its name (``ETRS89-extended / LAEA Europe``), as
    :func:`trajectoire.geo.grid.crs_of` reads it; Lambert-93 when the dataset names none,
    the text of attrs["crs"] when pyproj does not read it."""
    from trajectoire.errors import GridError
    from trajectoire.geo.grid import crs_of

    try:
        crs = crs_of(ds)
    except GridError:
        return str(ds.attrs.get("crs") or "unknown CRS")
    if crs is None:
        return "Lambert-93"
    return "Lambert-93" if crs.to_epsg() == 2154 else str(crs.name)


def _km_axes(ax: Axes, lang: str, crs: str = "Lambert-93") -> None:
    km = FuncFormatter(lambda v, _pos: f"{v / 1000:g}")
    ax.xaxis.set_major_formatter(km)
    ax.yaxis.set_major_formatter(km)
    ax.set_xlabel(_t("x", lang, crs=crs))
    ax.set_ylabel(_t("y", lang, crs=crs))
    ax.set_aspect("equal")


def _nice_length(span_m: float) -> float:
    """A round scale-bar length [m] of about a fifth of `span_m`."""
    target = max(span_m / 5.0, 1.0)
    power = 10 ** np.floor(np.log10(target))
    for step in (5.0, 2.0, 1.0):
        if step * power <= target:
            return float(step * power)
    return float(power)  # pragma: no cover


def _scale_bar(ax: Axes) -> None:
    """Two-tone scale bar in the lower left corner (map units are metres)."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = _nice_length(x1 - x0)
    height = 0.012 * (y1 - y0)
    bx, by = x0 + 0.06 * (x1 - x0), y0 + 0.05 * (y1 - y0)
    pad = 0.03 * (x1 - x0)
    ax.add_patch(  # a light box keeps the bar readable over the map
        Rectangle(
            (bx - pad, by - 0.02 * (y1 - y0)),
            length + 2 * pad,
            0.075 * (y1 - y0),
            facecolor="white",
            edgecolor="none",
            alpha=0.8,
            zorder=4.5,
        )
    )
    for i, colour in enumerate(("black", "white")):
        ax.add_patch(
            Rectangle(
                (bx + i * length / 2, by),
                length / 2,
                height,
                facecolor=colour,
                edgecolor="black",
                linewidth=0.8,
                zorder=5,
            )
        )
    halo = [patheffects.withStroke(linewidth=2.5, foreground="white")]
    label = f"{length / 1000:g} km"
    for x, text in ((bx, "0"), (bx + length, label)):
        ax.text(
            x,
            by + 1.8 * height,
            text,
            ha="center",
            va="bottom",
            fontsize=8,
            zorder=6,
            path_effects=halo,
        )


def _north_arrow(ax: Axes, lang: str) -> None:
    """An arrow pointing to grid north (within 1° of true north over Hauts-de-France)."""
    ax.add_patch(
        Rectangle(
            (0.895, 0.73),
            0.09,
            0.255,
            transform=ax.transAxes,
            facecolor="white",
            edgecolor="none",
            alpha=0.8,
            zorder=4.5,
        )
    )
    ax.annotate(
        "",
        xy=(0.94, 0.96),
        xytext=(0.94, 0.84),
        xycoords="axes fraction",
        arrowprops={"facecolor": "black", "edgecolor": "white", "width": 4, "headwidth": 11},
        zorder=6,
    )
    ax.text(
        0.94,
        0.80,
        _t("north", lang),
        transform=ax.transAxes,
        ha="center",
        va="top",
        fontsize=11,
        fontweight="bold",
        zorder=6,
        path_effects=[patheffects.withStroke(linewidth=2.5, foreground="white")],
    )


def _outlines_from_fractions(ax: Axes, fraction: xr.DataArray, names: Sequence[str]) -> None:
    """Territory outlines as the 0.5 contour of each territory's cell share, with its id."""
    x = fraction["x"].values
    y = fraction["y"].values
    halo = [patheffects.withStroke(linewidth=2.5, foreground="white")]
    for name in names:
        f = np.nan_to_num(np.asarray(fraction.sel(territory=name).values, dtype=float))
        if min(f.shape) < 2 or not (f > 0.5).any():  # a contour needs 2 x 2 cells
            continue
        ax.contour(x, y, f, levels=[0.5], colors="black", linewidths=0.9, zorder=4)
        w = f.sum()
        cx = float((f.sum(axis=0) * x).sum() / w)
        cy = float((f.sum(axis=1) * y).sum() / w)
        ax.text(cx, cy, name, ha="center", va="center", fontsize=7, zorder=6, path_effects=halo)


def _frame_on_map(
    frame: gpd.GeoDataFrame,
    crs: str | None,
    extent: tuple[float, float, float, float],
    caller: str,
) -> gpd.GeoDataFrame:
    """`frame` reprojected to the map's `crs`; one line when it has no outline, or when no
    outline reaches the map's `extent` (a frame whose CRS is not that of its coordinates:
    nothing would be drawn)."""
    given = frame.crs
    if crs is not None and given is not None:
        frame = frame.to_crs(crs)
    drawn = frame.geometry[~(frame.geometry.isna() | frame.geometry.is_empty)]
    if drawn.empty:
        raise InputError(
            f"{caller}: territories has no outline to draw ({len(frame)} row(s), no geometry); "
            "pass the outlines (geopandas.read_file(path)), or territories=None for the "
            "output's own."
        )
    x0, y0, x1, y1 = (float(v) for v in drawn.total_bounds)
    if x1 < extent[0] or x0 > extent[1] or y1 < extent[2] or y0 > extent[3]:
        if given is None:
            where = "with no CRS (taken as the map's)"
        elif crs is not None:
            where = f"in {crs} (reprojected from {given.to_string()})"
        else:
            where = f"in {given.to_string()}"
        raise InputError(
            f"{caller}: territories lie outside the map: their bounds ({x0:.0f}, {y0:.0f}, "
            f"{x1:.0f}, {y1:.0f}) {where} miss the map's ({extent[0]:.0f}, {extent[2]:.0f}, "
            f"{extent[1]:.0f}, {extent[3]:.0f}), so no outline would be drawn; is their CRS "
            "the one of their coordinates? Set the right one with "
            f"territories.set_crs({crs or 'EPSG:2154'!r}, allow_override=True)."
        )
    return frame


def _outlines_from_frame(ax: Axes, frame: gpd.GeoDataFrame) -> None:
    """Boundaries of a GeoDataFrame (in the map's CRS: :func:`_frame_on_map`), with the
    territory ids."""
    id_col = next((c for c in ("territory", "id", "name") if c in frame.columns), None)
    halo = [patheffects.withStroke(linewidth=2.5, foreground="white")]
    for i, geom in enumerate(frame.geometry):
        if geom is None or geom.is_empty:
            continue
        polys = getattr(geom, "geoms", [geom])
        for poly in polys:
            for ring in (poly.exterior, *poly.interiors):
                xs, ys = ring.xy
                ax.plot(xs, ys, color="black", linewidth=0.9, zorder=4)
        if id_col is not None:
            c = geom.representative_point()
            ax.text(
                c.x,
                c.y,
                str(frame[id_col].iloc[i]),
                ha="center",
                va="center",
                fontsize=7,
                zorder=6,
                path_effects=halo,
            )


def _crop(da: xr.DataArray) -> tuple[slice, slice] | None:
    """Row and column slices of the cells that hold data (None when all are NaN)."""
    valid = np.isfinite(np.asarray(da.values, dtype=float))
    if not valid.any():
        return None
    rows = np.flatnonzero(valid.any(axis=1))
    cols = np.flatnonzero(valid.any(axis=0))
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


# ----------------------------------------------------------------------------- map
#: the map variables given per sector (a sector cut, ``ds.sel(sector=...)``, is put back on them)
_PER_SECTOR_MAPS = ("emission", "contribution")


def _uncut_map(ds: xr.Dataset, variable: str, year: Any, pollutant: Any, sector: Any) -> xr.Dataset:
    """`ds` as :func:`trajectoire.io.select_map` reads it, when the user cut it already to
    the year, pollutant or sector asked (``ds.sel(year=2023)``: a 0-d coordinate); one line
    when it was cut to another (its map is not the one asked)."""
    from trajectoire.sectors import normalise_sector

    names = [variable, f"{variable}_number"]
    if scalar_coordinate(ds, "year") is not None:
        ds = _uncut(ds, "map", "year", require_year(year, "map: year"), names)
    ds = _uncut_pollutant(ds, "map", pollutant, [variable])
    if sector is not None and scalar_coordinate(ds, "sector") is not None:
        sec = normalise_sector(sector, what="map: sector")
        ds = _uncut(ds, "map", "sector", sec, names if variable in _PER_SECTOR_MAPS else [])
    return ds


@with_options(PlotOptions, _PLOT_DEFAULTS)
def map(
    ds: xr.Dataset,
    variable: str = "concentration",
    *,
    year: int,
    pollutant: str,
    sector: str | None = None,
    territories: gpd.GeoDataFrame | None = None,
    log: bool | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    cmap: str | Colormap = "viridis",
    crop: bool = True,
    **options: Unpack[PlotOptions],
) -> tuple[Figure, Axes]:
    """Map of one gridded output variable with territory outlines, scale bar and north arrow.

    Parameters
    ----------
    ds : xarray.Dataset
        An output of ``trajectoire run`` (:func:`trajectoire.io.open_output`).
    variable : {"concentration", "contribution", "emission"}, default "concentration"
        ``concentration`` [ug m-3], ``contribution`` of a sector [ug m-3] (map years only) or
        ``emission`` of a sector [t yr-1 per cell].
    year : int
        Year of the map.
    pollutant : str
        Pollutant id or alias.
    sector : str, optional
        GNFR sector, required for ``contribution`` and ``emission``.
    territories : geopandas.GeoDataFrame, optional
        Outlines to draw (reprojected to the grid's CRS; labelled by a ``territory``, ``id``
        or ``name`` column); read a file with :func:`geopandas.read_file`. Default: the 0.5
        contour of each territory's cell share ``territory_fraction`` of the output, when
        it has one.
    log : bool, optional
        Logarithmic colour scale; default True for ``emission`` (a few stacks dominate),
        False otherwise. A map without any value above 0 is drawn on a linear scale with a
        :class:`trajectoire.TrajectoireWarning` when `log` is left to its default (e.g. the
        emissions of a sector that does not emit the pollutant), and raises
        :class:`trajectoire.InputError` with ``log=True``.
    vmin, vmax : float, optional
        Colour scale limits [variable units], ``vmin < vmax``; both > 0 with `log`.
    cmap : str or matplotlib.colors.Colormap, default "viridis"
        A matplotlib colour map or its name (keep a perceptually uniform one: viridis,
        cividis, magma...).
    crop : bool, default True
        Zoom on the cells that hold data (the output masks the cells beyond the buffer).
    **options
        ``ax``, ``lang``, ``title``: see :class:`PlotOptions`. Default title: the variable,
        pollutant, sector and year.

    Returns
    -------
    fig, ax : matplotlib.figure.Figure, matplotlib.axes.Axes
        The figure and the map: axes in km of the grid's CRS, a colour bar in the
        variable's units, a scale bar and a north arrow.

    Raises
    ------
    trajectoire.InputError
        Unknown variable, year, pollutant or sector, or a missing contribution map (not a
        map year): :func:`trajectoire.io.select_map`; a bad `lang` or `ax`
        (:class:`PlotOptions`); `ds` that is not a Dataset (a path, a DataArray), or one cut
        to another year, pollutant or sector than asked (``ds.sel(year=2022)`` for
        ``year=2023``; cut to the year asked, it is drawn); a map that is NaN in every cell
        (nothing to draw), or without a value above 0 with ``log=True``; `territories` that
        is not a GeoDataFrame, has no outline or lies outside the map (a wrong CRS); an
        unknown `cmap`, or limits that are not numbers, not in order or not > 0 with `log`.

    Warns
    -----
    trajectoire.TrajectoireWarning
        A map without a value above 0 on the default logarithmic scale of ``emission``:
        drawn on a linear scale.

    Notes
    -----
    Cells outside the output's ``mask`` (beyond the buffer of every territory) are NaN and left
    blank. Easting and northing are in kilometres of the grid's CRS (named on the axes), with the arrow pointing to grid
    north (within about one degree of true north over the region).
    """
    from trajectoire.io.netcdf import select_map

    ax, lang, title = _options("map", options)
    ds = _check_dataset(ds, "map")
    if territories is not None:
        territories = _check_territories(territories, "map")
    colour_map = _check_cmap(cmap, "map")
    ds = _uncut_map(ds, variable, year, pollutant, sector)
    da, sel = select_map(ds, variable, year=year, pollutant=pollutant, sector=sector)
    masked = "mask" in ds.data_vars and set(ds["mask"].dims) == {"y", "x"}
    if masked:
        da = da.where(ds["mask"].transpose("y", "x") == 1)
    da = da.load()
    what = f"{variable} of {sel.get('pollutant', pollutant)}" + (
        f", sector {sel['sector']}," if sel.get("sector") else ""
    )
    what += f" in {sel.get('year', year)}"
    if not bool(np.isfinite(np.asarray(da.values, dtype=float)).any()):
        raise InputError(
            f"map: {what} is NaN in every cell{' of the mask' if masked else ''}: nothing to "
            "draw; choose another year, pollutant or sector (ds[variable].sel(...).count() "
            "counts the values of a map)."
        )
    window = _crop(da) if crop else None
    if window is not None:
        da = da.isel(y=window[0], x=window[1])
    x = da["x"].values
    y = da["y"].values
    dx = float(abs(x[1] - x[0])) if x.size > 1 else 1.0
    dy = float(abs(y[1] - y[0])) if y.size > 1 else 1.0
    extent = (x.min() - dx / 2, x.max() + dx / 2, y.min() - dy / 2, y.max() + dy / 2)
    aspect = (extent[1] - extent[0]) / (extent[3] - extent[2])
    frame = (
        None
        if territories is None
        else _frame_on_map(territories, ds.attrs.get("crs"), extent, "map")
    )
    values = np.asarray(da.values, dtype=float)
    if y.size > 1 and y[0] < y[-1]:
        values = values[::-1]
    log_default = log is None
    log = (variable == "emission") if log is None else log
    _check_limits(vmin, vmax, bool(log), "map")
    # the units the text would write it in (20 pg/m³, not 2e-5 with an offset)
    shown_units, factor = _display_units(str(da.attrs.get("units", "")), values)
    values = values * factor
    vmin = None if vmin is None else float(vmin) * factor
    vmax = None if vmax is None else float(vmax) * factor
    finite = values[np.isfinite(values)]
    if log and not (finite > 0).any():
        nothing = (
            f"{what} has no value above 0 (its largest is {float(finite.max()):g}) to draw on "
            "a logarithmic colour scale"
        )
        if not log_default:
            raise InputError(f"map: log=True, but {nothing}; pass log=False.")
        warn(f"map: {nothing} (the default for {variable}): drawn on a linear scale; pass "
             "log=False for that without this warning.")  # fmt: skip
        log = False
    fig, ax = _new_axes(ax, (float(np.clip(5.5 * aspect + 2.3, 5.0, 12.0)), 6.5))
    norm: Normalize
    if log:
        positive = finite[finite > 0]
        lo = (
            vmin
            if vmin is not None
            else (float(np.percentile(positive, 1)) if positive.size else 1e-3)
        )
        hi = vmax if vmax is not None else (float(positive.max()) if positive.size else 1.0)
        norm = LogNorm(vmin=lo, vmax=max(hi, lo * 10))
        # 0 in the lowest colour (below the scale), not left out like the masked cells
        values = np.where(np.isfinite(values) & (values <= 0), lo * 1e-3, values)
    else:
        norm = Normalize(vmin=vmin, vmax=vmax)
    colours = colour_map.with_extremes(bad=(0.0, 0.0, 0.0, 0.0), under=colour_map(0.0))
    if not np.isfinite(values).all():  # the cells left out: hatched light grey, in the legend
        ax.add_patch(Rectangle((extent[0], extent[2]), extent[1] - extent[0],
                               extent[3] - extent[2], linewidth=0, zorder=0, **_LEFT_OUT))  # fmt: skip
        ax.legend(handles=[Patch(label=_MASKED[lang], **_LEFT_OUT)], loc="lower right",
                  fontsize=7, framealpha=0.9)  # fmt: skip
    image = ax.imshow(
        values,
        extent=extent,
        origin="upper",
        cmap=colours,
        norm=norm,
        interpolation="antialiased",
        interpolation_stage="rgba",  # thin roads stay visible when the map is downsampled
        zorder=1,
    )
    units = units_label(shown_units, lang)
    name = _t(variable, lang) if variable in _TEXT else variable
    per_cell = f" {_t('per_cell', lang)}" if variable == "emission" else ""
    bar = fig.colorbar(
        image, ax=ax, shrink=0.85, label=f"{name} {sel['pollutant']} [{units}{per_cell}]"
    )
    if not log:
        _plain_numbers(bar.ax.yaxis)
    if frame is not None:
        _outlines_from_frame(ax, frame)
    elif "territory_fraction" in ds.data_vars:
        frac = ds["territory_fraction"]
        if window is not None and frac.sizes.get("y") == ds.sizes.get("y"):
            frac = frac.sel(y=da["y"], x=da["x"])
        _outlines_from_fractions(ax, frac, [str(t) for t in frac["territory"].values])
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    _km_axes(ax, lang, _crs_name(ds))
    _scale_bar(ax)
    _north_arrow(ax, lang)
    if title is None:
        what = f"{name} {sel['pollutant']}"
        if sel.get("sector"):
            what += f", {_sector_name(sel['sector'], lang)}"
        title = f"{what}, {_t('annual_mean', lang) if variable != 'emission' else ''} {sel['year']}"
        title = " ".join(title.split())
    ax.set_title(title)
    return _in_language(fig, ax, lang)


# ----------------------------------------------------------------------------- trajectories
def _band_from(
    da: xr.DataArray, band: tuple[xr.DataArray, xr.DataArray] | None
) -> tuple[xr.DataArray, xr.DataArray, xr.DataArray, tuple[float, float] | None] | None:
    """(central, low, high, label) from an ensemble dim of `da` or an explicit pair."""
    if "realization" in da.dims:
        q = da.quantile([0.05, 0.5, 0.95], dim="realization")
        return q.isel(quantile=1), q.isel(quantile=0), q.isel(quantile=2), (5.0, 95.0)
    for dim in ("percentile", "quantile"):
        if dim in da.dims:
            lo, hi = da.isel({dim: 0}), da.isel({dim: -1})
            mid = da.median(dim)
            scale = 1.0 if dim == "percentile" else 100.0
            bounds = (float(da[dim].values[0]) * scale, float(da[dim].values[-1]) * scale)
            return mid, lo, hi, bounds
    if band is not None:
        return da, band[0], band[1], None
    return None


#: The percentiles a run writes under ``[trajectory.uncertainty]`` for the totals of
#: :func:`trajectories` (``variable``: (percentile variable, its territory dim)).
_RUN_BANDS: dict[str, tuple[str, str]] = {
    "concentration": ("territory_concentration_percentile", "receptor"),
    "exposure": ("exposure_percentile", "territory"),
}


def _run_band(
    ds: xr.Dataset, variable: str, territory: str, pol: str, total: xr.DataArray
) -> tuple[xr.DataArray, xr.DataArray, xr.DataArray, tuple[float, float]] | None:
    """The band of the run's own percentiles of `total` (its outer percentiles), when the
    run wrote them (:func:`trajectoire.trajectory.uncertainty.propagate`)."""
    name, dim = _RUN_BANDS.get(variable, ("", ""))
    if name not in ds or dim not in ds[name].dims or territory not in ds[name][dim].values:
        return None
    p = ds[name].sel({dim: territory, "pollutant": pol})
    if bool(p.isnull().all()):
        return None
    bounds = (float(p["percentile"].values[0]), float(p["percentile"].values[-1]))
    return total, p.isel(percentile=0), p.isel(percentile=-1), bounds


def _emission_series(ds: xr.Dataset, territory: str, pol: str, caller: str) -> xr.DataArray:
    """A territory's emission of `pol` by ``(year, sector)`` [t yr-1]: ``territory_emission``
    (stacks whole in the territory their point lies in), else, in an output written before
    it, the emission maps weighted by the territory's share of each cell."""
    _require(ds, ["emission", "territory_fraction"], caller)
    _check_label(ds, "territory", territory, caller)
    emis = ds["emission"].sel(pollutant=pol)
    if bool(emis.isel(year=0, sector=0).isnull().all()):
        raise InputError(f"{caller}: {pol} is not emitted (its emission maps are NaN).")
    if "territory_emission" in ds:
        parts = ds["territory_emission"].sel(territory=territory, pollutant=pol)
        return parts.transpose("year", "sector").compute()
    frac = ds["territory_fraction"].sel(territory=territory).fillna(0.0)
    return xr.dot(emis.fillna(0.0), frac, dim=["y", "x"]).compute()


def _series(
    ds: xr.Dataset, variable: str, territory: str, pol: str, by: str, caller: str
) -> tuple[xr.DataArray, xr.DataArray | None, xr.DataArray, str]:
    """(parts by `by`, background or None, total, units) for one territory."""
    if variable == "emission":
        if by != "sector":
            raise InputError(f"{caller}: emissions are split by='sector' only, got by={by!r}.")
        parts = _emission_series(ds, territory, pol, caller)
        return parts, None, parts.sum("sector"), str(ds["emission"].attrs.get("units", "t yr-1"))
    if variable in ("concentration", "contribution"):
        _require(ds, ["territory_contribution"], caller, " Was the run made with attribution?")
        contrib = ds["territory_contribution"]
        rec = "receptor"
    else:  # exposure
        _require(ds, ["exposure_contribution", "exposure"], caller)
        contrib = ds["exposure_contribution"]
        rec = "receptor"
    _check_label(contrib, rec, territory, caller)
    if by not in ("sector", "origin"):
        raise InputError(f"{caller}: by={by!r}: expected 'sector' or 'origin'.")
    c = contrib.sel({rec: territory, "pollutant": pol})
    parts = c.sum("origin" if by == "sector" else "sector").compute()
    units = str(contrib.attrs.get("units", "ug m-3"))
    if variable == "contribution":
        return parts, None, parts.sum(by), units
    background = ds["background"].sel(pollutant=pol) if "background" in ds else None
    if background is not None and "y" in background.dims:
        background = None  # a background map has no single territory value
    if variable == "exposure":
        total = ds["exposure"].sel(territory=territory, pollutant=pol)
    elif "territory_concentration" in ds:
        total = ds["territory_concentration"].sel(receptor=territory, pollutant=pol)
    else:
        total = parts.sum(by) + (background if background is not None else 0.0)
    return parts, background, total, units


#: the variables :func:`trajectories` reads, by the territory dim they are on
_SERIES_VARIABLES: dict[str, tuple[str, ...]] = {
    "territory": ("territory_fraction", "exposure", "exposure_percentile"),
    "receptor": (
        "territory_contribution",
        "exposure_contribution",
        "territory_concentration",
        "territory_concentration_percentile",
    ),
    "pollutant": (
        "emission",
        "background",
        "exposure",
        "exposure_percentile",
        "territory_contribution",
        "exposure_contribution",
        "territory_concentration",
        "territory_concentration_percentile",
    ),
}


def _uncut_series(ds: xr.Dataset, territory: Any, pollutant: Any, caller: str) -> xr.Dataset:
    """`ds` as :func:`trajectories` reads it, when the user cut it already to the territory
    or pollutant asked (``ds.sel(pollutant="NOx")``: a 0-d coordinate); one line when it
    was cut to another one, to one year (a trajectory runs over the years) or to one
    sector or origin (the parts)."""
    refuse_cuts(ds, caller, ["year"], "a trajectory is drawn over the years")
    ds = _uncut_pollutant(ds, caller, pollutant, _SERIES_VARIABLES["pollutant"])
    for dim in ("territory", "receptor"):
        names = [*_SERIES_VARIABLES[dim], *(f"{n}_number" for n in _SERIES_VARIABLES[dim])]
        ds = _uncut(ds, caller, dim, territory, names, "territory")
    refuse_cuts(ds, caller, ["sector", "origin"], "the figure splits or sums the parts by it")
    return ds


@with_options(PlotOptions, _PLOT_DEFAULTS)
def trajectories(
    ds: xr.Dataset,
    *,
    variable: str = "emission",
    territory: str,
    pollutant: str,
    by: str = "sector",
    stacked: bool = True,
    band: tuple[xr.DataArray, xr.DataArray] | None = None,
    **options: Unpack[PlotOptions],
) -> tuple[Figure, Axes]:
    """Trajectory 1990 → today of one territory, split by sector (or territory of origin).

    Parameters
    ----------
    ds : xarray.Dataset
        An output of ``trajectoire run`` (all its years are drawn).
    variable : {"emission", "concentration", "contribution", "exposure"}, default "emission"
        ``emission``: emissions within the territory [t yr-1] (the maps times the territory's
        cell shares ``territory_fraction``); ``concentration``: territory mean [ug m-3], local
        parts from ``territory_contribution`` stacked on the ``background``, total
        ``territory_concentration``; ``contribution``: the local parts only;
        ``exposure``: population-weighted mean (``exposure_contribution`` on the background,
        total ``exposure``). A background that is 0 every year (a run given none) is left
        out, and so is its legend entry.
    territory : str
        Territory id (``MEL``...).
    pollutant : str
        Pollutant id or alias.
    by : {"sector", "origin"}, default "sector"
        Split of the parts (``origin`` for the aggregates only).
    stacked : bool, default True
        Stacked areas (hatched) or one line per part.
    band : (xarray.DataArray, xarray.DataArray), optional
        Low and high bounds of the total (dims ``year``, on the same years, among the
        series' years) drawn as a band; another form raises
        :class:`trajectoire.InputError`. When the variable
        has a ``realization`` dim (an ensemble) its 5–95 % quantiles are used instead, and a
        ``percentile`` or ``quantile`` dim gives its outer values. Without it, the
        ``concentration`` and ``exposure`` of a run made with ``[trajectory.uncertainty]``
        draw the run's outer percentiles (``territory_concentration_percentile``,
        ``exposure_percentile``).
    **options
        ``ax``, ``lang``, ``title``: see :class:`PlotOptions`. Default title: the variable,
        pollutant and territory.

    Returns
    -------
    fig, ax : matplotlib.figure.Figure, matplotlib.axes.Axes
        The figure and the curves' axes (years along x, the legend outside on the right).

    Raises
    ------
    trajectoire.InputError
        Unknown variable, territory, pollutant or split; a pollutant that is not emitted;
        a dataset without the variables needed (:class:`trajectoire.MissingVariableError`);
        a `band` whose low bound is above its high bound; a dataset cut to one year
        (``ds.sel(year=2023)``: pass the whole output, or a list of years), to one sector
        or origin, or to another territory or pollutant than asked (cut to the one asked,
        it is drawn).

    Notes
    -----
    The parts of NO2 do not add up to its total exactly (the NO2/NOx ratio is not linear;
    ``docs/attribution.md``); the total line is the value written by the run.
    """
    caller = "trajectories"
    ax, lang, title = _options(caller, options)
    ds = _uncut_series(_check_dataset(ds, caller), territory, pollutant, caller)
    ds = _species(ds, pollutant, caller)
    if variable not in _SERIES:
        raise InputError(f"{caller}: variable={variable!r}: expected one of {list(_SERIES)}.")
    if "pollutant" not in ds.coords:
        raise MissingVariableError(f"{caller}: {_source_name(ds)} has no 'pollutant' coordinate.")
    pol = _check_pollutant(ds, pollutant, caller)
    parts, background, total, units = _series(ds, variable, territory, pol, by, caller)
    if background is not None and not bool((background.fillna(0.0) != 0.0).any()):
        background = None  # not given to the run (0 every year): no layer, no legend entry
    band = _check_band(band, total, caller)
    banded = _band_from(total, band)
    if banded is None:
        banded = _run_band(ds, variable, territory, pol, total)
    if banded is not None:
        total = banded[0]
    for extra in ("realization", "percentile", "quantile"):
        if extra in parts.dims:
            parts = parts.mean(extra)
    years = total["year"].values
    shown_units, factor = _display_units(units, total.values)  # kg/an, ng/m³: no 1e-5 offset
    fig, ax = _new_axes(ax, (9.0, 5.0))
    keep = [str(k) for k in parts[by].values if bool((np.abs(parts.sel({by: k})) > 0).any())]
    layers: list[tuple[str, np.ndarray]] = []
    if background is not None:
        layers.append((_t("background", lang), factor * np.asarray(background.values, float)))
    for k in keep:
        label = _sector_name(k, lang) if by == "sector" else _origin_name(k, lang)
        layers.append((label, factor * np.asarray(parts.sel({by: k}).values, dtype=float)))
    cmap = colormaps["viridis"]
    colours = [cmap(v) for v in np.linspace(0.1, 0.95, max(len(layers), 1))]
    if background is not None:
        colours[0] = (0.85, 0.85, 0.85, 1.0)
    runs = _year_runs(years)  # the years calculated one after the other
    for i, (lab, v) in enumerate(layers):
        style = {"color": colours[i], "label": lab}
        for n, run in enumerate(runs):
            style["label"] = lab if n == 0 else "_"
            if not stacked:
                ax.plot(years[run], v[run], linestyle=_LINESTYLES[i % 4],
                        marker=_MARKERS[i % len(_MARKERS)], markersize=4, **style)  # fmt: skip
                continue
            bottom = sum((np.nan_to_num(w[run]) for _, w in layers[:i]), np.zeros(run.size))
            height = np.nan_to_num(v[run])
            if run.size == 1:  # one year alone: a stacked bar (an area needs two)
                ax.bar(years[run], height, bottom=bottom, width=0.6, edgecolor="black",
                       linewidth=0.4, hatch=_HATCHES[i % len(_HATCHES)], **style)  # fmt: skip
            else:
                ax.fill_between(years[run], bottom, bottom + height, edgecolor="black",
                                linewidth=0.4, hatch=_HATCHES[i % len(_HATCHES)],
                                facecolor=colours[i], label=style["label"])  # fmt: skip
    for n, (a, b) in enumerate(zip(runs[:-1], runs[1:], strict=True)):  # never joined across
        ax.axvspan(years[a[-1]], years[b[0]], linewidth=0, zorder=0,
                   label=_NOT_COMPUTED[lang] if n == 0 else "_",
                   **{**_LEFT_OUT, "facecolor": "none"})  # fmt: skip
    if banded is not None:
        lo, hi = banded[1], banded[2]
        q = banded[3]
        label = _t("band_q", lang, lo=q[0], hi=q[1]) if q else _t("band", lang)
        band_years = lo["year"].values
        low = factor * np.asarray(lo.values, float)
        high = factor * np.asarray(hi.values, float)
        for n, run in enumerate(_year_runs(band_years)):
            if run.size == 1:
                ax.vlines(band_years[run], low[run], high[run], color="black", linewidth=0.8,
                          linestyle=":", label=label if n == 0 else "_", zorder=3)  # fmt: skip
                continue
            ax.fill_between(band_years[run], low[run], high[run], facecolor="none",
                            edgecolor="black", hatch="....", linewidth=0.0,
                            label=label if n == 0 else "_", zorder=3)  # fmt: skip
            for edge in (low, high):
                ax.plot(band_years[run], edge[run], color="black", linewidth=0.6, linestyle=":")
    x, y = _broken(years, factor * np.asarray(total.values, float))
    ax.plot(
        x,
        y,
        color="black",
        linewidth=2.0,
        marker="o",
        markersize=4,
        label=_t("total", lang),
        zorder=4,
    )
    qualifier = {
        "emission": _t("in_territory", lang),
        "concentration": _t("area_mean", lang),
        "contribution": f"{_t('area_mean', lang)}, {_t('local', lang)}",
        "exposure": _t("pop_mean", lang),
    }[variable]
    ax.set_ylabel(f"{_t(variable, lang)} {pol}, {qualifier} [{units_label(shown_units, lang)}]")
    ax.set_xlabel(_t("year", lang))
    _plain_numbers(ax.yaxis)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if len(runs) > 1 and years.size <= 12:  # a gapped run: a tick at each year calculated
        ax.set_xticks([int(y) for y in years])
    # years in full: over two or three years matplotlib wrote "-1, 0" and "+2.02e3"
    ax.ticklabel_format(axis="x", useOffset=False, style="plain")
    if len(runs) > 1:  # room for the bars of a year calculated alone
        ax.set_xlim(years.min() - 0.75, years.max() + 0.75)
    elif years.size > 1:
        ax.set_xlim(years.min(), years.max())
    else:  # the year in the middle, alone on the axis (it was drawn from it to the next one)
        ax.set_xlim(years.min() - 0.75, years.min() + 0.75)
        ax.set_xticks([int(years.min())])
    ax.set_ylim(bottom=0.0 if bool((total >= 0).all()) else None)
    ax.grid(True, linestyle=":", linewidth=0.5)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    ax.set_title(title if title is not None else f"{_t(variable, lang)} {pol}: {territory}")
    return _in_language(fig, ax, lang)


def _year_runs(years: Any) -> list[np.ndarray]:
    """The positions of `years` in runs of consecutive years (``[1990, 2000, 2001]``: the
    first alone, then two): a curve is drawn within a run, never across a gap."""
    years = np.asarray(years)
    if years.size == 0:
        return []
    cuts = np.flatnonzero(np.diff(years.astype(float)) > 1.0) + 1
    return [np.asarray(run) for run in np.split(np.arange(years.size), cuts)]


def _broken(years: Any, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`years` and `values` with a NaN between two runs of :func:`_year_runs`, so that a
    line drawn through them stops at each gap."""
    x: list[float] = []
    y: list[float] = []
    for n, run in enumerate(_year_runs(years)):
        if n:
            x.append(float("nan"))
            y.append(float("nan"))
        x += [float(v) for v in np.asarray(years)[run]]
        y += [float(v) for v in values[run]]
    return np.asarray(x), np.asarray(y)


# ----------------------------------------------------------------------------- matrix
@with_options(PlotOptions, _PLOT_DEFAULTS)
def source_receptor(
    ds: xr.Dataset,
    *,
    year: int,
    pollutant: str,
    weighting: str = "area",
    fmt: str = "{:.2g}",
    **options: Unpack[PlotOptions],
) -> tuple[Figure, Axes]:
    """Heat map of the territory × territory source–receptor matrix, values in the cells.

    Parameters
    ----------
    ds : xarray.Dataset
        An output with ``territory_contribution`` (``exposure_contribution`` for
        ``weighting="population"``) ``(year, receptor, sector, origin, pollutant)`` [ug m-3].
    year : int
        Year.
    pollutant : str
        Pollutant id or alias.
    weighting : {"area", "population"}, default "area"
        Territory means or population-weighted means.
    fmt : str, default "{:.2g}"
        Format of the values written in the cells, in :meth:`str.format` style
        (``"{:.2f}"``) or printf style (``"%.2f"``); one that cannot write a number raises
        :class:`trajectoire.InputError`.
    **options
        ``ax``, ``lang``, ``title``: see :class:`PlotOptions`. Default title: the pollutant,
        year and weighting.

    Returns
    -------
    fig, ax : matplotlib.figure.Figure, matplotlib.axes.Axes
        The figure and the matrix (receptors down, origins across) with its colour bar.

    Notes
    -----
    Row ``r``, column ``o``: the part of receptor ``r``'s mean concentration due to the
    emissions of territory ``o`` (all sectors summed,
    :func:`trajectoire.attribution.source_receptor_matrix`); a row adds up to the receptor's
    local concentration (its mean minus the background). A ``rest`` column, when the run has
    one, holds the emissions of the grid outside the seven territories.
    """
    from trajectoire.attribution import source_receptor_matrix

    caller = "source_receptor"
    ax, lang, title = _options(caller, options)
    write = _cell_format(fmt, caller)
    ds = _species(_check_dataset(ds, caller), pollutant, caller)
    names = {"area": "territory_contribution", "population": "exposure_contribution"}
    if weighting not in names:
        raise InputError(f"{caller}: weighting={weighting!r}: expected 'area' or 'population'.")
    _require(ds, [names[weighting]], caller, " Was the run made with attribution?")
    contrib = ds[names[weighting]]
    year = _check_year(ds, year, caller)
    pol = _check_pollutant(contrib, pollutant, caller)
    matrix = source_receptor_matrix(contrib.sel(year=year, pollutant=pol)).transpose(
        "receptor", "origin"
    )
    raw_units = str(contrib.attrs.get("units", "ug m-3"))
    shown_units, factor = _display_units(raw_units, matrix.values)  # ng/m³, not 1e-5 µg/m³
    values = factor * np.asarray(matrix.values, dtype=float)
    scale = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 0.0
    values[np.abs(values) <= 1e-9 * scale] = 0.0  # float32 round-off (-8e-19) prints as 0
    receptors = [str(v) for v in matrix["receptor"].values]
    origins = [str(v) for v in matrix["origin"].values]
    fig, ax = _new_axes(ax, (1.0 + 0.9 * len(origins), 1.2 + 0.7 * len(receptors)))
    cmap = colormaps["viridis"]
    norm = Normalize(vmin=0.0, vmax=float(np.nanmax(values)) if np.isfinite(values).any() else 1.0)
    image = ax.imshow(values, cmap=cmap, norm=norm, aspect="auto")
    for i in range(len(receptors)):
        for j in range(len(origins)):
            v = values[i, j]
            if not np.isfinite(v):
                continue
            r, g, b, _ = cmap(norm(v))
            dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5
            ax.text(
                j,
                i,
                write(v),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if dark else "black",
            )
    ax.set_xticks(range(len(origins)), [_origin_name(o, lang) for o in origins], rotation=45,
                  ha="right")  # fmt: skip
    ax.set_yticks(range(len(receptors)), receptors)
    ax.set_xlabel(_t("origin", lang))
    ax.set_ylabel(_t("receptor", lang))
    units = units_label(shown_units, lang)
    bar = fig.colorbar(image, ax=ax, label=f"{_t('contribution', lang)} {pol} [{units}]")
    _plain_numbers(bar.ax.yaxis)
    ax.set_title(
        title
        if title is not None
        else _t("sr_title", lang, pollutant=pol, year=year, weighting=_t(weighting, lang)),
        fontsize=10,
    )
    return _in_language(fig, ax, lang)


# ----------------------------------------------------------------------------- exposure
def _population_map(
    ds: xr.Dataset, year: int, territories: list[str], caller: str
) -> tuple[xr.DataArray, str]:
    """Inhabitants per cell ``(y, x)`` and what they come from (see exposure_distribution)."""
    if "population" in ds.data_vars and {"y", "x"} <= set(ds["population"].dims):
        pop = ds["population"]
        if "year" in pop.dims:
            pop = pop.sel(year=year, method="nearest")
        if "territory_fraction" in ds.data_vars:
            pop = pop * ds["territory_fraction"].sel(territory=territories).sum("territory")
        return pop.fillna(0.0), "grid"
    _require(
        ds,
        ["population_total", "territory_fraction"],
        caller,
        " It needs a population grid, or the inhabitants of each territory and the cell shares.",
    )
    frac = ds["territory_fraction"].sel(territory=territories).fillna(0.0)
    people = ds["population_total"].sel(year=year, territory=territories)
    density = people / frac.sum(("y", "x"))
    return (frac * density).sum("territory"), "uniform"


def _people(n: float) -> str:
    """Inhabitants as the report writes them: to the nearest hundred from a thousand up."""
    n = round(n, -2 if abs(n) >= 1000 else 0)
    return f"{n:,.0f}".replace(",", "\u202f")


def _level_text(value: float) -> str:
    """A level as the report writes it: a tenth from 1 up, two significant digits below (at
    most three decimals)."""
    nd = 1 if abs(value) >= 1 or value == 0 else min(3, 1 - int(np.floor(np.log10(abs(value)))))
    return f"{round(value, nd):.{nd}f}"


def _t_text(key: str, lang: str, **fields: str) -> str:
    """:func:`_t` with text fields written as given (the format specs of the labels dropped)."""
    return re.sub(r"\{(\w+):[^}]*\}", r"{\1}", _TEXT[key][lang]).format(**fields)


def _run_counts(ds: xr.Dataset, territory: str | None, year: int, pol: str) -> dict[str, float]:
    """The run's own numbers of one `territory` that the report's text writes: its
    inhabitants (``population_total``), their mean level (``exposure``) and those above
    the WHO 2021 guideline and the EU 2030 limit (``inhabitants_above``, keys ``who``,
    ``eu``); empty when `territory` is None or the output lacks them."""
    names = ("inhabitants_above", "population_total", "exposure")
    if territory is None or any(n not in ds.data_vars for n in names):
        return {}
    try:
        above = ds["inhabitants_above"].sel(year=year, territory=territory, pollutant=pol)
        out = {
            "total": float(ds["population_total"].sel(year=year, territory=territory)),
            "mean": float(ds["exposure"].sel(year=year, territory=territory, pollutant=pol)),
        }
    except (KeyError, ValueError, TypeError):
        return {}
    if not (np.isfinite(out["total"]) and out["total"] > 0 and np.isfinite(out["mean"])):
        return {}
    labels = [str(v) for v in above["threshold"].values] if "threshold" in above.dims else []
    for key, label in (("who", "WHO2021"), ("eu", "EU2030")):
        if label in labels and np.isfinite(float(above.sel(threshold=label))):
            out[key] = float(above.sel(threshold=label))
    return out


def _reference_value(ds: xr.Dataset, pollutant: str, label: str) -> float | None:
    """The reference value `label` of `pollutant` [its concentration units] the run counted
    its inhabitants against (``exposure_threshold`` of the output: a ``[species]`` file's
    species included), else the species registry's in use; None where there is none."""
    from trajectoire.assess.exposure import registry_thresholds

    held = ds.get("exposure_threshold")
    if held is not None and {"threshold", "pollutant"} <= set(held.dims):
        if label in held["threshold"].values and pollutant in held["pollutant"].values:
            value = float(held.sel(threshold=label, pollutant=pollutant))
            return value if np.isfinite(value) else None
    return registry_thresholds()[label].get(pollutant)


@with_options(PlotOptions, _PLOT_DEFAULTS)
def exposure_distribution(
    ds: xr.Dataset,
    *,
    year: int,
    pollutant: str,
    territory: str | None = None,
    bins: int = 40,
    **options: Unpack[PlotOptions],
) -> tuple[Figure, Axes]:
    """Distribution of what inhabitants breathe, with the people above WHO and EU thresholds.

    A histogram of the annual mean concentration of the cells weighted by their inhabitants
    (bars hatched by class: below the WHO 2021 guideline, between it and the EU 2030 limit,
    above the limit), the thresholds as vertical lines with the number of inhabitants above
    each (:func:`trajectoire.assess.exposure.population_above`), and the population-weighted
    mean.

    Parameters
    ----------
    ds : xarray.Dataset
        An output of ``trajectoire run``.
    year : int
        Year.
    pollutant : str
        Pollutant id or alias. The WHO 2021 and EU 2030 reference lines are the output's
        ``exposure_threshold`` (the values the run counted against), else the species
        registry's (:func:`trajectoire.assess.exposure.registry_thresholds`: NO2, PM10,
        PM2.5, and SO2's 2030 limit).
    territory : str, optional
        One territory; default the seven together.
    bins : int, default 40
        Number of concentration classes (of equal width), an integer >= 1.
    **options
        ``ax``, ``lang``, ``title``: see :class:`PlotOptions`. Default title: the pollutant,
        year, territory and which population weights were used.

    Returns
    -------
    fig, ax : matplotlib.figure.Figure, matplotlib.axes.Axes
        The figure and the histogram's axes (inhabitants per concentration bin).

    Notes
    -----
    The inhabitants per cell come from the output's ``population`` grid when it has one.
    Otherwise (the outputs of this version) they are derived from what the output holds: the
    inhabitants of each territory (``population_total(year, territory)``) spread evenly over
    the territory's area (``territory_fraction``). The histogram then weights the cells by
    area within each territory; the run's own population-weighted mean ``exposure``, computed
    on the census grid, is drawn beside it for comparison, and the figure says which weights
    were used.
    """
    from trajectoire.assess.exposure import population_above
    from trajectoire.io.netcdf import select_map

    caller = "exposure_distribution"
    ax, lang, title = _options(caller, options)
    bins = _check_bins(bins, caller)
    ds = _species(_check_dataset(ds, caller), pollutant, caller)
    _require(ds, ["concentration"], caller)
    year = _check_year(ds, year, caller)
    pol = _check_pollutant(ds["concentration"], pollutant, caller)
    if "territory_fraction" in ds.data_vars:
        all_terr = [str(t) for t in ds["territory_fraction"]["territory"].values]
    elif "territory" in ds.coords:
        all_terr = [str(t) for t in ds["territory"].values]
    else:
        all_terr = []
    if territory is not None:
        territory = _check_label(ds, "territory", territory, caller)
    chosen = [territory] if territory is not None else all_terr
    conc, _ = select_map(ds, "concentration", year=year, pollutant=pol)
    pop, source = _population_map(ds, year, chosen, caller)
    conc = conc.load()
    pop = pop.transpose("y", "x").load()
    c = np.asarray(conc.values, dtype=float).ravel()
    w = np.asarray(pop.values, dtype=float).ravel()
    ok = np.isfinite(c) & (w > 0)
    if not ok.any():
        raise InputError(f"{caller}: no inhabitants with a concentration in {year} for {chosen}.")
    c, w = c[ok], w[ok]
    units_raw = str(conc.attrs.get("units", "ug m-3"))
    units = units_label(units_raw, lang)
    who, eu = (_reference_value(ds, pol, label) for label in ("WHO2021", "EU2030"))
    hi = max(float(c.max()), (eu or 0.0) * 1.1, (who or 0.0) * 1.1)
    lo = min(float(c.min()), who or np.inf) * 0.95
    counts, edges = np.histogram(c, bins=bins, range=(lo, hi), weights=w)
    centres = 0.5 * (edges[:-1] + edges[1:])
    fig, ax = _new_axes(ax, (8.5, 5.0))
    cmap = colormaps["viridis"]
    classes = [
        (-np.inf, who if who is not None else np.inf, "below_who", cmap(0.25), ""),
        (who, eu, "who_eu", cmap(0.6), "//"),
        (eu, np.inf, "above_eu", cmap(0.9), "xx"),
    ]
    width = edges[1] - edges[0]
    for low, high, key, colour, hatch in classes:
        if low is None or high is None:
            continue
        sel = (centres >= low) & (centres < high)
        if not sel.any():
            continue
        ax.bar(
            centres[sel],
            counts[sel],
            width=width,
            color=colour,
            hatch=hatch,
            edgecolor="black",
            linewidth=0.4,
            label=_t(key, lang) if who is not None else _t("inhabitants", lang),
        )
    total_people = float(w.sum())
    # for one territory, the numbers the report's text writes (the run's own counts)
    run = _run_counts(ds, territory, year, pol)
    for value, key, style in ((who, "who", "--"), (eu, "eu", "-.")):
        if value is None:
            continue
        if key in run:
            people, everyone = run[key], run["total"]
        else:
            people, everyone = float(population_above(conc, pop, value)), total_people
        ax.axvline(
            value,
            color="black",
            linestyle=style,
            linewidth=1.5,
            label=_t(
                "above",
                lang,
                label=_t(key, lang),
                value=value,
                units=units,
                people=_people(people),
                share=round(100.0 * people / everyone),
            ),
        )
    mean = run["mean"] if run else float((c * w).sum() / w.sum())
    ax.axvline(
        mean,
        color="black",
        linestyle=":",
        linewidth=1.5,
        label=_t_text("pw_mean", lang, value=_level_text(mean), units=units),
    )
    colon = " :" if lang == "fr" else ":"
    if not run and "exposure" in ds.data_vars and territory is not None and source == "uniform":
        run_mean = float(ds["exposure"].sel(year=year, territory=territory, pollutant=pol))
        ax.plot(
            [run_mean],
            [0],
            marker="^",
            markersize=10,
            color="black",
            linestyle="none",
            clip_on=False,
            label=f"{_t('exposure', lang)} ({_t('pop_mean', lang)}){colon} {run_mean:.3g} {units}",
        )
    if who is None and eu is None:
        ax.text(
            0.98,
            0.95,
            _t("no_threshold", lang, pollutant=pol),
            transform=ax.transAxes,
            ha="right",
            va="top",
            fontsize=8,
        )
    ax.set_xlabel(f"{_t('concentration', lang)} {pol}, {_t('annual_mean', lang)} [{units}]")
    ax.set_ylabel(_t("inh_per_bin", lang, width=width, units=units))
    ax.grid(True, axis="y", linestyle=":", linewidth=0.5)
    ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.13), ncol=2, fontsize=7, frameon=False)
    where = territory if territory is not None else _t("all_territories", lang)
    if title is None:
        title = _t("exp_title", lang, pollutant=pol, year=year, where=where)
        title += "\n(" + _t("pop_uniform" if source == "uniform" else "pop_grid", lang) + ")"
    ax.set_title(title, fontsize=9)
    return _in_language(fig, ax, lang)


# ----------------------------------------------------------------------------- evaluation
@with_options(PlotOptions, _PLOT_DEFAULTS)
def target_plot(
    stats: xr.Dataset,
    *,
    dim: str = "station",
    labels: bool | None = None,
    **options: Unpack[PlotOptions],
) -> tuple[Figure, Axes]:
    """FAIRMODE target plot: one point per station, the MQI = 1 circle and the quadrants.

    Parameters
    ----------
    stats : xarray.Dataset
        Output of :func:`trajectoire.assess.evaluation.mqi` with ``kind="timeseries"``: its
        ``mqi_bias``, ``mqi_std`` and ``mqi_corr`` along `dim` (other dims of size 1).
    dim : str, default "station"
        Station dimension.
    labels : bool, optional
        Write the station ids beside the points; default when there are at most 15.
    **options
        ``ax``, ``lang``, ``title``: see :class:`PlotOptions`. Default title: the pollutant,
        the stations drawn and meeting the objective, and the network's 90th percentile.

    Returns
    -------
    fig, ax : matplotlib.figure.Figure, matplotlib.axes.Axes
        The figure and the target's axes (bias term up, centred RMSE term across, in
        units of the measurement uncertainty: the MQI = 1 circle).

    Notes
    -----
    With ``MQI² = bias² + std² + corr²`` (the signed terms of :func:`mqi`, each divided by
    ``β RMS_U``), a station is drawn at ``y = mqi_bias`` (above the axis: the model
    overestimates) and ``x = ±sqrt(mqi_std² + mqi_corr²)``, the centred RMSE: on the right when
    the standard-deviation term dominates (``|mqi_std| > mqi_corr``), on the left when the
    correlation term does (Janssen and Thunis 2022, target diagram). Its distance to the
    centre is its MQI; inside the circle of radius 1 the modelling quality objective is met
    (filled markers), outside it is not (open markers). The title gives the network's 90th
    percentile (:func:`trajectoire.assess.evaluation.mqi_network`).
    """
    from trajectoire.assess.evaluation import mqi_network

    caller = "target_plot"
    ax, lang, title = _options(caller, options)
    _require_result(
        stats,
        ["mqi_bias", "mqi_std", "mqi_corr"],
        caller,
        "mqi(..., kind='timeseries')",
        " The target plot needs the terms of mqi(..., kind='timeseries').",
    )
    terms = stats[["mqi_bias", "mqi_std", "mqi_corr"]]
    if dim not in terms.dims:
        raise InputError(f"{caller}: dim {dim!r} not in the statistics' dims {list(terms.dims)}.")
    extra = {d: n for d, n in terms.sizes.items() if d != dim}
    if any(n > 1 for n in extra.values()):
        raise InputError(
            f"{caller}: the statistics have dims {extra} besides {dim!r}; select one value of each "
            "(stats.sel(pollutant='NO2')) first."
        )
    terms = terms.squeeze([d for d in extra], drop=True)
    bias = np.asarray(terms["mqi_bias"].values, dtype=float)
    std = np.asarray(terms["mqi_std"].values, dtype=float)
    corr = np.asarray(terms["mqi_corr"].values, dtype=float)
    crmse = np.sqrt(std**2 + corr**2)
    x = np.where(np.abs(std) > corr, crmse, -crmse)
    y = bias
    value = np.hypot(x, y)
    ids = [str(s) for s in terms[dim].values]
    valid = np.isfinite(value)
    fig, ax = _new_axes(ax, (6.5, 6.5))
    lim = max(
        1.5, float(np.nanmax(np.abs(np.r_[x[valid], y[valid]]))) * 1.15 if valid.any() else 1.5
    )
    ax.add_patch(
        Circle(
            (0, 0),
            1.0,
            facecolor=(0.9, 0.9, 0.9),
            edgecolor="black",
            linewidth=1.5,
            zorder=0,
            label=_t("mqi_circle", lang),
        )
    )
    ax.add_patch(
        Circle(
            (0, 0),
            0.5,
            facecolor="none",
            edgecolor="black",
            linestyle="--",
            linewidth=0.8,
            zorder=1,
            label=_t("mqi_half", lang),
        )
    )
    ax.axhline(0, color="black", linewidth=0.6, zorder=1)
    ax.axvline(0, color="black", linewidth=0.6, zorder=1)
    cmap = colormaps["viridis"]
    inside = valid & (value <= 1.0)
    outside = valid & (value > 1.0)
    ax.scatter(
        x[inside],
        y[inside],
        marker="o",
        s=40,
        color=cmap(0.35),
        edgecolor="black",
        zorder=3,
        label=f"{_t('mqi_ok', lang)}: {int(inside.sum())}",
    )
    ax.scatter(
        x[outside],
        y[outside],
        marker="s",
        s=40,
        facecolor="white",
        edgecolor=cmap(0.0),
        linewidth=1.5,
        zorder=3,
        label=f"{_t('mqi_bad', lang)}: {int(outside.sum())}",
    )
    if labels is None:
        labels = len(ids) <= 15
    if labels:
        for i in np.flatnonzero(valid):
            ax.annotate(ids[i], (x[i], y[i]), xytext=(4, 4), textcoords="offset points", fontsize=7)
    halo = [patheffects.withStroke(linewidth=2.5, foreground="white")]
    for qx, qy, ha, va, key in (
        (-0.97, 0.97, "left", "top", "r_dom"),
        (0.97, 0.97, "right", "top", "sd_dom"),
        (-0.97, -0.97, "left", "bottom", "r_dom"),
        (0.97, -0.97, "right", "bottom", "sd_dom"),
    ):
        bias_key = "over" if qy > 0 else "under"
        ax.text(
            qx * lim,
            qy * lim,
            f"{_t(key, lang)}\n{_t(bias_key, lang)}",
            ha=ha,
            va=va,
            fontsize=7,
            style="italic",
            path_effects=halo,
            zorder=2,
        )
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xlabel(_t("target_x", lang), fontsize=9)
    ax.set_ylabel(_t("target_y", lang))
    ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.12), ncol=2, fontsize=8, frameon=False)
    if title is None:
        pol = stats.attrs.get("pollutant")
        what = f" ({pol})" if pol else ""
        n = int(valid.sum())
        one = n < 2 if lang == "fr" else n == 1  # « 0 station », "0 stations"
        stations = "station" if one else "stations"  # the same word in both languages
        title = _t("target_title", lang, what=what, n=n, ok=int(inside.sum()), stations=stations)
        if valid.any():  # no percentile of no station ("nan")
            p90 = float(mqi_network(xr.DataArray(value[valid], dims=dim)).mqi_percentile)
            title += "\n" + _t("p90", lang, value=p90)
    ax.set_title(title, fontsize=10)
    return _in_language(fig, ax, lang)


# ----------------------------------------------------------------------------- change
_EFFECTS = ("change_emission", "change_meteorology", "change_background")


def _effect_bars(
    ax: Axes,
    pos: np.ndarray,
    effects: Sequence[tuple[str, np.ndarray]],
    width: float,
    lang: str,
) -> None:
    """Bars of each effect side by side around the positions `pos`, one colour and hatch each.

    `effects` are (name, values at `pos`) pairs, in the order of :data:`_EFFECTS`.
    """
    cmap = colormaps["viridis"]
    colours = [cmap(0.15), cmap(0.55), cmap(0.9)]
    hatches = ["", "//", "xx"]
    middle = (len(effects) - 1) / 2
    for i, (name, values) in enumerate(effects):
        ax.bar(
            pos + (i - middle) * width,
            values,
            width=width,
            color=colours[i],
            hatch=hatches[i],
            edgecolor="black",
            linewidth=0.5,
            label=_t(name, lang),
        )


def _uncut_change(
    d: xr.Dataset, pollutant: Any, territory: str | None, by: str, caller: str
) -> tuple[xr.Dataset, str | None]:
    """`d` and `territory` as :func:`change_bars` reads them, when the user cut the
    decomposition already to the pollutant or receptor asked (``d.sel(receptor="MEL")``: a
    0-d coordinate, whose receptor is then the territory drawn) or to the sectors' sum
    ``all`` with ``by="factor"``; one line when it was cut to another one."""
    d = _uncut_pollutant(d, caller, pollutant, [*_EFFECTS, "change_total"])
    receptor = scalar_coordinate(d, "receptor")
    if receptor is not None:
        territory = str(receptor) if territory is None else territory
        d = _uncut(d, caller, "receptor", territory, [str(v) for v in d.data_vars], "territory")
    sector = scalar_coordinate(d, "sector")
    if sector is not None:
        if str(sector) != "all" or by != "factor":
            reads = "the sectors' sum 'all'" if by == "factor" else "each sector"
            refuse_cuts(d, caller, ["sector"], f"by={by!r} reads {reads}", keep=False)
        names = [f"{e}{suffix}" for e in _EFFECTS for suffix in ("", "_number")]
        d = _put_back(d, "sector", names)
    return d, territory


@with_options(PlotOptions, _PLOT_DEFAULTS)
def change_bars(
    decomposition: xr.Dataset,
    *,
    pollutant: str,
    territory: str | None = None,
    by: str = "factor",
    **options: Unpack[PlotOptions],
) -> tuple[Figure, Axes]:
    """Bars of the change of the territory means between two years, split into its causes.

    Parameters
    ----------
    decomposition : xarray.Dataset
        Output of :func:`trajectoire.batch.pipeline.decompose_change`:
        ``change_emission(receptor, sector, pollutant)``, ``change_meteorology(receptor,
        sector, pollutant)`` (with a last sector ``all``, their sum), ``change_background``
        and ``change_total(receptor, pollutant)`` [ug m-3]; attribute ``period``.
    pollutant : str
        Pollutant id or alias; a particle-number species (``UFP``) draws the ``*_number``
        effects, in their own units (``cm-3``).
    territory : str, optional
        One receptor territory; default all of them side by side (``by="factor"``).
    by : {"factor", "sector"}, default "factor"
        ``factor``: three bars per territory (emissions, meteorology, background, hatched)
        and the total change as a diamond. ``sector``: for one `territory`, the emission and
        meteorology effects of each sector (not for NO2, split on its total only).
    **options
        ``ax``, ``lang``, ``title``: see :class:`PlotOptions`. Default title: the pollutant,
        period and territory.

    Returns
    -------
    fig, ax : matplotlib.figure.Figure, matplotlib.axes.Axes
        The figure and the bars' axes (change in the variable's units, zero line drawn).

    Raises
    ------
    trajectoire.InputError
        `decomposition` that is not :func:`~trajectoire.batch.pipeline.decompose_change`'s
        Dataset (:class:`trajectoire.MissingVariableError` for missing variables), an
        unknown pollutant, territory or `by`, ``by="sector"`` without a territory or for
        NO2; a decomposition cut to another pollutant or receptor than asked
        (``d.sel(receptor="MEL")`` draws MEL; with another `territory` it raises), or to one
        sector.

    Notes
    -----
    The three Shapley effects add up to the total change (``docs/attribution.md``), so the
    bars of a territory add up to its diamond.
    """
    caller = "change_bars"
    ax, lang, title = _options(caller, options)
    _require_result(
        decomposition,
        [*_EFFECTS, "change_total"],
        caller,
        "decompose_change",
        " Pass the result of trajectoire.batch.pipeline.decompose_change.",
    )
    decomposition, territory = _uncut_change(decomposition, pollutant, territory, by, caller)
    decomposition = _species(decomposition, pollutant, caller)
    pol = _check_pollutant(decomposition, pollutant, caller)
    d = decomposition.sel(pollutant=pol)
    if territory is not None:
        territory = _check_label(d, "receptor", territory, caller)
    if by not in ("factor", "sector"):
        raise InputError(f"{caller}: by={by!r}: expected 'factor' or 'sector'.")
    split = [str(s) for s in d["sector"].values] if "sector" in d.dims else None
    if by == "sector" and not split:
        raise InputError(
            f"{caller}: by='sector' needs the effects per sector (a 'sector' dim), which "
            "this decomposition has not; use by='factor'."
        )
    if split is not None and "all" not in split:
        raise InputError(
            f"{caller}: the effects are given per sector {split} without their sum, the "
            "sector 'all' that decompose_change writes; pass decompose_change's result."
        )
    units_raw = str(decomposition["change_total"].attrs.get("units", "ug m-3"))
    units = units_label(units_raw, lang)
    period = str(decomposition["change_total"].attrs.get("period", "")).replace("-", "→")
    if by == "factor":
        receptors = [territory] if territory is not None else [str(r) for r in d["receptor"].values]
        n = len(receptors)
        fig, ax = _new_axes(ax, (max(5.0, 0.9 * n + 2.5), 4.8))
        pos = np.arange(n)
        width = 0.8 / 3
        effects = []
        for name in _EFFECTS:
            da = d[name]
            if "sector" in da.dims:
                da = da.sel(sector="all")
            effects.append((name, np.asarray(da.sel(receptor=receptors).values, dtype=float)))
        _effect_bars(ax, pos, effects, width, lang)
        total = np.asarray(d["change_total"].sel(receptor=receptors).values, dtype=float)
        ax.scatter(
            pos, total, marker="D", s=45, color="black", zorder=4, label=_t("change_total", lang)
        )
        ax.set_xticks(pos, receptors)
        ax.set_xlabel(_t("receptor", lang))
    else:
        if territory is None:
            raise InputError(
                f"{caller}: by='sector' needs a territory among {[str(r) for r in d['receptor'].values]}."
            )
        sectors = [str(s) for s in d["sector"].values if str(s) != "all"]
        em = d["change_emission"].sel(receptor=territory, sector=sectors)
        me = d["change_meteorology"].sel(receptor=territory, sector=sectors)
        if bool(em.isnull().all()):
            raise InputError(
                f"{caller}: {pol} has no split by sector (NO2 is split on its total); use by='factor'."
            )
        keep = [s for s in sectors if bool(abs(em.sel(sector=s)) + abs(me.sel(sector=s)) > 0)]
        fig, ax = _new_axes(ax, (max(6.0, 0.6 * len(keep) + 3.0), 5.0))
        pos = np.arange(len(keep))
        width = 0.38
        effects = [
            (name, np.asarray(da.sel(sector=keep).values, dtype=float))
            for name, da in (("change_emission", em), ("change_meteorology", me))
        ]
        _effect_bars(ax, pos, effects, width, lang)
        ax.set_xticks(
            pos, [_sector_name(s, lang) for s in keep], rotation=40, ha="right", fontsize=8
        )
        ax.set_xlabel(_t("sector", lang))
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_ylabel(_t("change_y", lang, units=units))
    ax.grid(True, axis="y", linestyle=":", linewidth=0.5)
    ax.legend(fontsize=8, frameon=False, loc="best")
    where = f", {territory}" if territory is not None else ""
    ax.set_title(
        title
        if title is not None
        else _t("change_title", lang, pollutant=pol, period=period, where=where),
        fontsize=10,
    )
    return _in_language(fig, ax, lang)
