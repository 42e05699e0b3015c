"""Traced numbers: every figure of the report is read from the NetCDF through one recipe.

A *term* names a variable of the output, a selection of labels, the dims summed after the
selection and optionally a weight (another variable multiplied in before the sum). A
*number* is one term, or two terms combined by an operation: ``share`` (100 a / b, a
percentage), ``diff`` (a − b), ``pct_change`` (100 (a − b) / b). :class:`Tracer` evaluates
the recipe on the dataset, rounds the value, writes it in the language's style and records
the recipe in the HTML, so that a reader (or a test) can compute it again from the file::

    <span class="n" data-var="exposure" data-nd="1"
          data-sel='{"year": 2023, "territory": "MEL", "pollutant": "NO2"}'>13,1</span>

Attributes: ``data-var``, ``data-sel`` (JSON), ``data-sum`` (JSON list of dims),
``data-weight`` (JSON term ``{"var", "sel"}``), ``data-op`` and ``data-ref`` (JSON term of the
second operand), ``data-abs`` (``1``: the absolute value is written, the words around it
say the direction), ``data-scale`` (a factor the value is multiplied by before rounding:
``1000`` writes a level in ug m-3 in ng/m³; absent for 1), ``data-round`` (``1``: the two
operands of a ``diff`` are rounded to ``data-nd`` first, so that a written difference is the
difference of the two written values), ``data-nd`` (the ``ndigits`` of
Python's :func:`round`: 1 for a tenth, -2 for the nearest hundred) and ``data-src``
(``scenario`` for a number read from the scenario file; absent for the run's output).
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr
from markupsafe import Markup

from trajectoire.errors import InputError

__all__ = ["OPS", "Number", "Term", "Tracer", "evaluate", "format_number"]

#: Operations combining a term with a reference term.
OPS = ("share", "diff", "pct_change")

#: Thousands separator (a narrow no-break space in French, ISO 80000-1) and decimal mark.
_MARKS = {"fr": ("\u202f", ","), "en": (",", ".")}


@dataclass(frozen=True)
class Term:
    """One read of the output: ``var.sel(sel)`` (times ``weight``) summed over ``sum``."""

    var: str
    sel: Mapping[str, Any]
    sum: tuple[str, ...] = ()
    weight: tuple[str, Mapping[str, Any]] | None = None

    def to_json(self) -> dict[str, Any]:
        """The term as the JSON object written in ``data-ref``."""
        out: dict[str, Any] = {"var": self.var, "sel": _plain(self.sel)}
        if self.sum:
            out["sum"] = list(self.sum)
        if self.weight is not None:
            out["weight"] = {"var": self.weight[0], "sel": _plain(self.weight[1])}
        return out


def _plain(sel: Mapping[str, Any]) -> dict[str, Any]:
    """JSON-ready labels (numpy integers and strings to Python ones)."""
    return {str(k): (v.item() if isinstance(v, np.generic) else v) for k, v in sel.items()}


def _read(ds: xr.Dataset, term: Term) -> float:
    if term.var not in ds.variables:  # a data variable or a coordinate (the grid's spacing)
        raise InputError(f"report: the output has no variable {term.var!r}.")
    da = ds[term.var].sel(dict(term.sel))
    if term.weight is not None:
        w = ds[term.weight[0]].sel(dict(term.weight[1]))
        da = da.fillna(0.0) * w.fillna(0.0)
    if term.sum:
        da = da.sum(list(term.sum))
    if da.ndim:
        raise InputError(
            f"report: {term.var} with {dict(term.sel)} summed over {list(term.sum)} "
            f"still has dims {da.dims}; expected one value."
        )
    return float(da.astype("float64").values)


def evaluate(
    ds: xr.Dataset, term: Term, *, op: str | None = None, ref: Term | None = None
) -> float:
    """Value of a number recipe on `ds` (before rounding).

    Parameters
    ----------
    ds : xarray.Dataset
        The output (or the scenario) the numbers are read from.
    term : Term
        The first (or only) operand.
    op : {"share", "diff", "pct_change"}, optional
        How `term` is combined with `ref`.
    ref : Term, optional
        The second operand, required with `op`.

    Returns
    -------
    float
        NaN when the value or its reference is missing (or a zero denominator).
    """
    a = _read(ds, term)
    if op is None:
        return a
    if op not in OPS or ref is None:
        raise InputError(f"report: op={op!r} needs a ref and one of {list(OPS)}.")
    b = _read(ds, ref)
    if op == "diff":
        return a - b
    if b == 0.0 or not math.isfinite(b):
        return math.nan
    return 100.0 * a / b if op == "share" else 100.0 * (a - b) / b


def format_number(value: float, nd: int, lang: str) -> str:
    """`value` rounded to `nd` digits (Python's :func:`round`) in the style of `lang`.

    Examples
    --------
    >>> format_number(1128550.9, -2, "fr")
    '1\u202f128\u202f600'
    >>> format_number(-13.06, 1, "fr")
    '−13,1'
    >>> format_number(13.06, 1, "en")
    '13.1'
    """
    thousands, decimal = _MARKS[lang]
    if not math.isfinite(value):
        return "–"
    rounded = round(value, nd)
    text = f"{abs(rounded):,.{max(nd, 0)}f}"
    text = text.replace(",", "\x00").replace(".", decimal).replace("\x00", thousands)
    return ("−" if rounded < 0 else "") + text


class Number(Markup):
    """A traced number as the page writes it (the ``<span>`` of :meth:`Tracer.num`), with
    `shown`, the rounded value it shows (NaN for a dash): the words around it agree with it
    (``0 habitant``, ``2 habitants``)."""

    shown: float = math.nan
    #: the unrounded value, and the digits it is rounded to (``round(value, nd)``)
    value: float = math.nan
    nd: int = 1


@dataclass
class Tracer:
    """Reads, rounds, writes and records the numbers of one report.

    Parameters
    ----------
    ds : xarray.Dataset
        The run's output.
    lang : {"fr", "en"}
        Style of the numbers (decimal comma and narrow no-break space in French).
    scenario : xarray.Dataset, optional
        A scenario output, read by ``num(..., src="scenario")``.
    records : list of dict
        Every number written so far: its ``data-*`` attributes and its unrounded ``value``
        (filled by :meth:`num`; the report's test reads them back).
    """

    ds: xr.Dataset
    lang: str
    scenario: xr.Dataset | None = None
    records: list[dict[str, Any]] = field(default_factory=list)

    def value(
        self,
        var: str,
        sel: Mapping[str, Any],
        *,
        sum: Sequence[str] = (),  # noqa: A002 - the name of the recipe's field
        weight: tuple[str, Mapping[str, Any]] | None = None,
        op: str | None = None,
        ref: Term | None = None,
        src: str | None = None,
    ) -> float:
        """The unrounded value of a recipe (for choosing words: rose or fell, a share...)."""
        term = Term(var, dict(sel), tuple(sum), weight)
        return evaluate(self._dataset(src), term, op=op, ref=ref)

    def num(
        self,
        var: str,
        sel: Mapping[str, Any],
        *,
        nd: int = 1,
        sum: Sequence[str] = (),  # noqa: A002
        weight: tuple[str, Mapping[str, Any]] | None = None,
        op: str | None = None,
        ref: Term | None = None,
        absolute: bool = False,
        scale: float = 1.0,
        src: str | None = None,
        rounded: bool = False,
    ) -> Number:
        """The number as ``<span class="n" data-var=... data-sel=...>`` (see the module doc);
        `scale` multiplies the value (after `absolute`) before it is rounded (a change of
        unit: 1000 from ug m-3 to ng/m³); `rounded` (with ``op="diff"``, no `scale`) takes
        the difference of the two operands each rounded to `nd`, as the page writes them."""
        term = Term(var, dict(sel), tuple(sum), weight)
        data = self._dataset(src)
        if rounded:
            if op != "diff" or ref is None or scale != 1.0:
                raise InputError("report: rounded=True needs op='diff', a ref and no scale.")
            value = round(evaluate(data, term), nd) - round(evaluate(data, ref), nd)
        else:
            value = evaluate(data, term, op=op, ref=ref)
        if absolute:
            value = abs(value)
        value *= scale
        attrs: dict[str, str] = {
            "data-var": var,
            "data-sel": json.dumps(_plain(sel), ensure_ascii=False),
        }
        if term.sum:
            attrs["data-sum"] = json.dumps(list(term.sum))
        if weight is not None:
            attrs["data-weight"] = json.dumps(term.to_json()["weight"], ensure_ascii=False)
        if op is not None and ref is not None:
            attrs["data-op"] = op
            attrs["data-ref"] = json.dumps(ref.to_json(), ensure_ascii=False)
        if absolute:
            attrs["data-abs"] = "1"
        if scale != 1.0:
            attrs["data-scale"] = repr(float(scale))
        if rounded:
            attrs["data-round"] = "1"
        attrs["data-nd"] = str(nd)
        if src is not None:
            attrs["data-src"] = src
        self.records.append({**attrs, "value": value})
        text = format_number(value, nd, self.lang)
        quoted = " ".join(f"{k}='{html.escape(v, quote=True)}'" for k, v in attrs.items())
        out = Number(f'<span class="n" {quoted}>{html.escape(text)}</span>')
        out.shown = round(value, nd) if math.isfinite(value) else math.nan
        out.value = value
        out.nd = nd
        return out

    def _dataset(self, src: str | None) -> xr.Dataset:
        if src is None:
            return self.ds
        if src == "scenario" and self.scenario is not None:
            return self.scenario
        raise InputError(f"report: no dataset {src!r} to read numbers from.")
