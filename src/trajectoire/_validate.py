"""Reusable input checks that raise :mod:`trajectoire.errors` with fix-it messages.

Each helper names the thing checked (``what``), for example ``"point_sources.csv, column
'height'"``, so that the message points at the file and field at fault.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Collection, Hashable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Generic, TypeGuard, TypeVar

import numpy as np
import numpy.typing as npt

from trajectoire.errors import ConfigError, InputError, MissingVariableError

__all__ = [
    "FrozenTable",
    "as_floats",
    "broadcast_named",
    "did_you_mean",
    "env_threads",
    "first_true",
    "masked_like",
    "masks_off",
    "normalise_vocabulary",
    "refuse_cuts",
    "require_columns",
    "require_dims",
    "require_finite",
    "require_flag",
    "require_known",
    "require_non_negative",
    "require_positive",
    "require_subset",
    "require_unique",
    "require_year",
    "rows_preview",
    "scalar_coordinate",
    "values_at",
]


def env_threads(variable: str, meaning: str, unset: str) -> int | None:
    """A thread count from the environment variable `variable`; None when it is unset.

    Parameters
    ----------
    variable : str
        The variable, e.g. ``TRAJECTOIRE_IO_THREADS``.
    meaning : str
        What the threads do, for the message (``"threads that compress the output
        chunks"``).
    unset : str
        What unsetting it gives, for the message (``"the usable cores"``).

    Raises
    ------
    trajectoire.ConfigError
        The variable is set (not blank) but is not an integer >= 1: one line naming it,
        its value and what unsetting it gives.
    """
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(
            f"environment variable {variable}={raw!r}: expected an integer >= 1 ({meaning}); "
            f"unset it to use {unset}."
        )
    return value


def scalar_coordinate(obj: Any, dim: str) -> Any:
    """The value an xarray object was cut to along `dim` when it holds `dim` as a 0-d
    coordinate (what ``ds.sel(dim=value)`` leaves), as a Python scalar (text decoded);
    None otherwise (`dim` still a dimension, or absent)."""
    if dim in obj.dims or dim not in obj.coords or obj[dim].ndim != 0:
        return None
    value = obj[dim].item()
    return value.decode() if isinstance(value, bytes) else value


def refuse_cuts(
    obj: Any,
    caller: str,
    dims: Iterable[str],
    why: str,
    *,
    name: str = "ds",
    subject: str = "the dataset",
    whole: str | None = None,
    keep: bool = True,
) -> None:
    """One :class:`~trajectoire.InputError` when `obj` was cut along one of `dims` (a 0-d
    coordinate, what ``ds.sel(dim=value)`` leaves) that `caller` reads whole.

    `why` says what `caller` does with the dim (``{dim}`` in it is filled in); `name` is the
    argument's name in the fixes; `whole` the first fix (default: pass `name` itself); with
    `keep`, the list selection that keeps the dim is given as the other fix.
    """
    for dim in dims:
        have = scalar_coordinate(obj, dim)
        if have is None:
            continue
        fix = whole or f"the whole dataset ({name}, not {name}.sel({dim}=...))"
        other = f", or keep the {dim} dim with a list: {name}.sel({dim}=[{have!r}])" if keep else ""
        raise InputError(
            f"{caller}: {subject} was cut to {dim}={have!r} (a 0-d coordinate, as "
            f"{name}.sel({dim}={have!r}) leaves), and {why.format(dim=dim)}; pass {fix}{other}."
        )


def as_floats(
    values: Any, what: str, expected: str = "a number or an array of numbers"
) -> np.ndarray:
    """`values` as a float64 array; one :class:`~trajectoire.InputError` naming `what`, the
    first value that is not a number (with its position in an array) and `expected`.

    The value is looked for only when numpy's conversion fails: valid input costs nothing
    more than :func:`numpy.asarray`.

    Examples
    --------
    >>> as_floats([1, "2.5"], "x").tolist()
    [1.0, 2.5]
    >>> as_floats([1, "abc"], "x")
    Traceback (most recent call last):
    ...
    trajectoire.errors.InputError: x: 'abc' (str) at position 1 is not a number; expected a number or an array of numbers. Convert text first (float(), pd.to_numeric).
    """
    try:
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        pass
    try:
        flat = np.asarray(values, dtype=object).ravel()
    except (TypeError, ValueError):  # a ragged nesting of lists
        flat = np.empty(1, dtype=object)
        flat[0] = values
    bad, pos = values, None
    for i, v in enumerate(flat):
        try:
            float(v)
        except (TypeError, ValueError):
            bad, pos = v, i
            break
    at = f" at position {pos}" if pos is not None and np.ndim(values) else ""
    text = isinstance(bad, str | bytes)
    fix = "Convert text first (float(), pd.to_numeric)." if text else "Give real numbers."
    raise InputError(
        f"{what}: {repr(bad)[:60]} ({type(bad).__name__}){at} is not a number; expected "
        f"{expected}. {fix}"
    )


def broadcast_named(what: str, **arrays: npt.ArrayLike) -> list[np.ndarray]:
    """``numpy.broadcast_arrays`` of the named `arrays`, a mismatch said in one line.

    Examples
    --------
    >>> [a.shape for a in broadcast_named("f", x=[1.0, 2.0], y=3.0)]
    [(2,), (2,)]
    >>> broadcast_named("f", x=[1.0, 2.0, 3.0], y=[0.0, 1.0])
    Traceback (most recent call last):
    ...
    trajectoire.errors.InputError: f: the shapes of x (3,) and y (2,) do not broadcast together; expected arrays of one shape, or of shapes numpy broadcasts (a scalar, or a length-1 axis).
    """
    values = {k: np.asarray(v) for k, v in arrays.items()}
    try:
        return list(np.broadcast_arrays(*values.values()))
    except ValueError:
        shapes = [f"{k} {v.shape}" for k, v in values.items() if v.ndim]
        listed = ", ".join(shapes[:-1]) + f" and {shapes[-1]}" if len(shapes) > 1 else shapes[0]
        raise InputError(
            f"{what}: the shapes of {listed} do not broadcast together; expected arrays of "
            "one shape, or of shapes numpy broadcasts (a scalar, or a length-1 axis)."
        ) from None


#: The years (first, last) a row of an input file may give: outside them a year is a typo
#: (``18`` for 2018, ``3000``) that would be read as another year, or open a gap of
#: centuries in a series (trend tables, Eurostat files, background tables, stack registers).
DATA_YEARS = (1900, 2100)


def is_real_number(value: Any) -> bool:
    """Whether `value` is a real number: a Python or numpy int or float (``np.float32(0.3)``),
    not a bool (``True`` is not 1 here) nor text; NaN is one (callers check the range)."""
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def is_integer_number(value: Any) -> TypeGuard[int | np.integer[Any]]:
    """Whether `value` is a Python or numpy integer (``np.int64(2023)``, a year read from an
    output), not a bool nor a float."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def masks_off(
    named: Mapping[str, Any], stand_ins: Mapping[str, Any]
) -> tuple[dict[str, Any], list[np.ndarray]]:
    """`named` inputs with each :class:`numpy.ma.MaskedArray` (as netCDF4 reads a variable
    with fill values) replaced by its data, the masked entries set to ``stand_ins[name]``
    (a value the checks accept: those entries are computed and masked again by
    :func:`masked_like`), as floats unless the stand-in is text; and the masks found (none:
    `named` as given)."""
    masks: list[np.ndarray] = []
    if not any(np.ma.isMaskedArray(v) for v in named.values()):
        return dict(named), masks
    out: dict[str, Any] = {}
    for name, values in named.items():
        if not np.ma.isMaskedArray(values):
            out[name] = values
            continue
        mask = np.ma.getmaskarray(values)
        masks.append(mask)
        data = np.ma.getdata(values)
        if not isinstance(stand_ins[name], str):
            data = as_floats(data, name)
        out[name] = np.where(mask, stand_ins[name], data)
    return out, masks


def masked_like(out: np.ndarray, masks: Sequence[np.ndarray], fill_value: Any = None) -> Any:
    """`out` itself without `masks`, else a masked array masked wherever one of the inputs
    was (masked in, masked out), with `fill_value` (numpy's default when None)."""
    if not masks:
        return out
    masked = np.zeros(out.shape, dtype=bool)
    for m in masks:
        masked |= np.broadcast_to(m, out.shape)
    return np.ma.MaskedArray(out, mask=masked, fill_value=fill_value)


def require_flag(value: Any, what: str, true: str, false: str) -> bool:
    """`value` as a bool when it is one (Python or numpy); anything else (``"no"``, 0, None)
    is one :class:`~trajectoire.InputError` naming `what` (``"caller: name"``) and what
    True and False mean (`true`, `false`): a flag is never read by truthiness."""
    if not isinstance(value, bool | np.bool_):
        raise InputError(
            f"{what}={value!r} ({type(value).__name__}); expected True ({true}) or False ({false})."
        )
    return bool(value)


def first_true(mask: npt.ArrayLike) -> tuple[int, ...]:
    """The index of the first True of `mask` (C order), as Python ints, for a message that
    names the first offending element (the caller knows one is True)."""
    m = np.asarray(mask, dtype=bool)
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(m)), m.shape))


def require_year(value: Any, what: str = "year") -> int:
    """`value` as an integer year: an integer, or a float or text that holds one.

    Parameters
    ----------
    value : object
        The year given (``2019``, ``np.int64(2019)``, ``2019.0`` or ``"2019"``).
    what : str, default "year"
        Its name, for the message.

    Returns
    -------
    int

    Raises
    ------
    trajectoire.InputError
        `value` is not a whole number (``2019.7``, None, a list, True): one line naming it
        and giving an example (before, ``int(2019.7)`` chose 2019 silently).

    Examples
    --------
    >>> require_year(2019.0)
    2019
    >>> require_year(2019.7)
    Traceback (most recent call last):
    ...
    trajectoire.errors.InputError: year=2019.7 (float): expected one whole year, such as 2019.
    """
    year: int | None = None
    if isinstance(value, bool | np.bool_):
        year = None
    elif isinstance(value, int | np.integer):
        year = int(value)
    elif isinstance(value, float | np.floating) and float(value).is_integer():
        year = int(value)
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
        year = int(value.strip())
    if year is None:
        raise InputError(
            f"{what}={value!r} ({type(value).__name__}): expected one whole year, such as 2019."
        )
    return year


def year_ranges(years: Iterable[int]) -> str:
    """Years as runs of consecutive ones: ``1990..2017, 2030`` (sorted, each once).

    Examples
    --------
    >>> year_ranges([2030, 1990, 1991, 1992, 2000])
    '1990..1992, 2000, 2030'
    """
    ys = sorted({int(y) for y in years})
    runs: list[list[int]] = []
    for y in ys:
        if runs and y == runs[-1][-1] + 1:
            runs[-1].append(y)
        else:
            runs.append([y])
    return ", ".join(f"{r[0]}..{r[-1]}" if len(r) > 2 else ", ".join(map(str, r)) for r in runs)


def rows_preview(rows: Iterable[Any], limit: int = 8) -> str:
    """Format a short list of offending row labels: ``3, 7, 12 (and 40 more)``."""
    rows = list(rows)
    head = ", ".join(str(r) for r in rows[:limit])
    if len(rows) > limit:
        head += f" (and {len(rows) - limit} more)"
    return head


def values_at(bad: Mapping[str, Sequence[Any]], limit: int = 5, rows: int = 3) -> str:
    """Offending values each with where they stand, for a message: ``'x' at line 3, line 7;
    (empty) at line 9``; `bad` maps each value as text (``""`` for a blank cell) to its
    places in the file's order; at most `limit` values and `rows` places each are shown."""
    items = list(bad.items())
    text = "; ".join(
        f"{repr(value) if value else '(empty)'} at {rows_preview(places, rows)}"
        for value, places in items[:limit]
    )
    return text + (f" (and {len(items) - limit} more values)" if len(items) > limit else "")


def _rows_text(rows: Sequence[Any]) -> str:
    """``rows 3, 7`` for row labels; the places alone where they already say where they are
    (``line 5`` from :func:`trajectoire.tables.data_lines`, ``row 'S1'``)."""
    text = rows_preview(rows)
    placed = all(isinstance(r, str) and r.startswith(("line ", "row ")) for r in rows)
    return text if placed else f"rows {text}"


def _flagged_rows(
    bad: np.ndarray, labels: Sequence[Any] | None, values: np.ndarray | None = None
) -> list[Any]:
    """Labels (or indices) of the rows of `bad` (first axis) holding a True value; for 1-D
    `values`, each with its offending value (``"S1: -5"``, issue 13)."""
    idx = (
        np.flatnonzero(bad.reshape(bad.shape[0], -1).any(axis=1)) if bad.ndim else np.zeros(1, int)
    )
    rows = [labels[int(i)] for i in idx] if labels is not None else [int(i) for i in idx]
    if values is not None and values.ndim == 1:
        rows = [f"{r}: {values[int(i)]:g}" for r, i in zip(rows, idx, strict=True)]
    return rows


def require_columns(columns: Iterable[str], required: Sequence[str], what: str) -> None:
    """Raise :class:`MissingVariableError` if any of `required` is not among `columns`."""
    have = list(columns)
    missing = [c for c in required if c not in have]
    if missing:
        shown = [c for c in have if c != "_row"]  # the readers' own column of file lines
        others = [str(h) for h in shown if h not in required]
        hints = [
            f"{c!r}{hint}"
            for c in missing
            if (hint := did_you_mean(str(c), others).replace(" (did", ": did").rstrip(")"))
        ]
        close = f" ({'; '.join(hints)})" if hints else ""
        error = MissingVariableError(
            f"{what}: missing column(s) {missing}{close}; found {shown}. "
            f"Rename the columns or pass a column mapping."
        )
        # for a reader called through the configuration, whose message names the key to
        # write (trajectoire.io.formats.input_context)
        error.missing, error.found, error.what = missing, shown, what  # type: ignore[attr-defined]
        raise error


def require_dims(dims: Sequence[Hashable], required: Sequence[str], what: str) -> None:
    """Raise :class:`MissingVariableError` if `dims` lacks one of the `required` dimensions."""
    missing = [d for d in required if d not in dims]
    if missing:
        raise MissingVariableError(
            f"{what}: has dims {tuple(dims)}, expected {tuple(required)}; "
            f"missing {missing}. Use .rename({{old: new}}) to match."
        )


def require_finite(values: npt.ArrayLike, what: str, labels: Sequence[Any] | None = None) -> None:
    """Raise :class:`InputError` if `values` holds NaN or infinities, naming the rows."""
    arr = np.asarray(values, dtype=float)
    bad = ~np.isfinite(arr)
    if bad.any():
        rows = _flagged_rows(bad, labels, arr)
        raise InputError(
            f"{what}: {int(bad.sum())} value(s) are NaN or infinite ({_rows_text(rows)}). "
            "Fill them or drop those rows."
        )


def require_non_negative(
    values: npt.ArrayLike, what: str, labels: Sequence[Any] | None = None
) -> None:
    """Raise :class:`InputError` if `values` holds NaN or negative numbers, naming the rows."""
    require_finite(values, what, labels)
    arr = np.asarray(values, dtype=float)
    bad = arr < 0
    if bad.any():
        rows = _flagged_rows(bad, labels, arr)
        raise InputError(
            f"{what}: {int(bad.sum())} negative value(s) ({_rows_text(rows)}); "
            "expected values >= 0. Check the sign convention of the source data."
        )


def require_positive(value: float, what: str) -> None:
    """Raise :class:`InputError` unless the scalar `value` is finite and > 0."""
    if not np.isfinite(value) or value <= 0:
        raise InputError(f"{what} must be a finite number > 0, got {value!r}.")


def require_known(values: Iterable[Any], known: Iterable[Any], what: str) -> None:
    """Raise :class:`InputError` listing the `values` that are not in `known`."""
    known_list = list(known)
    known_set = set(known_list)
    unknown = sorted({v for v in values if v not in known_set}, key=str)
    if unknown:
        raise InputError(
            f"{what}: unknown value(s) {unknown}; expected one of {known_list}. "
            "Map them to known ids (see the mapping options) or fix the spelling."
        )


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` with the closest of `choices` to `value`, or ``""``.

    For the messages that reject a misspelled name (:func:`difflib.get_close_matches`, its
    default cutoff 0.6).

    Examples
    --------
    >>> did_you_mean("widht", ["width", "sigma"])
    " (did you mean 'width'?)"
    >>> did_you_mean("colour", ["width", "sigma"])
    ''
    """
    close = difflib.get_close_matches(value, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def require_unique(values: Sequence[Any], what: str) -> None:
    """Raise :class:`InputError` naming the duplicated entries of `values`."""
    seen: set[Any] = set()
    dup: list[Any] = []
    for v in values:
        if v in seen and v not in dup:
            dup.append(v)
        seen.add(v)
    if dup:
        raise InputError(
            f"{what}: duplicated id(s) {rows_preview(dup)}; every id must appear once. "
            "Merge or rename the duplicated rows."
        )


def require_subset(
    found: Iterable[Any], allowed: Iterable[Any], message: Callable[[list[Any]], str]
) -> None:
    """Raise :class:`InputError` if some of `found` are not in `allowed`.

    Parameters
    ----------
    found : iterable
        The values met in the input.
    allowed : iterable
        The values accepted.
    message : callable
        Builds the error message from the sorted list of values of `found` missing from
        `allowed`.

    Raises
    ------
    trajectoire.InputError
        With ``message(missing)`` when `missing` is not empty.

    Examples
    --------
    >>> require_subset([2019, 2020], [2019, 2020, 2021], lambda m: f"no data for {m}")
    """
    missing = sorted(set(found) - set(allowed))
    if missing:
        raise InputError(message(missing))


def normalise_rows(
    values: Sequence[Any], labels: Sequence[Any], normalise: Callable[..., str], what: str
) -> list[str]:
    """Each value mapped by ``normalise(value, what=...)``, each distinct value once.

    A value `normalise` refuses (:class:`trajectoire.InputError`) is refused again with the
    row labels it is on added to `what` (``"{what}, rows 3, 7"``), so that the message says
    where to look.

    Parameters
    ----------
    values : sequence
        The column's values.
    labels : sequence
        The row label of each value (same length), or its place in the file
        (``"line 7"``, :func:`trajectoire.tables.data_lines`), quoted as it is.
    normalise : callable
        ``normalise(value, what=str) -> str`` (e.g.
        :func:`trajectoire.species.normalise_pollutant`).
    what : str
        Where the values come from (file, key, column).

    Returns
    -------
    list of str
    """
    done: dict[Any, str] = {}
    for v in dict.fromkeys(values):
        try:
            done[v] = normalise(v, what=what)
        except InputError:
            rows = [lab for lab, w in zip(labels, values, strict=True) if w == v]
            lines = all(isinstance(r, str) and r.startswith("line ") for r in rows)
            place = rows_preview(rows) if lines else f"rows {rows_preview(rows)}"
            normalise(v, what=f"{what}, {place}")
            raise
    return [done[v] for v in values]


def normalise_vocabulary(
    name: Any,
    canonical: Collection[str],
    aliases: Mapping[str, str],
    *,
    what: str,
    kind: str,
    expected: str,
) -> str:
    """Return the canonical id of `name` in a controlled vocabulary.

    Parameters
    ----------
    name : object
        The id or alias given (converted with ``str`` and stripped of blanks).
    canonical : collection of str
        The canonical ids, returned unchanged (case-sensitive).
    aliases : mapping of str to str
        Lower-case aliases to canonical ids (case-insensitive lookup).
    what : str
        Where the name comes from, used in the error message.
    kind : str
        What the vocabulary names (``"sector"``, ``"pollutant"``), for the error message.
    expected : str
        The accepted names and how to fix a wrong one, for the error message.

    Returns
    -------
    str
        The canonical id.

    Raises
    ------
    trajectoire.InputError
        ``"{what}: unknown {kind} {name!r}; expected {expected}"`` if `name` is not in the
        vocabulary.

    Examples
    --------
    >>> normalise_vocabulary(" no2 ", ["NO2"], {"no2": "NO2"}, what="x", kind="gas", expected="")
    'NO2'
    """
    key = str(name).strip()
    if key in canonical:
        return key
    canon = aliases.get(key.lower())
    if canon is None:
        raise InputError(f"{what}: unknown {kind} {name!r}; expected {expected}")
    return canon


_V = TypeVar("_V")


class FrozenTable(Mapping[str, _V], Generic[_V]):
    """A read-only mapping over a dict ``self._table`` that a subclass fills in ``__init__``
    (the registries of species and of temporal profiles)."""

    _table: Mapping[str, _V]

    def __getitem__(self, key: str) -> _V:
        return self._table[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)
