"""One self-contained HTML page per territory, for residents and elected officials.

:func:`build_report` reads a run's output (and optionally a scenario output), gathers the
numbers through a :class:`~trajectoire.report.numbers.Tracer` (each one written with the
recipe that reads it from the file), draws the figures with :mod:`trajectoire.plot`,
embeds them as base64 PNG and renders the Jinja2 template of the language. The page needs
no other file: styles are inline, images are ``data:`` URIs, links point to anchors of the
page only. :func:`write_report` writes it (and a PDF through headless Chromium, on request).
"""

from __future__ import annotations

import base64
import io
import math
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr
from markupsafe import Markup

from trajectoire._validate import refuse_cuts
from trajectoire.errors import InputError, MissingVariableError, TrajectoireError
from trajectoire.geo.territories import TERRITORIES, territory_id
from trajectoire.report.numbers import Number, Term, Tracer, format_number
from trajectoire.report.wording import (
    ANCHOR_INPUT,
    EMERGING,
    EMERGING_UNITS,
    INPUTS,
    LANGS,
    POLLUTANTS,
    PRECURSOR,
    SCENARIO_CUT,
    SECTORS,
    SPECIES_WORDS,
    SYMBOLS,
    THRESHOLD_LABELS,
    THRESHOLD_WORDS,
    ZONE_TITLES,
    ZONES_NAME,
    count_words,
    takes_plural,
    year_list,
    year_spans,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "REQUIRED_VARIABLES",
    "build_report",
    "chromium_command",
    "find_chromium",
    "html_to_pdf",
    "report_context",
    "write_report",
]

#: Variables of the output the report reads (docs/outputs.md); the first missing one is named.
REQUIRED_VARIABLES: tuple[str, ...] = (
    "exposure",
    "inhabitants_above",
    "exposure_threshold",
    "population_total",
    "exposure_contribution",
    "background",
    "concentration",
    "emission",
    "territory_fraction",
)
#: Variables of a change decomposition (``trajectoire.batch.pipeline.decompose_change``).
CHANGE_VARIABLES = ("change_emission", "change_meteorology", "change_background", "change_total")
_FIG_DPI = 80
_CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


# ----------------------------------------------------------------------------- checks
#: The dims of a run's output that the report reads whole (a user's ``ds.sel(year=2023)``
#: leaves one as a 0-d coordinate).
_WHOLE_DIMS = (
    "year",
    "pollutant",
    "pollutant_number",
    "territory",
    "receptor",
    "origin",
    "sector",
    "threshold",
    "zone",
    "quantile",
)


def _check_datasets(ds: Any, scenario: Any) -> None:
    """One line for a `ds` or `scenario` that is not a Dataset (a path, a DataArray), or
    that was cut along a dim the report reads whole (``ds.sel(year=2023)``)."""
    for what, value, cli in (("ds", ds, "OUT.nc"), ("scenario", scenario, "--scenario")):
        if what == "scenario" and value is None:
            continue
        if not isinstance(value, xr.Dataset):
            given = (
                f"the DataArray {value.name!r} (one variable)"
                if isinstance(value, xr.DataArray)
                else f"a {type(value).__name__}"
            )
            fix = (
                f"trajectoire.open_output({str(value)!r})"
                if isinstance(value, str | os.PathLike)
                else "trajectoire.open_output(path)"
            )
            made = "a run" if what == "ds" else "`trajectoire scenario`"
            raise InputError(
                f"report: {what}= ({cli}) is {given}; expected the xarray.Dataset of {made}'s "
                f"output, whole: {what}={fix}."
            )
        refuse_cuts(
            value,
            "report",
            _WHOLE_DIMS,
            "the report reads every {dim} of the output",
            name=what,
            subject=f"{what}= ({cli})",
            whole=f"the whole output ({what}=trajectoire.open_output(path))",
        )


def _check_output(ds: xr.Dataset, lang: str) -> None:
    """Check the language and the variables the report reads (a NetCDF that is not a run's
    output, a scenario's, ended on a KeyError)."""
    if lang not in LANGS:
        raise InputError(
            f"report: --lang {lang!r} is not available (lang= in Python); expected one of "
            f"{list(LANGS)}."
        )
    missing = [v for v in REQUIRED_VARIABLES if v not in ds.data_vars]
    if missing:
        source = ds.encoding.get("source")
        lacks = (
            f"has none of the variables it needs ({', '.join(REQUIRED_VARIABLES)})"
            if len(missing) == len(REQUIRED_VARIABLES)
            else f"lacks {', '.join(missing)} (it needs {', '.join(REQUIRED_VARIABLES)})"
        )
        raise MissingVariableError(
            f"report: {'the output' if source is None else repr(str(source))} {lacks}: it is "
            "not the output of `trajectoire run`, or of an older version; make it with "
            "`trajectoire run CONFIG --out OUT.nc` of this version."
        )


def _check_inputs(ds: xr.Dataset, territory: str, lang: str) -> list[str]:
    """Check the territory (after :func:`_check_output`); return the pollutants to show."""
    known = [str(t) for t in ds["exposure"]["territory"].values]
    if territory not in known:
        raise InputError(
            f"report: territory {territory!r} is not in the output; expected one of {known}."
        )
    pollutants = [p for p in POLLUTANTS["fr"] if p in ds["exposure"]["pollutant"].values]
    if not pollutants:
        raise InputError(
            "report: the output has none of the pollutants NO2, PM10, PM2.5 in 'exposure' "
            f"(it has {[str(p) for p in ds['exposure']['pollutant'].values]})."
        )
    return pollutants


# ----------------------------------------------------------------------------- figures
def _png(fig: Figure) -> str:
    """The figure as a ``data:image/png;base64,...`` URI."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_FIG_DPI, bbox_inches="tight", facecolor="white")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _around(ds: xr.Dataset, territory: str, pad: int = 10) -> xr.Dataset:
    """The dataset cut to the territory's cells plus `pad` cells around (for its map)."""
    inside = np.asarray(ds["territory_fraction"].sel(territory=territory).fillna(0).values) > 0
    if not inside.any():
        return ds
    rows, cols = np.flatnonzero(inside.any(axis=1)), np.flatnonzero(inside.any(axis=0))
    ys = slice(max(rows[0] - pad, 0), rows[-1] + pad + 1)
    xs = slice(max(cols[0] - pad, 0), cols[-1] + pad + 1)
    return ds.isel(y=ys, x=xs)


#: What the distribution figure's inhabitants are, by language and whether the output has a
#: population grid (True) or the inhabitants are spread evenly over each territory (False).
_SPREAD: dict[str, dict[bool, str]] = {
    "fr": {
        True: "Les barres comptent les habitants carré par carré, d'après la grille de "
        "population du calcul ; les nombres d'habitants au-dessus des repères et la moyenne "
        "écrits sur la figure sont ceux du texte.",
        False: "Les barres de cette figure répartissent les habitants également sur le "
        "territoire ; les nombres d'habitants au-dessus des repères et la moyenne écrits sur "
        "la figure sont ceux du texte.",
    },
    "en": {
        True: "The bars count the inhabitants square by square, from the calculation's "
        "population grid; the numbers of inhabitants above the yardsticks and the mean "
        "written on the figure are those of the text.",
        False: "The bars of this figure spread the inhabitants evenly over the territory; "
        "the numbers of inhabitants above the yardsticks and the mean written on the figure "
        "are those of the text.",
    },
}

#: (key, drawing function, caption) of one figure of the report
_FigureSpec = tuple[str, Callable[[], tuple[Any, Any]], str]


def _figures(
    ds: xr.Dataset, territory: str, pollutants: list[str], first: int, last: int, lang: str
) -> list[dict[str, str]]:
    from trajectoire import plot

    fr = lang == "fr"
    name = POLLUTANTS[lang]
    words = SPECIES_WORDS[lang]
    main = pollutants[0]
    fine = "PM2.5" if "PM2.5" in pollutants else pollutants[-1]
    emitted = words[PRECURSOR[main]] if PRECURSOR[main] in words else None
    # the distribution figure counts the inhabitants of the output's population grid when it
    # has one (plot.exposure_distribution), else spreads them evenly over each territory
    grid = "population" in ds.data_vars and {"y", "x"} <= set(ds["population"].dims)

    def breathed(key: str, pol: str) -> _FigureSpec:
        """The figure of what the inhabitants breathe of `pol`, year by year, by source."""
        return (
            key,
            lambda: plot.trajectories(
                ds, variable="exposure", territory=territory, pollutant=pol, lang=lang
            ),
            (
                f"Ce que respirent les habitants, {name[pol][0]}, année par année, par source"
                if fr
                else f"What the inhabitants breathe, {name[pol][0]}, year by year, by source"
            ),
        )

    figs: list[_FigureSpec] = [
        (
            "map",
            lambda: plot.map(
                _around(ds, territory),
                year=last,
                pollutant=main,
                lang=lang,
                title=(f"{name[main][0]} en {last}" if fr else f"{name[main][0]} in {last}"),
            ),
            (
                f"Carte de la moyenne annuelle {words[main].of_the} en {last} autour du territoire "
                "(couleurs claires : plus de pollution ; hachures grises : hors de la zone "
                "calculée)"
                if fr
                else f"Map of the annual mean {words[main].of_the} in {last} around the territory "
                "(light colours: more pollution; grey hatching: outside the area calculated)"
            ),
        ),
        (
            "distribution",
            lambda: plot.exposure_distribution(
                ds, year=last, pollutant=main, territory=territory, lang=lang
            ),
            (
                f"Nombre d'habitants selon le niveau {words[main].of} qu'ils respirent en {last}. "
                if fr
                else f"Number of inhabitants by the level {words[main].of} they breathe in {last}. "
            )
            + _SPREAD[lang][grid],
        ),
        breathed("trajectory", main),
        breathed("trajectory_fine", fine),
        (
            "emission",
            lambda: plot.trajectories(
                ds, variable="emission", territory=territory, pollutant=PRECURSOR[main], lang=lang
            ),
            (
                f"Émissions {emitted.of if emitted else PRECURSOR[main]} sur le territoire, "
                "en tonnes par an, par source"
                if fr
                else f"Emissions {emitted.of if emitted else PRECURSOR[main]} within the "
                "territory, tonnes per year, by source"
            ),
        ),
        (
            "source_receptor",
            lambda: plot.source_receptor(
                ds, year=last, pollutant=main, weighting="population", lang=lang
            ),
            (
                f"Qui pollue qui : le niveau {words[main].of} que respirent en moyenne les "
                "habitants de chaque territoire (ligne) et qui vient des émissions de chaque "
                f"territoire (colonne), en µg/m³, {last} ; « reste de la grille » : les "
                "émissions hors des territoires"
                if fr
                else f"Who pollutes whom: the level {words[main].of} the inhabitants of each "
                "territory (row) breathe on average that comes from the emissions of each "
                f"territory (column), in µg/m³, {last}; 'rest of the grid': the emissions "
                "outside the territories"
            ),
        ),
    ]
    out = []
    for key, draw, caption in figs:
        if key == "emission" and PRECURSOR[main] not in ds["emission"]["pollutant"].values:
            continue
        if key == "trajectory_fine" and fine == main:
            continue  # the same figure as "trajectory"
        if key in ("trajectory", "trajectory_fine", "emission") and first == last:
            continue  # one year: nothing to follow year by year
        fig, _ = draw()
        out.append({"key": key, "src": _png(fig), "caption": caption})
    return out


# ----------------------------------------------------------------------------- numbers
def _people_nd(value: float) -> int:
    """Inhabitants: to the nearest hundred from a thousand up (the model is not that exact)."""
    return -2 if abs(value) >= 1000 else 0


#: A level changed by less than this share of its earlier value [%] is "almost no change".
FLAT_PCT = 1.0
#: The most digits a level in µg/m³ is written with (0,001); below, « moins de 0,001 ».
_MAX_ND = 3


def _level_nd(*values: float) -> int:
    """The digits levels in µg/m³ are written with: a tenth from 1 up; below, enough for
    two significant digits of the smallest level above 0 (0,063, 0,49), at most
    :data:`_MAX_ND`."""
    positive = [abs(v) for v in values if np.isfinite(v) and v != 0.0]
    smallest = min(positive, default=1.0)
    if smallest >= 1.0:
        return 1
    return int(min(_MAX_ND, 1 - math.floor(math.log10(smallest))))


def _level_change(then: float, now: float, pct: float) -> tuple[int, str]:
    """The digits the two levels and their difference are written with, and the direction
    of the change. The direction is decided on the relative change: ``flat`` under
    :data:`FLAT_PCT` % of the earlier level (or with no earlier level); otherwise the levels
    get the digits they need (up to :data:`_MAX_ND`) to be written differently, so that
    the words and the numbers agree (``flat`` if even then they are written alike)."""
    nd = _level_nd(then, now)
    if not (np.isfinite(pct) and abs(pct) >= FLAT_PCT):
        return nd, "flat"
    while nd < _MAX_ND and round(now, nd) == round(then, nd):
        nd += 1
    if round(now, nd) == round(then, nd):
        return nd, "flat"
    return nd, "up" if now > then else "down"


def _territory_emission_block(
    t: Tracer, ds: xr.Dataset, territory: str, emitted: str, first: int, last: int
) -> dict[str, Any]:
    """``{"emission": ...}``: the territory's emission of `emitted` [t yr-1] in the first
    and last years and its change; empty when not finite. From ``territory_emission``
    (stacks counted whole in the territory their point lies in, as the sources' origin is),
    else, in an output written before it, the emission maps weighted by the territory's
    share of each cell."""
    e_now = {"year": last, "pollutant": emitted}
    e_then = {"year": first, "pollutant": emitted}
    weight: tuple[str, dict[str, Any]] | None
    dims: tuple[str, ...]
    if "territory_emission" in ds:
        var, dims, weight = "territory_emission", ("sector",), None
        e_now, e_then = ({**e, "territory": territory} for e in (e_now, e_then))
    else:
        var, dims = "emission", ("sector", "y", "x")
        weight = ("territory_fraction", {"territory": territory})
    ref = Term(var, e_then, dims, weight)
    e_change = t.value(var, e_now, sum=dims, weight=weight, op="pct_change", ref=ref)
    if not np.isfinite(e_change):
        return {}
    num = partial(t.num, var, nd=0, sum=dims, weight=weight)
    return {
        "emission": {
            "id": emitted,
            "now": num(e_now),
            "then": num(e_then),
            "pct": num(e_now, op="pct_change", ref=ref, absolute=True),
            "dir": _direction(e_change, 0),
        }
    }


def _own_level(t: Tracer, var: str, sel: dict[str, Any]) -> Number:
    """A level at `sel` written with the digits of the rule for a level on its own
    (:func:`_level_nd`: a tenth from 1 µg/m³ up, two significant digits below), whatever
    the digits of the mean it is written beside (a median, a percentile)."""
    return _level(t, var, sel, _level_nd(t.value(var, sel)))


def _level(t: Tracer, var: str, sel: dict[str, Any], nd: int) -> Number:
    """A level at `sel` written with `nd` digits, or more (up to :data:`_MAX_ND`) when it
    would be written 0 while above 0; the template writes « moins de 0,001 » for one still
    written 0 (:attr:`Number.shown` 0 and :attr:`Number.value` above 0)."""
    value = t.value(var, sel)
    while nd < _MAX_ND and np.isfinite(value) and value > 0 and round(value, nd) == 0:
        nd += 1
    return t.num(var, sel, nd=nd)


def _unit_change(
    then: float, now: float, pct: float, number: bool, unit: str | None = None
) -> tuple[str, int, str]:
    """The unit (a key of :data:`EMERGING_UNITS`) two levels of an emerging species [ug m-3,
    or cm-3 for `number`] are written in, the digits and the direction of the change, as
    :func:`_level_change` decides them for levels in µg/m³: the unit is `unit` when given
    (section 6 writes a species in the unit of section 5), else the one the larger level
    reads in (:func:`_level_unit`); in it, a tenth from 1 up and two significant digits
    below, and the digits the two levels need to be written differently when they differ by
    :data:`FLAT_PCT` % or more (particle numbers: to the hundred from a thousand up, to the
    unit when the hundreds would write them alike)."""
    finite = [abs(v) for v in (then, now) if np.isfinite(v)]
    key, nd = _level_unit(max(finite, default=0.0), number)
    if unit is not None and not number:
        key = unit
    if not number:
        factor = EMERGING_UNITS["fr"][key][1]
        nd, direction = _level_change(then * factor, now * factor, pct)
        return key, nd, direction
    if not (np.isfinite(pct) and abs(pct) >= FLAT_PCT):
        return key, nd, "flat"
    while nd < 0 and round(now, nd) == round(then, nd):
        nd += 1
    if round(now, nd) == round(then, nd):
        return key, nd, "flat"
    return key, nd, "up" if now > then else "down"


def _direction(value: float, nd: int) -> str:
    if not np.isfinite(value) or round(value, nd) == 0:
        return "flat"
    return "up" if value > 0 else "down"


def _pollutant_block(
    t: Tracer, ds: xr.Dataset, territory: str, pol: str, first: int, last: int
) -> dict[str, Any]:
    lang = t.lang
    short, plain, what = POLLUTANTS[lang][pol]
    at = {"territory": territory, "pollutant": pol}
    now = {"year": last, **at}
    then = {"year": first, **at}
    block: dict[str, Any] = {"id": pol, "short": short, "name": plain, "what": what}
    block["words"] = SPECIES_WORDS[lang][pol]
    then_value, now_value = t.value("exposure", then), t.value("exposure", now)
    change = t.value("exposure", now, op="diff", ref=Term("exposure", then))
    pct = t.value("exposure", now, op="pct_change", ref=Term("exposure", then))
    nd, direction = _level_change(then_value, now_value, pct)
    block["nd"] = nd
    block["now"] = t.num("exposure", now, nd=nd)
    block["then"] = t.num("exposure", then, nd=nd)
    block["change_dir"] = direction if np.isfinite(change) else "flat"
    # both written « moins de 0,001 »: too low to follow a change (not "almost no change")
    block["too_low"] = bool(
        round(then_value, nd) == 0 == round(now_value, nd) and max(then_value, now_value) > 0
    )
    block["change"] = t.num(
        "exposure", now, op="diff", ref=Term("exposure", then), nd=nd, rounded=True, absolute=True
    )
    block["change_pct"] = t.num(
        "exposure", now, op="pct_change", ref=Term("exposure", then), nd=0, absolute=True
    )
    # reference values and inhabitants above them
    thresholds = [str(v) for v in ds["exposure_threshold"]["threshold"].values]
    block["thresholds"] = []
    for label in THRESHOLD_LABELS:
        if label not in thresholds:
            continue
        ref_value = t.value("exposure_threshold", {"threshold": label, "pollutant": pol})
        if not np.isfinite(ref_value):
            continue
        sel = {**now, "threshold": label}
        people = t.value("inhabitants_above", sel)
        pop = Term("population_total", {"year": last, "territory": territory})
        block["thresholds"].append(
            {
                "label": label,
                "value": t.num("exposure_threshold", {"threshold": label, "pollutant": pol}, nd=0),
                "people": t.num("inhabitants_above", sel, nd=_people_nd(people)),
                "share": t.num("inhabitants_above", sel, nd=0, op="share", ref=pop),
                "none": bool(people == 0),
                "above_now": t.value("exposure", now) > ref_value,
            }
        )
    # the uncertainty of the emissions, when the run carried it ([trajectory.uncertainty])
    if "exposure_percentile" in ds.data_vars:
        pcts = [float(v) for v in ds["exposure_percentile"]["percentile"].values]
        lo = {**now, "percentile": pcts[0]}
        hi = {**now, "percentile": pcts[-1]}
        if len(pcts) > 1 and np.isfinite(t.value("exposure_percentile", lo)):
            block["range"] = {
                "lo": _own_level(t, "exposure_percentile", lo),
                "hi": _own_level(t, "exposure_percentile", hi),
            }
    # the spread among inhabitants
    if "exposure_quantile" in ds.data_vars:
        qs = [float(q) for q in ds["exposure_quantile"]["quantile"].values]
        if 0.5 in qs and 0.95 in qs:
            block["median"] = _own_level(t, "exposure_quantile", {**now, "quantile": 0.5})
            block["p95"] = _own_level(t, "exposure_quantile", {**now, "quantile": 0.95})
    # background: the pollution that comes from further away
    if "y" not in ds["background"].dims:
        bg_now = {"year": last, "pollutant": pol}
        bg_then = {"year": first, "pollutant": pol}
        bg_pct = t.value("background", bg_now, op="pct_change", ref=Term("background", bg_then))
        bg_nd, _ = _level_change(
            t.value("background", bg_then), t.value("background", bg_now), bg_pct
        )
        block["bg_now"] = t.num("background", bg_now, nd=bg_nd)
        block["bg_then"] = t.num("background", bg_then, nd=bg_nd)
        if np.isfinite(t.value("background", bg_now, op="share", ref=Term("exposure", now))):
            block["bg_share"] = t.num(
                "background", bg_now, nd=0, op="share", ref=Term("exposure", now)
            )
        bg_change = t.value("background", bg_now, op="diff", ref=Term("background", bg_then))
        block["bg_dir"] = _direction(bg_change, 1)
    emitted = PRECURSOR[pol]
    if emitted in ds["emission"]["pollutant"].values:
        block.update(_territory_emission_block(t, ds, territory, emitted, first, last))
    # sources: shares of the local part of what inhabitants breathe, by sector and origin
    rec = {"year": last, "receptor": territory, "pollutant": pol}
    total, shares = _sector_shares(t, ds, "exposure_contribution", rec)
    # nothing at all: no local part and no background (no emission of it in the inputs)
    block["nothing"] = _nothing(t, ds, territory, pol, last)
    block["nothing_then"] = _nothing(t, ds, territory, pol, first)
    listed = [item for item in shares if round(item[0]) >= 1][:_MAX_SECTORS]
    block["sectors"] = [_share_entry(t, "exposure_contribution", item, total) for item in listed]
    block.update(_sectors_rest(t, "exposure_contribution", shares, listed, total, rec))
    origins = [str(o) for o in ds["exposure_contribution"]["origin"].values]
    if territory in origins and shares:  # a local part > 0
        block["own_share"] = t.num(
            "exposure_contribution",
            {**rec, "origin": territory},
            nd=0,
            sum=("sector",),
            op="share",
            ref=total,
        )
        block.update(_elsewhere_shares(t, origins, rec, total))
    # a change decomposition, when the output holds one
    if all(v in ds.data_vars for v in CHANGE_VARIABLES):
        split: dict[str, Any] = {}
        for v in CHANGE_VARIABLES:
            da = ds[v]
            sel = {"receptor": territory, "pollutant": pol}
            sums: tuple[str, ...] = ()
            if "sector" in da.dims:
                if "all" in da["sector"].values:
                    sel["sector"] = "all"
                else:
                    sums = ("sector",)
            split[v] = t.num(v, sel, sum=sums)
        split["period"] = str(ds.attrs.get("period", ds["change_total"].attrs.get("period", "")))
        block["split"] = split
    return block


#: The ``origin`` of the emissions of the grid's cells outside every territory (docs/outputs.md).
_REST_ORIGIN = "rest"


def _elsewhere_shares(
    t: Tracer, origins: list[str], rec: dict[str, Any], total: Term
) -> dict[str, Number]:
    """The shares of the local part at `rec` that come from the other territories of the
    run (``others_share``) and from the cells outside every territory, the communes around
    (``around_share``, origin ``rest``), each traced as one number (``origin`` a list,
    summed); a part that is not above 0 is left out."""
    territory = str(rec["receptor"])
    groups = {
        "others_share": [o for o in origins if o not in (territory, _REST_ORIGIN)],
        "around_share": [o for o in origins if o == _REST_ORIGIN],
    }
    out: dict[str, Number] = {}
    for key, chosen in groups.items():
        if not chosen:
            continue
        sel = {**rec, "origin": chosen}
        share = t.value("exposure_contribution", sel, sum=("sector", "origin"), op="share",
                        ref=total)  # fmt: skip
        if np.isfinite(share) and share > 0:
            out[key] = t.num("exposure_contribution", sel, nd=0, sum=("sector", "origin"),
                             op="share", ref=total)  # fmt: skip
    return out


#: The most sectors a table of sources lists by name; the others make one row together.
_MAX_SECTORS = 5
#: The row of the sectors a table does not list by name (``{n}``: how many).
_REST_ROW = {"fr": "autres secteurs ({n})", "en": "other sectors ({n})"}


def _sectors_rest(
    t: Tracer,
    contrib: str,
    shares: list[tuple[float, str, dict[str, Any]]],
    listed: list[tuple[float, str, dict[str, Any]]],
    total: Term,
    rec: dict[str, Any],
) -> dict[str, Any]:
    """The row of the sectors of `shares` not `listed` by name (under 1 %, or beyond
    :data:`_MAX_SECTORS`), their share traced as one number (``sector`` a list, summed),
    so that the table adds up to 100 %; and the sum of the shares as written (rounded to
    the unit, it may be 99 or 101): ``{}`` when every sector with a share is listed."""
    shown = {sector for _, sector, _ in listed}
    others = [sector for share, sector, _ in shares if sector not in shown and share != 0.0]
    written = sum(round(share) for share, _, _ in listed)
    if not others:
        return {"sectors_sum": written} if listed else {}
    share = t.num(
        contrib, {**rec, "sector": others}, nd=0, sum=("sector", "origin"), op="share", ref=total
    )
    rest = {"name": _REST_ROW[t.lang].format(n=len(others)), "share": share}
    return {"sectors_rest": rest, "sectors_sum": written + share.shown}


def _nothing(t: Tracer, ds: xr.Dataset, territory: str, pol: str, year: int) -> bool:
    """Whether the inhabitants breathe none of `pol` in `year`: its local part (the
    contributions of every sector and origin) and its background are both 0, so that no
    emission of it was counted near the territory and no background was given."""
    local = t.value(
        "exposure_contribution",
        {"year": year, "receptor": territory, "pollutant": pol},
        sum=("sector", "origin"),
    )
    level = t.value("exposure", {"year": year, "territory": territory, "pollutant": pol})
    return bool(local == 0.0 and level == 0.0)


#: The exposure and its parts by sector and origin of the masses and of the particle numbers:
#: (exposure variable, contribution variable, pollutant dim).
_EXPOSURES = (
    ("exposure", "exposure_contribution", "pollutant"),
    ("exposure_number", "exposure_contribution_number", "pollutant_number"),
)


def _is_emerging(pol: str) -> bool:
    """Whether the registry in use marks `pol` as an emerging species (unknown: no)."""
    from trajectoire.species import get_pollutant

    try:
        return bool(get_pollutant(pol).emerging)
    except TrajectoireError:
        return False


def _level_unit(value: float, number: bool) -> tuple[str, int]:
    """The key of :data:`EMERGING_UNITS` a level [ug m-3, or cm-3 for `number`] is written
    in, and the digits it is rounded to: the largest mass unit that keeps it at 0.1 or
    more; particle numbers to the nearest hundred from a thousand up."""
    if number:
        return "number", (-2 if value >= 1000 else 0)
    for key, factor in (("ug", 1.0), ("ng", 1e3)):
        if value * factor >= 0.1:
            return key, 1
    return "pg", (1 if value * 1e6 >= 0.1 else 3)


def _unit_words(keys: list[str], lang: str) -> list[dict[str, str]]:
    """The units of :data:`EMERGING_UNITS` `keys` as the units line spells them out."""
    return [{"symbol": EMERGING_UNITS[lang][k][0], "words": EMERGING_UNITS[lang][k][2]}
            for k in keys]  # fmt: skip


def _emerging(t: Tracer, ds: xr.Dataset, territory: str, first: int, last: int) -> Any:
    """The emerging species (registry ``emerging``) that the territory's inhabitants breathe
    in the last year: the level then and now in a unit that reads, its change and its
    largest nearby source; the units used (µg/m³ aside: the page explains it at the top),
    and the unit of each species (``keys``: species id to a key of
    :data:`EMERGING_UNITS`), which section 6 writes it in too."""
    lang = t.lang
    rows: list[dict[str, Any]] = []
    units: list[str] = []
    keys: dict[str, str] = {}
    for var, contrib, dim in _EXPOSURES:
        if var not in ds.data_vars:
            continue
        for pol in [str(p) for p in ds[var][dim].values]:
            now = {"year": last, "territory": territory, dim: pol}
            then = {"year": first, "territory": territory, dim: pol}
            level = t.value(var, now) if _is_emerging(pol) else math.nan
            if not (np.isfinite(level) and level > 0):
                continue  # not emerging, or nothing reaches the inhabitants
            ref = Term(var, then)
            change = t.value(var, now, op="pct_change", ref=ref)
            # one unit and the digits for both years: the levels written agree with the change
            key, nd, direction = _unit_change(
                t.value(var, then), level, change, dim == "pollutant_number"
            )
            symbol, factor, _ = EMERGING_UNITS[lang][key]
            name, what = EMERGING[lang].get(pol, (pol, ""))
            row: dict[str, Any] = {"id": pol, "name": name, "what": what, "unit": symbol}
            row["now"] = t.num(var, now, nd=nd, scale=factor)
            row["then"] = t.num(var, then, nd=nd, scale=factor)
            if np.isfinite(change):  # a tenth where the whole unit would say "100 %"
                pnd = 1 if abs(change) >= 99.5 else 0
                row["pct"] = t.num(var, now, nd=pnd, op="pct_change", ref=ref, absolute=True)
                row["dir"] = direction
            row.update(
                _main_source(t, ds, contrib, {"year": last, "receptor": territory, dim: pol})
            )
            rows.append(row)
            keys[pol] = key
            units += [key] if key != "ug" and key not in units else []
    gps = {"threshold": "WHO2021_GPS", "pollutant_number": "UFP"}
    return {
        "rows": rows,
        "keys": keys,
        "units": _unit_words(units, lang),
        "ufp_gps": (
            t.num("exposure_threshold_number", gps, nd=0)
            if any(r["id"] == "UFP" for r in rows) and _has(ds, "exposure_threshold_number", gps)
            else None
        ),
    }


def _has(ds: xr.Dataset, var: str, sel: dict[str, str]) -> bool:
    """Whether `var` holds a finite value at `sel`."""
    if var not in ds.data_vars or any(str(v) not in ds[var][k].values for k, v in sel.items()):
        return False
    return bool(np.isfinite(ds[var].sel(sel).values).all())


def _main_source(t: Tracer, ds: xr.Dataset, contrib: str, rec: dict[str, Any]) -> dict[str, Any]:
    """The sector with the largest share of the local part of `contrib` at `rec` (summed over
    the origins), its plain name and that share; ``far`` where no nearby source adds to the
    level (all of it comes from the regional background); empty without parts."""
    if contrib not in ds.data_vars:
        return {}
    total, shares = _sector_shares(t, ds, contrib, rec)
    if not shares:
        return {"far": True}
    first = _share_entry(t, contrib, shares[0], total)
    return {"source": first["name"], "source_share": first["share"]}


def _sector_shares(
    t: Tracer, ds: xr.Dataset, contrib: str, rec: dict[str, Any]
) -> tuple[Term, list[tuple[float, str, dict[str, Any]]]]:
    """The share [%] of each sector in the local part of `contrib` at `rec` (summed over the
    origins), largest first (the sectors' order among equals): ``(share, sector,
    selection)``; none where the local part is not > 0. With the term they are shares of."""
    total = Term(contrib, rec, ("sector", "origin"))
    shares: list[tuple[float, str, dict[str, Any]]] = []
    if t.value(contrib, rec, sum=("sector", "origin")) > 0:
        for s in ds[contrib]["sector"].values:
            sel = {**rec, "sector": str(s)}
            share = t.value(contrib, sel, sum=("origin",), op="share", ref=total)
            if np.isfinite(share):
                shares.append((share, str(s), sel))
        shares.sort(key=lambda item: -item[0])
    return total, shares


def _sector_name(sector: str, lang: str) -> str:
    """A sector's plain name (``trafic routier``); an unknown id without its letter."""
    return SECTORS[lang].get(sector, sector.split("_", 1)[-1])


def _share_entry(
    t: Tracer, contrib: str, item: tuple[float, str, dict[str, Any]], total: Term
) -> dict[str, Any]:
    """A sector of :func:`_sector_shares` as the page shows it: its plain name and its
    share, traced."""
    _, sector, sel = item
    return {
        "name": _sector_name(sector, t.lang),
        "share": t.num(contrib, sel, nd=0, sum=("origin",), op="share", ref=total),
    }


def _zones(
    t: Tracer,
    ds: xr.Dataset,
    territory: str,
    pollutants: list[str],
    last: int,
    emerging: dict[str, Any] | None = None,
) -> Any:
    """The priority neighbourhoods: the run's split inside / outside the zones of ``[inputs]
    exposure_zones`` (:func:`_zone_split`; `emerging`, section 5 of :func:`_emerging`, gives
    the unit of each emerging species), or, for an output whose ``zone`` labels name the
    neighbourhoods themselves, a table of each variable on ``zone`` (one row per
    neighbourhood, a column per pollutant); None when the output has no zone."""
    if "zone" not in ds.coords:
        return None
    labels = [str(z) for z in ds["zone"].values]
    if set(labels) == {"inside", "outside"} and "zone_exposure" in ds.data_vars:
        return {"split": _zone_split(t, ds, territory, pollutants, last, emerging)}
    tables = []
    for name, da in ds.data_vars.items():
        v = str(name)
        if "zone" not in da.dims:
            continue
        sel = {d: x for d, x in (("year", last), ("territory", territory), ("receptor", territory))
               if d in da.dims}  # fmt: skip
        if set(da.dims) - set(sel) - {"zone", "pollutant"}:
            continue  # not a table of zone x pollutant (a threshold dim...)
        people = str(da.attrs.get("units", "")) == "1"
        pols = (
            [p for p in pollutants if p in da["pollutant"].values]
            if "pollutant" in da.dims
            else [None]
        )
        rows = []
        for z in labels:
            cells = []
            for p in pols:
                at = {**sel, "zone": z, **({"pollutant": p} if p is not None else {})}
                nd = _people_nd(t.value(v, at)) if people else 1
                cells.append(t.num(v, at, nd=nd))
            rows.append({"zone": z, "cells": cells})
        title = ZONE_TITLES[t.lang].get(v, str(da.attrs.get("long_name", v)))
        columns = [POLLUTANTS[t.lang][p][0] for p in pols if p is not None] or [title]
        tables.append({"title": title, "people": people, "columns": columns, "rows": rows})
    return {"tables": tables} if tables else None


def _zone_split(
    t: Tracer,
    ds: xr.Dataset,
    territory: str,
    pollutants: list[str],
    last: int,
    emerging: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Inside the priority neighbourhoods against the rest of the territory, in the last year:
    how many live there, the level each side breathes and the gap, and the inhabitants above
    the WHO 2021 guideline each side (``zone_inhabitants``, ``zone_exposure``,
    ``zone_inhabitants_above``; docs/exposure.md); then the emerging species, each in the
    unit of section 5 (`emerging`), with the units section 5 does not spell out
    (``units``)."""
    at = {"year": last, "territory": territory}
    side = {z: {**at, "zone": z} for z in ("inside", "outside")}
    out: dict[str, Any] = {"rows": []}
    people = {z: math.nan for z in side}
    if "zone_inhabitants" in ds.data_vars:
        people = {z: t.value("zone_inhabitants", side[z]) for z in side}
        out["people"] = t.num("zone_inhabitants", side["inside"], nd=_people_nd(people["inside"]))
        everyone = Term("zone_inhabitants", at, ("zone",))
        out["share"] = t.num("zone_inhabitants", side["inside"], nd=0, op="share", ref=everyone)
        out["nobody"] = not people["inside"] > 0
    if out.get("nobody"):
        return out
    above = "zone_inhabitants_above" in ds.data_vars
    for p in [p for p in pollutants if p in ds["zone_exposure"]["pollutant"].values]:
        cell = {z: {**side[z], "pollutant": p} for z in side}
        ref = Term("zone_exposure", cell["outside"])
        pct = t.value("zone_exposure", cell["inside"], op="pct_change", ref=ref)
        nd, direction = _level_change(
            t.value("zone_exposure", cell["outside"]), t.value("zone_exposure", cell["inside"]), pct
        )  # the digits that write the two sides differently when they differ
        short, name, _ = POLLUTANTS[t.lang][p]
        row: dict[str, Any] = {"short": short, "name": name, "dir": direction}
        row["words"] = SPECIES_WORDS[t.lang][p]
        for z in side:
            row[z] = t.num("zone_exposure", cell[z], nd=nd)
        row["gap"] = t.num(
            "zone_exposure", cell["inside"], op="diff", ref=ref, nd=nd, rounded=True, absolute=True
        )
        who = {"threshold": "WHO2021"}
        if above and np.isfinite(t.value("zone_inhabitants_above", {**cell["inside"], **who})):
            for z in side:
                n = t.value("zone_inhabitants_above", {**cell[z], **who})
                row[f"{z}_above"] = t.num(
                    "zone_inhabitants_above", {**cell[z], **who}, nd=_people_nd(n)
                )
                if people[z] > 0:
                    row[f"{z}_above_share"] = t.num(
                        "zone_inhabitants_above", {**cell[z], **who}, nd=0, op="share",
                        ref=Term("zone_inhabitants", side[z]),
                    )  # fmt: skip
        out["rows"].append(row)
    section5 = emerging or {}
    keys: dict[str, str] = section5.get("keys", {})
    out["emerging"], used = _zone_emerging(t, ds, side, keys)
    spelled = {u["symbol"] for u in section5.get("units", [])} if section5.get("rows") else set()
    out["units"] = [u for u in _unit_words(used, t.lang) if u["symbol"] not in spelled]
    return out


def _zone_emerging(
    t: Tracer, ds: xr.Dataset, side: dict[str, dict[str, Any]], keys: dict[str, str]
) -> tuple[list[Any], list[str]]:
    """The emerging species inside the zones against the rest of the territory
    (``zone_exposure``, ``zone_exposure_number``), each in the unit section 5 writes it in
    (`keys`; for a species section 5 does not show, the unit that keeps its larger side
    readable), with the direction of the gap; those that reach neither side are left out.
    With the units used (keys of :data:`EMERGING_UNITS` but ``ug``)."""
    rows: list[dict[str, Any]] = []
    units: list[str] = []
    for var, dim in [(f"zone_{exposure}", dim) for exposure, _, dim in _EXPOSURES]:
        if var not in ds.data_vars:
            continue
        for pol in [str(p) for p in ds[var][dim].values if _is_emerging(str(p))]:
            cell = {z: {**side[z], dim: pol} for z in side}
            levels = [t.value(var, cell[z]) for z in side]
            if not all(np.isfinite(levels)) or max(levels) <= 0:
                continue
            pct = t.value(var, cell["inside"], op="pct_change", ref=Term(var, cell["outside"]))
            key, nd, direction = _unit_change(
                levels[1], levels[0], pct, dim == "pollutant_number", keys.get(pol)
            )  # the rest of the territory is the reference the neighbourhoods are compared to
            symbol, factor, _ = EMERGING_UNITS[t.lang][key]
            name, _what = EMERGING[t.lang].get(pol, (pol, ""))
            row: dict[str, Any] = {"name": name, "unit": symbol, "dir": direction}
            for z in side:
                row[z] = t.num(var, cell[z], nd=nd, scale=factor)
            rows.append(row)
            units += [key] if key != "ug" and key not in units else []
    return rows, units


def _check_scenario_of_run(ds: xr.Dataset, scenario: xr.Dataset) -> None:
    """Refuse a --scenario file made from another run: a ``trajectoire scenario`` output
    carries its run's configuration hash as ``baseline_trajectoire_config_hash``, a run's
    output its own as ``trajectoire_config_hash``; a file with neither is taken as given."""
    run = ds.attrs.get("trajectoire_config_hash")
    base = scenario.attrs.get("baseline_trajectoire_config_hash")
    other = scenario.attrs.get("trajectoire_config_hash")
    if run is None:
        return
    if base is not None and str(base) != str(run):
        raise InputError(
            f"report: the scenario (scenario=, --scenario) was made from another run (its run's "
            "configuration "
            f"hash is {base}, this output's is {run}); give a `trajectoire scenario --from` "
            "output of this run."
        )
    if base is None and other is not None:
        raise InputError(
            "report: the scenario (scenario=, --scenario) is a run's output, not a "
            "`trajectoire scenario` "
            f"output of this run (it has trajectoire_config_hash {other}, no "
            "baseline_trajectoire_config_hash); give a `trajectoire scenario --from` output."
        )


def _scenario(
    t: Tracer, scenario: xr.Dataset, territory: str, pollutants: list[str], last: int
) -> dict[str, Any]:
    _check_scenario_of_run(t.ds, scenario)
    if "exposure" not in scenario.data_vars:
        raise MissingVariableError(
            "report: the scenario (scenario=, --scenario) has no 'exposure' variable; give a "
            "`trajectoire scenario` output (trajectoire.open_output(path))."
        )
    if territory not in scenario["exposure"]["territory"].values:
        raise InputError(
            f"report: territory {territory!r} is not in the scenario (scenario=, --scenario); "
            f"it has {[str(v) for v in scenario['exposure']['territory'].values]}."
        )
    years = [int(y) for y in scenario["exposure"]["year"].values]
    year = years[-1]
    rows = []
    # a `trajectoire scenario` output counts the inhabitants above its own thresholds (one
    # per pollutant, ``threshold``), today (``baseline_inhabitants_above``) and with it
    above_vars = ("inhabitants_above", "baseline_inhabitants_above", "threshold")
    by_threshold = all(v in scenario.data_vars for v in above_vars) and (
        "threshold" not in scenario["inhabitants_above"].dims
    )
    for pol in pollutants:
        if pol not in scenario["exposure"]["pollutant"].values:
            continue
        sel = {"year": year, "territory": territory, "pollutant": pol}
        today = {"year": last, "territory": territory, "pollutant": pol}
        base, with_it = t.value("exposure", today), t.value("exposure", sel, src="scenario")
        pct = 100.0 * (with_it - base) / base if base else math.nan
        nd, _ = _level_change(base, with_it, pct)  # written differently when they differ
        row: dict[str, Any] = {
            "id": pol,
            "short": POLLUTANTS[t.lang][pol][0],
            "name": POLLUTANTS[t.lang][pol][1],
            "base": t.num("exposure", today, nd=nd),
            "scenario": t.num("exposure", sel, src="scenario", nd=nd),
        }
        if not np.isfinite(t.value("exposure", sel, src="scenario")):
            # the exact path gives NO2 only where it recomputed its maps: it is not linear in
            # the emissions. Each number of the file is shown on its own: a level left out
            # does not hide the counts, nor a count the level
            row["missing"] = (
                "no2_exact"
                if pol == "NO2" and scenario.attrs.get("scenario_method", "exact") == "exact"
                else "missing"
            )
        above = scenario.data_vars.get("inhabitants_above")
        if (
            above is not None
            and "threshold" in above.dims  # the run's layout (a scenario file has one threshold)
            and "WHO2021" in above["threshold"].values
        ):
            base_sel = {"year": last, "territory": territory, "pollutant": pol}
            b = {**base_sel, "threshold": "WHO2021"}
            s = {**sel, "threshold": "WHO2021"}
            row["base_above"] = t.num(
                "inhabitants_above", b, nd=_people_nd(t.value("inhabitants_above", b))
            )
            row["scenario_above"] = t.num(
                "inhabitants_above",
                s,
                nd=_people_nd(t.value("inhabitants_above", s, src="scenario")),
                src="scenario",
            )
            if not np.isfinite(row["scenario_above"].shown):
                row["above_missing"] = True
        elif by_threshold:  # a `trajectoire scenario` output: its own thresholds
            at = {"pollutant": pol}
            if np.isfinite(t.value("threshold", at, src="scenario")):
                row["threshold"] = t.num("threshold", at, nd=0, src="scenario")
                for key, var in (("base_above", "baseline_inhabitants_above"),
                                 ("scenario_above", "inhabitants_above")):  # fmt: skip
                    n = t.value(var, sel, src="scenario")
                    row[key] = t.num(var, sel, nd=_people_nd(n), src="scenario")
                if not np.isfinite(row["scenario_above"].shown):
                    row["above_missing"] = True  # e.g. no maps for a cut in one territory
        rows.append(row)
    name, cuts = _scenario_words(scenario, territory, t.lang)
    missing = sorted({r["missing"] for r in rows if "missing" in r})
    # NO2's own note says whether its count is left out too; the others', the "above" note
    no2 = [r for r in rows if r.get("missing") == "no2_exact"]
    missing += ["above"] if any(r.get("above_missing") for r in rows if r not in no2) else []
    return {
        "name": name,
        "cuts": cuts,
        "year": year,
        "rows": rows,
        "missing": missing,
        "no2_above_missing": any(r.get("above_missing") for r in no2),
        "by_threshold": by_threshold and any("threshold" in r for r in rows),
    }


def _scenario_words(scenario: xr.Dataset, territory: str, lang: str) -> tuple[str, list[str]]:
    """The scenario's name and its cuts in the report's words, from the structured
    ``scenario_json`` of a ``trajectoire scenario`` output (the sector's plain name, the
    percentage, where, from which year), not from its English ``scenario`` line; a file
    without it is named by its ``scenario`` or ``title`` attribute."""
    import json

    try:
        data = json.loads(str(scenario.attrs["scenario_json"]))
        cuts = list(data["cuts"])
    except (KeyError, TypeError, ValueError):
        name = scenario.attrs.get("scenario_name") or scenario.attrs.get("scenario")
        return str(name or scenario.attrs.get("title") or ""), []
    name = str(scenario.attrs.get("scenario_name") or data.get("name") or "")
    words = SCENARIO_CUT[lang]
    out = []
    for cut in cuts:
        where = cut.get("territory")
        if where is None:
            place = words["everywhere"]
        elif where == territory:
            place = words["here"]
        else:
            info = TERRITORIES.get(str(where))
            place = words["there"].format(name=info.name if info is not None else where)
        percent = 100.0 * float(cut["fraction"])
        nd = 0 if abs(percent - round(percent)) < 1e-9 else 1
        out.append(
            words["cut"].format(
                sector=_sector_name(str(cut["sector"]), lang),
                percent=format_number(percent, nd, lang),
                where=place,
                year=cut["from_year"],
            )
        )
    return name, out


# ----------------------------------------------------------------------------- context
def report_context(
    ds: xr.Dataset,
    territory: str,
    *,
    lang: str = "fr",
    scenario: xr.Dataset | None = None,
    figures: bool = True,
) -> tuple[dict[str, Any], Tracer]:
    """Everything the template shows, and the tracer that holds the recipe of each number.

    Parameters
    ----------
    ds : xarray.Dataset
        A run's output (:func:`trajectoire.io.open_output`).
    territory : str
        Territory id (``MEL``...).
    lang : {"fr", "en"}, default "fr"
        Language.
    scenario : xarray.Dataset, optional
        A scenario output with ``exposure`` (and ``inhabitants_above``) for the territory.
    figures : bool, default True
        Draw the figures (False: numbers only, faster).

    Returns
    -------
    (dict, Tracer)

    Raises
    ------
    trajectoire.InputError
        As :func:`build_report`.
    """
    _check_datasets(ds, scenario)
    _check_output(ds, lang)
    territory = territory_id(territory, ds["exposure"]["territory"].values)  # "mel" is MEL
    pollutants = _check_inputs(ds, territory, lang)
    years = [int(y) for y in ds["exposure"]["year"].values]
    first, last = years[0], years[-1]
    t = Tracer(ds, lang, scenario=scenario)
    info = TERRITORIES.get(territory)
    ctx: dict[str, Any] = {
        "lang": lang,
        "territory": territory,
        "territory_name": info.name if info is not None else territory,
        "first": first,
        "last": last,
        "single": first == last,
        "count": count_words(len(pollutants), lang),
        "cell": _cell(t, ds),
        "population": t.num(
            "population_total",
            {"year": last, "territory": territory},
            nd=_people_nd(t.value("population_total", {"year": last, "territory": territory})),
        ),
        "pollutants": [_pollutant_block(t, ds, territory, p, first, last) for p in pollutants],
        "run_title": str(ds.attrs.get("title", "")),
        "version": str(ds.attrs.get("trajectoire_version", ds.attrs.get("source", ""))),
        "map_years": str(ds.attrs.get("map_years", "")),
        "synthetic": _invented(ds),
        "has_split": all(v in ds.data_vars for v in CHANGE_VARIABLES),
        "inputs": _input_names(_inputs(ds), lang),
        "station_gap": _station_gap(t, ds, territory, pollutants),
        "zones_name": _zones_name(ds, lang),
        "no_background": _no_background(ds),
        "sources_counted": _sources_counted(ds, lang),
        "sources_words": _sources_words(ds, lang),
        "rebuilt": _rebuilt(ds, pollutants, lang),
        "plant_figures": _plant_figures(ds),
        "computed": _years_computed(years, lang),
        "other_thresholds": _other_thresholds(t, ds, territory, pollutants, last),
        "reference_only": _reference_only(ds, pollutants),
    }
    if not ctx["station_gap"]:  # the report uses no measurement: it does not list them
        ctx["inputs"] = _input_names([k for k in _inputs(ds) if k not in _STATION_INPUTS], lang)
    ctx["emerging"] = _emerging(t, ds, territory, first, last)
    ctx["zones"] = _zones(t, ds, territory, pollutants, last, ctx["emerging"])
    ctx["scenario"] = (
        _scenario(t, scenario, territory, pollutants, last) if scenario is not None else None
    )
    ctx["figures"] = (
        {f["key"]: f for f in _figures(ds, territory, pollutants, first, last, lang)}
        if figures
        else {}
    )
    return ctx, t


def _years_computed(years: list[int], lang: str) -> str:
    """The years of the run in words (``1990, 2010 et 2023``) when it left some out between
    its first and last (``--years 1990,2010,2023``); ``""`` when it computed every year."""
    if not years or sorted(years) == list(range(min(years), max(years) + 1)):
        return ""
    return year_list(years, lang)


def _threshold_words(label: str, lang: str) -> str:
    """A reference value of the output's ``threshold`` dim in words, after « au-dessus de »
    (:data:`THRESHOLD_WORDS`; a label of ``[exposure] thresholds`` by its name)."""
    words = THRESHOLD_WORDS[lang]
    return words[label] if label in words else words["other"].format(label=label)


def _other_thresholds(
    t: Tracer, ds: xr.Dataset, territory: str, pollutants: list[str], last: int
) -> list[dict[str, Any]]:
    """The reference values the page does not show that some of the territory's inhabitants
    live above in the last year (``inhabitants_above``, ``exposure_threshold``): those of
    the pollutants the report does not follow (SO2 above the EU 2030 limit), and those of
    its pollutants other than :data:`THRESHOLD_LABELS` (the EU 2008 limits, a label of
    ``[exposure] thresholds``). Per pollutant: its name, its symbol, and for each value
    the inhabitants above it (traced, to the hundred from a thousand up), their share and
    the value; a count written 0 is left out, so is a pollutant with none."""
    above, values = ds["inhabitants_above"], ds["exposure_threshold"]
    if "threshold" not in above.dims or "threshold" not in values.dims:
        return []
    labels = [str(v) for v in above["threshold"].values if v in values["threshold"].values]
    out = []
    for pol in [str(p) for p in above["pollutant"].values]:
        if pol not in values["pollutant"].values:
            continue
        items = []
        for label in labels:
            if pol in pollutants and label in THRESHOLD_LABELS:
                continue  # sections 1 and 2 show it
            ref = {"threshold": label, "pollutant": pol}
            value = t.value("exposure_threshold", ref)
            if not np.isfinite(value):
                continue
            sel = {"year": last, "territory": territory, **ref}
            n = t.value("inhabitants_above", sel)
            if not (np.isfinite(n) and round(n, _people_nd(n)) > 0):
                continue
            pop = Term("population_total", {"year": last, "territory": territory})
            items.append(
                {
                    "words": _threshold_words(label, t.lang),
                    # whole values (20, 40 µg/m³) as the table of section 2 writes them
                    "value": t.num(
                        "exposure_threshold", ref, nd=0 if value.is_integer() else _level_nd(value)
                    ),
                    "people": t.num("inhabitants_above", sel, nd=_people_nd(n)),
                    "share": t.num("inhabitants_above", sel, nd=0, op="share", ref=pop),
                }
            )
        if items:
            words = SPECIES_WORDS[t.lang].get(pol)
            short = POLLUTANTS[t.lang][pol][0] if pol in POLLUTANTS[t.lang] else None
            out.append(
                {
                    "id": pol,
                    "name": words.name if words is not None else pol,
                    "short": short or SYMBOLS.get(pol, pol),
                    "above": items,
                }
            )
    return out


def _cell(t: Tracer, ds: xr.Dataset) -> dict[str, Any] | None:
    """The size of the grid's cells, read from the spacing of its ``x`` and ``y``
    coordinates: each side in km from 1 km up (in m below) with the digits it needs, and
    whether the cells are square; None for a grid without two cells each way."""
    sides: dict[str, Any] = {}
    for dim in ("x", "y"):
        if dim not in ds.coords or ds.sizes.get(dim, 0) < 2:
            return None
        a, b = (float(v) for v in ds[dim].values[:2])
        size = abs(b - a)
        if not size > 0:
            return None
        scale = 1e-3 if size >= 1000.0 else 1.0
        shown = size * scale
        nd = next((d for d in (0, 1, 2) if abs(shown - round(shown, d)) < 1e-6), 3)
        sides[dim] = {
            "size": size,
            "text": t.num(dim, {dim: b}, op="diff", ref=Term(dim, {dim: a}), absolute=True,
                          scale=scale, nd=nd),
            "unit": "km" if scale != 1.0 else "m",
        }  # fmt: skip
    square = math.isclose(sides["x"]["size"], sides["y"]["size"], rel_tol=1e-6)
    return {"x": sides["x"], "y": sides["y"], "square": square}


#: words of a run's name ([run] name, the file's title) that say its data are invented
_INVENTED = ("sample", "illustrative", "synthetic", "invented", "exemple", "fictif", "fictive")


def _invented(ds: xr.Dataset) -> bool:
    """Whether the run's name says its data are invented (the bundled sample, the
    real-data example's illustrative emissions): the report then says so at the top."""
    title = str(ds.attrs.get("title", "")).lower()
    return any(re.search(rf"\b{word}\b", title) for word in _INVENTED)


def _zones_name(ds: xr.Dataset, lang: str) -> dict[str, str]:
    """What the run's exposure zones are called (``[exposure] zones_name`` of the
    configuration the file holds; the priority neighbourhoods when it is not set)."""
    import json

    default = ZONES_NAME[lang]
    try:
        resolved = json.loads(str(ds.attrs.get("trajectoire_config_resolved", "{}")))
        given = resolved.get("exposure", {}).get("zones_name")
    except (ValueError, AttributeError):
        given = None
    if isinstance(given, dict):
        given = given.get(lang) or next(iter(given.values()), None)
    if not isinstance(given, str) or not given.strip():
        return {"short": default["short"], "long": default["long"], "row": default["row"]}
    return {"short": given.strip(), "long": given.strip(), "row": default["generic_row"]}


def _no_background(ds: xr.Dataset) -> bool:
    """Whether the run had no regional background (``background`` is 0 everywhere: no
    ``[inputs] background`` was given), so that its levels count the nearby sources only."""
    if "background" not in ds.data_vars:
        return False
    values = np.asarray(ds["background"].values, dtype=float)
    return bool(np.all(np.nan_to_num(values) == 0.0))


def _counted_sectors(ds: xr.Dataset) -> list[str]:
    """The sectors that contribute to some receptor of the file (the sources the run
    counted), in the file's order; empty when the file does not say."""
    if "territory_contribution" not in ds.data_vars or "sector" not in ds.dims:
        return []
    da = ds["territory_contribution"].transpose("sector", ...)
    values = np.nan_to_num(np.asarray(da.values, dtype=float)).reshape(da.sizes["sector"], -1)
    some = (values != 0.0).any(axis=1)
    return [str(s) for s, on in zip(ds["sector"].values, some, strict=True) if on]


def _sources_counted(ds: xr.Dataset, lang: str) -> list[str]:
    """The plain names of the sectors the run counted (:func:`_counted_sectors`)."""
    return [_sector_name(s, lang) for s in _counted_sectors(ds)]


#: The everyday examples section 4 gives of a sector the run counts, in the order said.
_SOURCE_EXAMPLES: dict[str, dict[str, str]] = {
    "fr": {"F_RoadTransport": "les voitures", "C_OtherStationaryComb": "le chauffage",
           "B_Industry": "les usines"},
    "en": {"F_RoadTransport": "cars", "C_OtherStationaryComb": "heating",
           "B_Industry": "factories"},
}  # fmt: skip
#: Up to this many sectors counted, section 4 names them all; above, it gives examples.
_SOURCES_NAMED = 4


def _sources_words(ds: xr.Dataset, lang: str) -> str:
    """The nearby sources as section 4 names them: the sectors the run counts
    (:func:`_sources_counted`) when they are few (« industrie »); else everyday examples of
    those it counts (« les voitures, le chauffage, les usines… »), never of a sector it does
    not count; for a file that does not say, the three examples."""
    counted = _counted_sectors(ds)
    examples = _SOURCE_EXAMPLES[lang]
    if not counted:
        return ", ".join(examples.values()) + "…"
    if len(counted) <= _SOURCES_NAMED:
        return ", ".join(_sector_name(s, lang) for s in counted)
    some = [words for sector, words in examples.items() if sector in counted]
    return ", ".join(some or [_sector_name(s, lang) for s in counted[:3]]) + "…"


def _rebuilt(ds: xr.Dataset, pollutants: list[str], lang: str) -> dict[str, str]:
    """The years in which the emissions behind the report's `pollutants` were extrapolated
    beyond the trend series of some sector (``extrapolated``), and those interpolated
    between two inventories (``interpolated``), in words (``emission_method``, NO2 with the
    flags of NOx); ``""`` for a kind without a year, and for an output without the flags."""
    from trajectoire.io.netcdf import decode_flags

    out = {"extrapolated": "", "interpolated": ""}
    if "emission_method" not in ds.data_vars:
        return out
    flags = ds["emission_method"]
    pols = [p for p in pollutants if p in flags["pollutant"].values]
    if not pols:
        return out
    labels = decode_flags(flags.sel(pollutant=pols))
    for key, label in (("extrapolated", "extrapolation"), ("interpolated", "interpolation")):
        found = (labels == label).any([d for d in labels.dims if d != "year"])
        years = [int(y) for y in labels["year"].values[found.values]]
        if years:
            out[key] = year_spans(years, lang)
    return out


def _plant_figures(ds: xr.Dataset) -> bool:
    """Whether the run rebuilt some emissions from the plants' own figures: its inputs
    (``input_checksums``) hold the stack register (``point_source_history``, which needs
    ``point_sources``), or ``emission_method`` says ``register`` somewhere. False for a run
    without stacks, and for a file that says neither (section 8 then names the national
    trends alone)."""
    from trajectoire.io.netcdf import decode_flags

    if "point_source_history" in _inputs(ds):
        return True
    if "emission_method" not in ds.data_vars:
        return False
    try:
        labels = decode_flags(ds["emission_method"])
    except ValueError:  # a file without CF flags: it does not say
        return False
    return bool(np.asarray(labels.values == "register").any())


def _reference_only(ds: xr.Dataset, pollutants: list[str]) -> bool:
    """Whether the emissions behind the report's `pollutants` are those of the reference
    inventory in every year of the file (``emission_method`` is ``reference``, or
    ``no_emission``, everywhere): nothing was rebuilt from the national trends, so the page
    does not say so; False for an output without the flags."""
    from trajectoire.io.netcdf import decode_flags

    if "emission_method" not in ds.data_vars:
        return False
    flags = ds["emission_method"]
    pols = [p for p in [*pollutants, *(PRECURSOR[p] for p in pollutants)]
            if p in flags["pollutant"].values]  # fmt: skip
    if not pols:
        return False
    labels = np.asarray(decode_flags(flags.sel(pollutant=sorted(set(pols)))).values).ravel()
    return bool(np.isin(labels, ["reference", "no_emission"]).all())


#: The inputs of the station measurements (keys of ``input_checksums``): the report lists
#: them among its data only when it shows the gap with them (:func:`_station_gap`).
_STATION_INPUTS = ("stations", "observations")

#: A station belongs to a territory when at least this share of its cell lies inside it.
_STATION_IN_TERRITORY = 0.5


def _territory_stations(ds: xr.Dataset, territory: str) -> list[str]:
    """The stations of the output whose cell lies at least half in `territory`
    (``territory_fraction`` of the cell holding the station, as the run's station values
    read it: :func:`trajectoire.assess.sample_at_stations`, ``method="nearest"``), in the
    file's order; empty without stations."""
    from trajectoire.assess.stations import sample_at_stations

    need = ("station_x", "station_y", "territory_fraction")
    if any(v not in ds.variables for v in need) or not ds.sizes.get("station", 0):
        return []
    table = pd.DataFrame(
        {
            "station_id": [str(s) for s in ds["station"].values],
            "x": np.asarray(ds["station_x"].values, dtype=float),
            "y": np.asarray(ds["station_y"].values, dtype=float),
        }
    )
    table = table[np.isfinite(table["x"]) & np.isfinite(table["y"])]
    if table.empty:
        return []
    frac = ds["territory_fraction"].sel(territory=territory).drop_attrs()
    share = sample_at_stations(frac, table, method="nearest", outside="nan")
    inside = np.nan_to_num(np.asarray(share.values, dtype=float)) >= _STATION_IN_TERRITORY
    return [s for s, i in zip(table["station_id"], inside, strict=True) if i]


def _station_gap(
    t: Tracer, ds: xr.Dataset, territory: str, pollutants: list[str]
) -> list[dict[str, Any]]:
    """The gap between the model and the measurements at the territory's monitoring
    stations, per pollutant of the report: in the last year with a measurement there, over
    the stations with both a measured and a modelled annual mean (``station_observation``,
    ``station_concentration``, the pairs of the run's ``evaluation``), the normalised mean
    bias ``100 (sum M - sum O) / sum O`` [%] (written without its sign, with its direction),
    the year and the number of stations. Empty when no station of the territory has one."""
    names = ("station_observation", "station_concentration")
    if any(n not in ds.data_vars for n in names):
        return []
    ids = _territory_stations(ds, territory)
    if not ids:
        return []
    out = []
    for pol in pollutants:
        if pol not in ds["station_observation"]["pollutant"].values:
            continue
        o = ds["station_observation"].sel(pollutant=pol, station=ids)
        m = ds["station_concentration"].sel(pollutant=pol, station=ids)
        both = (o.notnull() & m.notnull()).transpose("year", "station").values
        years = np.flatnonzero(both.any(axis=1))
        if not len(years):
            continue
        k = years[-1]
        year = int(ds["year"].values[k])
        used = [s for s, b in zip(ids, both[k], strict=True) if b]
        sel = {"year": year, "pollutant": pol, "station": used}
        ref = Term("station_observation", sel, ("station",))
        value = t.value("station_concentration", sel, sum=("station",), op="pct_change", ref=ref)
        if not np.isfinite(value):
            continue
        gap = t.num(
            "station_concentration", sel, sum=("station",), op="pct_change", ref=ref,
            nd=0, absolute=True,
        )  # fmt: skip
        short, plain, _ = POLLUTANTS[t.lang][pol]
        direction = "same" if gap.shown == 0 else ("lower" if value < 0 else "higher")
        out.append(
            {"short": short, "name": plain, "words": SPECIES_WORDS[t.lang][pol], "year": year,
             "n": len(used), "gap": gap, "direction": direction}
        )  # fmt: skip
    return out


def _input_names(keys: list[str], lang: str) -> list[str]:
    """The plain names of the inputs `keys` (``input_checksums``), in order, each once: an
    anchor inventory's input (``anchors[i].area_emissions``) as its key's name "of other
    years"; keys without a plain name are left out (a file an input's options name)."""
    out: list[str] = []
    for key in keys:
        anchor = re.fullmatch(r"anchors\[\d+\]\.(\w+)", key)
        if anchor and anchor[1] in INPUTS[lang]:
            name = ANCHOR_INPUT[lang].format(name=INPUTS[lang][anchor[1]])
        elif key in INPUTS[lang]:
            name = INPUTS[lang][key]
        else:
            continue
        if name not in out:
            out.append(name)
    return out


def _inputs(ds: xr.Dataset) -> list[str]:
    import json

    try:
        return [str(k) for k in json.loads(str(ds.attrs.get("input_checksums", "{}")))]
    except ValueError:
        return []


# ----------------------------------------------------------------------------- render
def _environment() -> Any:
    try:
        import jinja2
    except ImportError as exc:  # pragma: no cover - jinja2 is in the test environment
        raise ImportError(
            "trajectoire.report needs Jinja2: pip install 'trajectoire[report]'."
        ) from exc
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("trajectoire.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["upfirst"] = lambda text: str(text)[:1].upper() + str(text)[1:]

    @jinja2.pass_context
    def agree(context: Any, number: Any, one: str, many: str) -> str:
        """`one` or `many`, as the number shown (a traced :class:`Number`, or a count) asks."""
        value = number.shown if isinstance(number, Number) else float(number)
        return many if takes_plural(value, context["lang"]) else one

    env.filters["agree"] = agree

    @jinja2.pass_context
    def level(context: Any, number: Any) -> Any:
        """A level written 0 while above 0 as « moins de 0,001 » (the precision it is written
        with): never a level of « 0,0 » that is not 0."""
        if isinstance(number, Number) and number.shown == 0 and number.value > 0:
            lang = context["lang"]
            words = "moins de " if lang == "fr" else "less than "
            return words + format_number(10.0**-number.nd, number.nd, lang)
        return number

    env.filters["level"] = level

    @jinja2.pass_context
    def under(context: Any, number: Any) -> Any:
        """« moins de » a level (« moins de 0,001 » for one written 0 while above 0)."""
        shown = level(context, number)
        if shown is not number:
            return shown
        return Markup(("moins de " if context["lang"] == "fr" else "less than ") + number)

    env.filters["under"] = under

    @jinja2.pass_context
    def pct(context: Any, share: Any, count: Any = None) -> Any:
        """A share in percent (« 13 % »); « moins de 1 % » for one written 0 while above 0
        (and, with a traced `count`, while the count it is the share of is not written 0):
        never « 0 % » of something that is not nothing."""
        lang = context["lang"]
        if (
            isinstance(share, Number)
            and share.shown == 0
            and share.value > 0
            and not (isinstance(count, Number) and count.shown == 0)
        ):
            return Markup("moins de 1 %" if lang == "fr" else "less than 1 %")
        return Markup("{} %").format(share)

    env.filters["pct"] = pct
    return env


def build_report(
    ds: xr.Dataset,
    territory: str,
    *,
    lang: str = "fr",
    scenario: xr.Dataset | None = None,
) -> str:
    """The report of one territory as one self-contained HTML page.

    Parameters
    ----------
    ds : xarray.Dataset
        A run's output with the variables of :data:`REQUIRED_VARIABLES`.
    territory : str
        Territory id (``MEL``, ``CUD``, ``ACSO``, ``CCHF``, ``DOUAISIS``, ``CCVT``, ``ARC``).
    lang : {"fr", "en"}, default "fr"
        Language of the page.
    scenario : xarray.Dataset, optional
        A scenario output compared with the run (:func:`trajectoire.open_output` of a
        ``trajectoire scenario`` output, the whole Dataset).

    Returns
    -------
    str
        The HTML page (UTF-8 text): inline styles, figures as base64 PNG ``data:`` URIs.

    Raises
    ------
    trajectoire.InputError
        Unknown territory or language, an output without the variables needed
        (:class:`trajectoire.MissingVariableError`); `ds` or `scenario` that is not a
        Dataset (a path, one variable), or that was cut along a dim the report reads whole
        (``ds.sel(year=2023)``: pass the whole output, or a list, ``ds.sel(year=[2023])``);
        a scenario of another run.
    """
    ctx, _ = report_context(ds, territory, lang=lang, scenario=scenario)
    template = _environment().get_template(f"report_{lang}.html.j2")
    return str(template.render(**ctx))


def find_chromium() -> str | None:
    """Path of a headless-capable Chromium (``$TRAJECTOIRE_CHROMIUM`` first), or None."""
    env = os.environ.get("TRAJECTOIRE_CHROMIUM")
    if env:
        return shutil.which(env) or (env if Path(env).exists() else None)
    for name in _CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def chromium_command(chromium: str, *args: str) -> list[str]:
    """A headless Chromium command line (no sandbox as root, a throw-away profile)."""
    cmd = [chromium, "--headless", "--disable-gpu", "--no-first-run", "--hide-scrollbars"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--no-sandbox")
    return [*cmd, *args]


def html_to_pdf(html_path: str | Path, pdf_path: str | Path, *, timeout: float = 120.0) -> Path:
    """Print an HTML file to PDF with headless Chromium.

    Raises
    ------
    trajectoire.TrajectoireError
        No Chromium found (install Debian's ``chromium`` or set ``TRAJECTOIRE_CHROMIUM``), or
        Chromium failed.
    """
    chromium = find_chromium()
    if chromium is None:
        raise TrajectoireError(
            "report: --pdf needs headless Chromium, and none was found "
            f"({', '.join(_CHROMIUM_NAMES)}); install it (apt-get install chromium) or set "
            "TRAJECTOIRE_CHROMIUM to its path; the HTML page was written."
        )
    pdf = Path(pdf_path).resolve()
    with tempfile.TemporaryDirectory(prefix="trajectoire-chromium-") as profile:
        cmd = chromium_command(
            chromium,
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            Path(html_path).resolve().as_uri(),
        )
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise TrajectoireError(
                f"report: Chromium took over {timeout:.0f} s to print {pdf}."
            ) from None
    if done.returncode != 0 or not pdf.exists() or pdf.stat().st_size == 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise TrajectoireError(
            f"report: Chromium could not print {pdf} (exit {done.returncode}: {last})."
        )
    return pdf


def write_report(
    path: str | Path,
    out: str | Path,
    *,
    territory: str,
    lang: str = "fr",
    scenario: str | Path | None = None,
    pdf: bool = False,
) -> list[Path]:
    """Write the report of one territory from an output file (and a PDF beside it on request).

    Parameters
    ----------
    path : str or Path
        The run's output NetCDF.
    out : str or Path
        The HTML file to write.
    territory, lang
        As in :func:`build_report`.
    scenario : str or Path, optional
        A scenario output NetCDF.
    pdf : bool, default False
        Also print ``out`` with the suffix ``.pdf`` through headless Chromium.

    Returns
    -------
    list of Path
        The files written.
    """
    from trajectoire.io.netcdf import open_output

    if lang not in LANGS:  # before opening anything
        raise InputError(
            f"report: --lang {lang!r} is not available; expected one of {list(LANGS)}."
        )
    for p, what in ((path, "OUT.nc"), (scenario, "--scenario")):
        if p is not None and not Path(p).is_file():
            raise InputError(f"report: {what} {str(p)!r} does not exist.")
    ds = open_output(path)
    sc = open_output(scenario) if scenario is not None else None
    try:
        page = build_report(ds, territory, lang=lang, scenario=sc)
    finally:
        ds.close()
        if sc is not None:
            sc.close()
    target = Path(out)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(target)
    written = [target]
    if pdf:
        written.append(html_to_pdf(target, target.with_suffix(".pdf")))
    return written
