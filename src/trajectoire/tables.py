"""The one reading layer of CSV tables: encoding, delimiter and decimal mark, checked numbers.

Every CSV input of the package is read by :func:`read_table`. It accepts what spreadsheets
save: UTF-8 (with or without a byte-order mark) or Windows-1252, fields separated by commas,
semicolons or tabs, decimal commas (``12,5``) in semicolon- or tab-separated files, plain or
gzip-compressed (``.gz``). What it does not get told it detects, and it logs the dialect it
used at debug level (logger ``"trajectoire"``, shown by ``trajectoire run -v``). Thousands
separators are never guessed.

:func:`numeric_column` turns a column into numbers [float64]; a cell that is not a number
(``"12.5 t"``, ``"1,2"`` in a file read with ``'.'`` decimals, an empty cell where a value
is required) is an error that shows the value.

Every error is one line, an :class:`~trajectoire.errors.InputError` naming the file, the line
(the header is line 1), the column and the value at fault, what was expected and, when the
caller gives it, the configuration key that names the file (``[inputs] point_sources``).
"""

from __future__ import annotations

import codecs
import contextlib
import contextvars
import csv
import gzip
import inspect
import io
import logging
import os
import re
import warnings
import zlib
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, NamedTuple, TypeAlias, TypedDict, TypeVar, Unpack, cast

import numpy as np
import pandas as pd

from trajectoire._validate import did_you_mean, is_integer_number, require_columns, rows_preview
from trajectoire.errors import ConfigError, InputError, MissingVariableError, config_option

__all__ = [
    "ENCODINGS",
    "SEPARATORS",
    "DialectOptions",
    "Provenance",
    "TableDialect",
    "TableOptions",
    "blank_cell",
    "check_encoding",
    "choose_layer",
    "clock_goes_back",
    "column_mapping",
    "columns_option",
    "data_lines",
    "detect_dialect",
    "dialect_defaults",
    "file_column",
    "id_text",
    "keyword_options",
    "mapped_columns",
    "numeric_column",
    "option_table",
    "read_table",
    "with_options",
    "zoned_times",
]

log = logging.getLogger("trajectoire")

#: a time of day followed by a zone (``Z``, ``+01:00``, ``-0500``): a zoned ISO 8601 time
_ZONED = r"[T ]\S*?(?:Z|[+-]\d\d(?::?\d\d)?)$"


def zoned_times(text: pd.Series) -> np.ndarray:
    """Whether each ISO 8601 time of `text` is written with its zone (``Z`` or an offset).

    The readers of hourly tables (meteorology, observations) take a time without a zone as
    UTC, and refuse a column that mixes the two conventions.

    Examples
    --------
    >>> zoned_times(pd.Series(["2023-01-01T00:00Z", "2023-01-01 01:00+01:00", "2023-01-01T02:00"]))
    array([ True,  True, False])
    """
    return (
        text.astype(str)
        .str.strip()
        .str.contains(_ZONED, case=False, regex=True)
        .to_numpy(dtype=bool)
    )


def clock_goes_back(hour: pd.Timestamp) -> bool:
    """Whether `hour`, read as UTC, is the local hour France's clocks repeat when they go
    back (02:00 on the last Sunday of October; of September until 1995): a file in local
    time (CET/CEST) read as UTC holds it twice.

    Examples
    --------
    >>> clock_goes_back(pd.Timestamp("2018-10-28 02:00")), clock_goes_back(pd.Timestamp("2018-10-21 02:00"))
    (True, False)
    """
    last_sunday = hour.month in (9, 10) and hour.day_of_week == 6 and hour.day >= 24
    return bool(last_sunday and hour.hour == 2)


#: encodings tried in this order when none is given (``utf-8-sig`` reads a byte-order mark)
ENCODINGS = ("utf-8-sig", "utf-8", "cp1252")
#: field delimiters recognised when none is given
SEPARATORS = (",", ";", "\t")

TableSource: TypeAlias = str | os.PathLike[str] | IO[str] | IO[bytes] | pd.DataFrame

#: lines looked at to detect the delimiter and the decimal mark
_SAMPLE_LINES = 100
_COMMA_NUMBER = re.compile(r"[+-]?\d*,\d+(?:[eE][+-]?\d+)?")
_POINT_NUMBER = re.compile(r"[+-]?(?:\d*\.\d+|\d+\.)(?:[eE][+-]?\d+)?")
_NUMBER_WITH_UNITS = re.compile(r"\s*[+-]?(?:\d+[.,]?\d*|[.,]\d+)(?:[eE][+-]?\d+)?\s*[^\d\s.,].*")
_SEP_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}


class TableDialect(NamedTuple):
    """How a CSV file is written: what :func:`read_table` detects or is told."""

    encoding: str  #: ``"utf-8-sig"`` (UTF-8 with a byte-order mark), ``"utf-8"`` or ``"cp1252"``
    sep: str  #: field delimiter: ``","``, ``";"`` or ``"\\t"``
    decimal: str  #: decimal mark: ``"."`` or ``","``


# ---------------------------------------------------------------------- reader keywords
class Provenance(TypedDict, total=False):
    """The keywords by which a reader names its input in its messages.

    A family of readers that takes a keyword group as ``**options: Unpack[Group]`` derives
    the group from this one (:class:`TableOptions`,
    :class:`trajectoire.meteo.sources.MetSite`), so that the two keywords are described
    here once.

    Attributes
    ----------
    what : str or None
        Name of the input in messages (default: the path).
    config_key : str or None
        The configuration key that names the input (``"[inputs] meteo"``), quoted in
        messages as the thing to fix.
    """

    what: str | None
    config_key: str | None


class DialectOptions(TypedDict, total=False):
    """How a CSV file is written, as a caller gives it; what is not given (None) is detected.

    The keywords of :func:`detect_dialect` and (with :class:`Provenance`, as
    :class:`TableOptions`) of :func:`read_table`.

    Attributes
    ----------
    encoding : str or None
        Text encoding. Default: the first of :data:`ENCODINGS` (``utf-8-sig``, UTF-8 with a
        byte-order mark, then ``utf-8`` and ``cp1252``, Windows-1252) that decodes the whole
        file.
    sep : str or None
        Field delimiter. Default: sniffed among :data:`SEPARATORS` (``,``, ``;``, tab) on the
        first lines.
    decimal : str or None
        Decimal mark. Default: ``","`` when the delimiter is ``";"`` or a tab and the numbers
        of the first lines are written with a comma (``12,5``, none ``12.5``), else ``"."``.
        Thousands separators are never guessed.
    comment : str or None
        Lines (and the rest of lines) after this character are ignored (e.g. ``"#"``), and
        left out of the detection.
    """

    encoding: str | None
    sep: str | None
    decimal: str | None
    comment: str | None


class TableOptions(Provenance, DialectOptions, total=False):
    """The keywords of :func:`read_table` that name the table and say how it is written:
    :class:`Provenance` (`what`, `config_key`) and :class:`DialectOptions` (`encoding`,
    `sep`, `decimal`, `comment`)."""


_Group = TypeVar("_Group", bound=Mapping[str, Any])
_Function = TypeVar("_Function", bound=Callable[..., Any])


def keyword_options(
    group: type[_Group],
    call: str,
    options: Mapping[str, Any],
    defaults: Mapping[str, Any] | None = None,
    required: Sequence[str] = (),
) -> _Group:
    """Every keyword of the group `group` (a :class:`typing.TypedDict`), as a call gives them.

    What a function taking ``**options: Unpack[group]`` (PEP 692) applies in one place: the
    check that each keyword given is one of the group's and that the required ones are
    given, and the defaults of those not given. The one check of every keyword group of the
    library (:class:`Provenance`, :class:`TableOptions`, the meteorology readers'
    ``MetSite``, the inventory readers' ``GriddedOptions``, the temporal profiles'
    ``ProfileOptions``, ``trajectoire.plot.PlotOptions``,
    ``trajectoire.io.netcdf.MapSelection`` ...).

    Parameters
    ----------
    group : type
        The TypedDict of the keywords.
    call : str
        The function's name, for the message.
    options : mapping of str to object
        The keywords given.
    defaults : mapping of str to object, optional
        The default of some keywords; the others default to None.
    required : sequence of str, default ()
        Keywords that must be given.

    Returns
    -------
    dict
        Every key of `group`: the value given, else its default.

    Raises
    ------
    TypeError
        One line, as Python's for a named parameter: a keyword that is not a key of
        `group` (with the closest key when one is close) or a required one not given; the
        line lists the group's keywords and names the group.

    Examples
    --------
    >>> keyword_options(DialectOptions, "read", {"sep": ";"}, {"decimal": "."})
    {'encoding': None, 'sep': ';', 'decimal': '.', 'comment': None}
    >>> keyword_options(DialectOptions, "read", {"delimiter": ";"})
    Traceback (most recent call last):
    ...
    TypeError: read() got an unexpected keyword argument 'delimiter'; besides its named parameters it takes the keywords ['encoding', 'sep', 'decimal', 'comment'] of trajectoire.tables.DialectOptions
    >>> keyword_options(DialectOptions, "read", {"decimals": ","})
    Traceback (most recent call last):
    ...
    TypeError: read() got an unexpected keyword argument 'decimals' (did you mean 'decimal'?); besides its named parameters it takes the keywords ['encoding', 'sep', 'decimal', 'comment'] of trajectoire.tables.DialectOptions
    """
    names = list(group.__annotations__)
    keywords = f"the keywords {names} of {group.__module__}.{group.__qualname__}"
    unknown = [k for k in options if k not in names]
    if unknown:
        raise TypeError(
            f"{call}() got an unexpected keyword argument {unknown[0]!r}"
            f"{did_you_mean(unknown[0], names)}; besides its named parameters it takes {keywords}"
        )
    missing = [k for k in required if k not in options]
    if missing:
        raise TypeError(
            f"{call}() missing keyword argument {missing[0]!r}; it takes {keywords}, "
            f"{list(required)} required"
        )
    return cast(_Group, {**dict.fromkeys(names), **(defaults or {}), **options})


def with_options(
    group: type, defaults: Mapping[str, Any] | None = None, required: Sequence[str] = ()
) -> Callable[[_Function], _Function]:
    """Show the keywords of `group` in the signature of a function taking them as ``**options``.

    The function is returned unchanged (no wrapper: the warnings it gives keep their stack
    level), with a ``__signature__`` in which its ``**options`` stand as the keyword-only
    keys of the TypedDict `group`, with their `defaults` (else None; the `required` ones
    without a default); :func:`inspect.signature`, :func:`help` and a notebook's call tips
    show them, and code that lists a reader's keywords
    (:meth:`trajectoire.io.formats.Format.keywords`) finds them.

    Parameters
    ----------
    group : type
        The TypedDict of the keywords, as for :func:`keyword_options`.
    defaults : mapping of str to object, optional
        As for :func:`keyword_options`.
    required : sequence of str, default ()
        As for :func:`keyword_options`.

    Returns
    -------
    callable
        The decorator.
    """

    def decorate(function: _Function) -> _Function:
        signature = inspect.signature(function)
        kept = [p for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD]
        added = [
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=inspect.Parameter.empty if name in required else (defaults or {}).get(name),
                annotation=_shown(annotation),
            )
            for name, annotation in group.__annotations__.items()
            if name not in signature.parameters
        ]
        setattr(function, "__signature__", signature.replace(parameters=kept + added))  # noqa: B010
        return function

    return decorate


def _shown(annotation: Any) -> Any:
    """A TypedDict key's annotation as a signature shows it: the string as written (postponed
    annotations), without ``NotRequired[...]``/``Required[...]``, which say whether the key
    is required (the signature says it by a default)."""
    text = getattr(annotation, "__forward_arg__", annotation)
    if isinstance(text, str):
        m = re.fullmatch(r"(?:typing\.)?(?:Not)?Required\[(.*)\]", text.strip())
        return m.group(1) if m else text
    return text


# ---------------------------------------------------------------------- messages
def _fix(config_key: str | None, what: str = "the file") -> str:
    """The closing sentence of a message: what to fix, and the config key naming the file."""
    if config_key:
        return f" Fix {what} or the path given by {config_key}."
    return f" Fix {what}."


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


# ---------------------------------------------------------------------- bytes and text
def _read_bytes(path: Path, name: str, config_key: str | None) -> bytes:
    """The bytes of `path`, gunzipped when the file is gzip-compressed."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(
            f"{name}: file not found (looked for {path.absolute()}); expected an existing CSV "
            f"file. Check the path{f' given by {config_key}' if config_key else ''}."
        ) from None
    except IsADirectoryError:
        raise InputError(
            f"{name}: is a folder; expected a CSV file. Check the path"
            f"{f' given by {config_key}' if config_key else ''}."
        ) from None
    except OSError as exc:
        raise InputError(
            f"{name}: cannot be read ({_one_line(exc.strerror or exc)}); expected a readable "
            "CSV file." + _fix(config_key, "its permissions")
        ) from None
    if data[:2] == b"\x1f\x8b" or path.suffix.lower() == ".gz":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(
                f"{name}: not a readable gzip file ({_one_line(exc)}); expected a CSV file "
                "compressed with gzip (.csv.gz) or a plain CSV file." + _fix(config_key)
            ) from None
    return data


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def check_encoding(encoding: str, name: str) -> None:
    """Raise unless `encoding` is a text codec Python knows (a transform such as ``rot13``
    or ``base64`` is a codec too, but reads no text file).

    Raises
    ------
    trajectoire.InputError
        ``"<name>: unknown encoding ..."`` with examples of valid names.
    """
    try:
        known = codecs.lookup(encoding)._is_text_encoding
    except LookupError:
        known = False
    if not known:
        raise InputError(
            f"{name}: unknown encoding {encoding!r}; expected a Python codec name such as "
            "'utf-8', 'utf-8-sig' or 'cp1252'."
        )


def _decode(
    data: bytes, encoding: str | None, name: str, config_key: str | None
) -> tuple[str, str]:
    """The text of `data` and the encoding it was read with (the one given, or detected)."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise InputError(
            f"{name}: saved as UTF-16 (byte-order mark {data[:2]!r}); expected UTF-8 or "
            "Windows-1252 text. Save it again as 'CSV UTF-8' (or plain CSV)."
            + (f" The file is named by {config_key}." if config_key else "")
        )
    if encoding:
        check_encoding(encoding, name)
    tried = [encoding] if encoding else list(ENCODINGS)
    last_error: UnicodeDecodeError | None = None
    for enc in tried:
        try:
            text = data.decode(enc)
        except UnicodeDecodeError as exc:
            last_error = exc
            continue
        if enc == "utf-8-sig" and not data.startswith(b"\xef\xbb\xbf"):
            enc = "utf-8"
        if "\x00" in text:
            line = _line_of(data, data.index(b"\x00"))
            raise InputError(
                f"{name}: NUL byte at line {line}: not a text CSV file (a binary file, or "
                "UTF-16 text); expected UTF-8 or Windows-1252 text." + _fix(config_key)
            )
        return text, enc
    assert last_error is not None
    bad = data[last_error.start : last_error.start + 1]
    encodings = f"as {encoding}" if encoding else "as UTF-8 or Windows-1252"
    raise InputError(
        f"{name}: cannot be decoded {encodings}: byte {bad!r} at line "
        f"{_line_of(data, last_error.start)}; expected a text CSV file. Save it as 'CSV UTF-8'"
        + (
            f" or pass encoding= (config {config_option(config_key, 'encoding')})."
            if config_key
            else " or pass encoding=."
        )
    )


def _sample_lines(text: str, comment: str | None) -> list[str]:
    """The first non-blank, non-comment lines of `text` (header first)."""
    out: list[str] = []
    for line in io.StringIO(text):
        stripped = line.strip()
        if not stripped or (comment and stripped.startswith(comment)):
            continue
        out.append(line.rstrip("\r\n"))
        if len(out) >= _SAMPLE_LINES:
            break
    return out


def _rows(lines: Sequence[str], sep: str) -> list[list[str]]:
    try:
        return list(csv.reader(lines, delimiter=sep))
    except csv.Error:
        return [line.split(sep) for line in lines]


def _counted_sep(lines: Sequence[str]) -> str:
    """The delimiter that splits the header into the most fields, the same number on every row."""
    best: tuple[bool, int, int] | None = None
    choice = ","
    for rank, sep in enumerate(SEPARATORS):
        rows = _rows(lines, sep)
        width = len(rows[0]) if rows else 1
        if width < 2:
            continue
        steady = all(len(r) == width for r in rows[1:])
        score = (steady, width, -rank)
        if best is None or score > best:
            best, choice = score, sep
    return choice


def _sniffed_sep(lines: Sequence[str]) -> str:
    """The delimiter among :data:`SEPARATORS` (csv.Sniffer, checked; else :func:`_counted_sep`)."""
    counted = _counted_sep(lines)
    try:
        sniffed = csv.Sniffer().sniff("\n".join(lines[:20]), delimiters="".join(SEPARATORS))
        guess = sniffed.delimiter
    except (csv.Error, TypeError, ValueError):
        return counted
    if guess == counted:
        return guess
    rows = _rows(lines, guess)
    width = len(rows[0]) if rows else 1
    steady = width > 1 and all(len(r) == width for r in rows[1:])
    counted_rows = _rows(lines, counted)
    counted_steady = len(counted_rows[0]) > 1 and all(
        len(r) == len(counted_rows[0]) for r in counted_rows[1:]
    )
    return guess if steady or not counted_steady else counted


def _sniffed_decimal(lines: Sequence[str], sep: str) -> str:
    """``","`` when numbers are written ``12,5`` (and none ``12.5``) in a ';' or tab file."""
    if sep == ",":
        return "."
    cells = [c.strip() for row in _rows(lines[1:], sep) for c in row]
    comma = sum(1 for c in cells if _COMMA_NUMBER.fullmatch(c))
    point = sum(1 for c in cells if _POINT_NUMBER.fullmatch(c))
    return "," if comma and not point else "."


@with_options(DialectOptions)
def detect_dialect(
    data: bytes, *, what: str = "table", **dialect: Unpack[DialectOptions]
) -> TableDialect:
    """Detect how the CSV text `data` is written; what is given is kept as given.

    Parameters
    ----------
    data : bytes
        The file's content (uncompressed).
    what : str, default "table"
        Name of the data in error messages.
    **dialect
        What is known of the dialect: see :class:`DialectOptions`.

    Returns
    -------
    TableDialect

    Raises
    ------
    trajectoire.InputError
        `data` is not bytes (a path, a string), cannot be decoded in any of the encodings,
        or holds NUL bytes.

    Examples
    --------
    >>> detect_dialect("ville;valeur\\nCompiègne;12,5\\n".encode("cp1252"))
    TableDialect(encoding='cp1252', sep=';', decimal=',')
    """
    given = keyword_options(DialectOptions, "detect_dialect", dialect)
    if not isinstance(data, bytes | bytearray | memoryview):
        raise InputError(
            f"detect_dialect({what}): received {type(data).__name__} {str(data)[:60]!r}; "
            "expected the file's content as bytes (Path(p).read_bytes()); read_table(path) "
            "reads a file by its path."
        )
    text, enc = _decode(bytes(data), given["encoding"], what, None)
    return _dialect(text, enc, given["sep"], given["decimal"], given["comment"])


def _dialect(
    text: str, encoding: str, sep: str | None, decimal: str | None, comment: str | None
) -> TableDialect:
    lines = _sample_lines(text, comment)
    the_sep = sep if sep is not None else (_sniffed_sep(lines) if lines else ",")
    the_decimal = decimal if decimal is not None else _sniffed_decimal(lines, the_sep)
    return TableDialect(encoding, the_sep, the_decimal)


# ---------------------------------------------------------------------- parsing
def _row_of_other_width(
    text: str, sep: str, comment: str | None, *, longer: bool
) -> tuple[int, int, int, str] | None:
    """The first data row with more fields than the header (`longer`) or fewer: (line,
    fields, header fields, text). pandas pads a shorter row with empty cells, so a field
    left out of the middle of a row shifts the next ones into the wrong columns without a
    word. Blank lines and comment lines are no rows."""
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    width: int | None = None
    previous = 0
    try:
        for row in reader:
            start, previous = previous + 1, reader.line_num
            if not row or not "".join(row).strip():
                continue
            if comment and row[0].lstrip().startswith(comment):
                continue
            if width is None:
                width = len(row)
            elif (len(row) > width) if longer else (len(row) < width):
                return start, len(row), width, sep.join(row)
    except csv.Error:
        return None
    return None


def _ragged_message(
    exc: Exception | None, text: str, dialect: TableDialect, comment: str | None
) -> str:
    found = _row_of_other_width(text, dialect.sep, comment, longer=True)
    if found is not None:
        line, n, width, row = found
        shown = row if len(row) <= 60 else row[:57] + "..."
        said = (
            f"line {line} has {n} fields but the header has {width} ({shown!r}); expected "
            f"{width} fields separated by {_SEP_NAMES.get(dialect.sep, repr(dialect.sep))}s on "
            "every line (quote the values that hold the delimiter)"
        )
        header = _header_text(text, comment)
        if header is not None and line == header[0] + 1:  # the very first row is longer:
            first = header[1] if len(header[1]) <= 60 else header[1][:57] + "..."
            said += (  # a title or a note above the header, read as the header
                f"; line {header[0]} ({first!r}) was read as the header: if it is a title or "
                "a note above the header, remove it"
            )
        return said
    detail = _one_line(exc).replace("Error tokenizing data. C error: ", "")
    quote = re.search(r"EOF inside string starting at row (\d+)", detail)
    if quote:
        return (
            f"a quote opened at line {int(quote.group(1)) + 1} is never closed; expected "
            "every '\"' to be paired"
        )
    return f"not a well-formed CSV table ({detail})"


def _header_text(text: str, comment: str | None) -> tuple[int, str] | None:
    """The line number and text of the line read as the header (the first that is not
    blank nor a comment), or None."""
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip() and not (comment and line.lstrip().startswith(comment)):
            return number, line
    return None


def _header_line(text: str, comment: str | None) -> int:
    """Line number of the header: 1 unless blank or comment lines come first."""
    for number, line in enumerate(io.StringIO(text), start=1):
        stripped = line.strip()
        if stripped and not (comment and stripped.startswith(comment)):
            return number
    return 1


def _sep_hint(text: str, dialect: TableDialect, comment: str | None, config_key: str | None) -> str:
    """Where the delimiter was given (not detected) and the file looks delimited by another
    one: the sentence that says so and names the keys (a ragged table then comes from the
    configuration, not the file)."""
    lines = _sample_lines(text, comment)
    found = _sniffed_sep(lines) if lines else dialect.sep
    if found == dialect.sep:
        return ""
    keys = f"{config_option(config_key, 'delimiter')} or [csv] delimiter" if config_key else "sep="
    return (
        f" the delimiter given is {_SEP_NAMES.get(dialect.sep, repr(dialect.sep))} but the "
        f"file looks delimited by {_SEP_NAMES.get(found, repr(found))}s: fix or remove {keys} "
        "(left out, it is detected)."
    )


def _sep_said(
    text: str, dialect: TableDialect, comment: str | None, config_key: str | None, given: bool
) -> str:
    """The end of a ragged table's first sentence: the delimiter's hint where it was given."""
    hint = _sep_hint(text, dialect, comment, config_key) if given else ""
    return f";{hint}" if hint else "."


def _parse(
    text: str,
    dialect: TableDialect,
    name: str,
    *,
    comment: str | None,
    dtype: Any,
    config_key: str | None,
    expected: str,
    sep_given: bool = False,
) -> pd.DataFrame:
    if not text.strip():
        raise InputError(f"{name}: empty file; expected {expected}." + _fix(config_key))
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            frame = pd.read_csv(
                io.StringIO(text),
                sep=dialect.sep,
                decimal=dialect.decimal,
                comment=comment,
                dtype=dtype,
            )
        for w in caught:
            log.debug("%s: pandas: %s", name, _one_line(w.message))
    except pd.errors.EmptyDataError:
        raise InputError(
            f"{name}: no header row (only blank or comment lines); expected {expected}."
            + _fix(config_key)
        ) from None
    except pd.errors.ParserError as exc:
        raise InputError(
            f"{name}: {_ragged_message(exc, text, dialect, comment)}"
            + _sep_said(text, dialect, comment, config_key, sep_given)
            + _fix(config_key)
        ) from None
    except (ValueError, TypeError, OverflowError) as exc:
        raise InputError(
            f"{name}: not readable as a CSV table ({_one_line(exc)}); expected {expected}."
            + _fix(config_key)
        ) from None
    if len(frame.columns) > 1 and len(frame) and frame.iloc[:, -1].isna().any():
        # an empty last cell may be a row with fewer fields than the header (pandas pads it)
        short = _row_of_other_width(text, dialect.sep, comment, longer=False)
        if short is not None:
            line, n, width, row = short
            shown = row if len(row) <= 60 else row[:57] + "..."
            raise InputError(
                f"{name}: line {line} has {n} field(s) but the header has {width} ({shown!r}); "
                f"expected {width} fields separated by "
                f"{_SEP_NAMES.get(dialect.sep, repr(dialect.sep))}s on every line (a field "
                "left out shifts the next ones into the wrong columns; write an empty field "
                "as two delimiters side by side)"
                + _sep_said(text, dialect, comment, config_key, sep_given)
                + _fix(config_key)
            )
    if not (
        isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0 and frame.index.step == 1
    ):
        # pandas takes the first column(s) as the index when every row is longer than the header
        raise InputError(
            f"{name}: {_ragged_message(None, text, dialect, comment)}"
            + _sep_said(text, dialect, comment, config_key, sep_given)
            + _fix(config_key)
        )
    return frame


def _repeated_columns(text: str, sep: str, comment: str | None) -> dict[str, list[int]]:
    """The names given to several columns of the header, each with its positions (1 for the
    first column); blank names (pandas' ``Unnamed: k``) left out.

    Read from the raw header: :func:`pandas.read_csv` renames a repeated ``x`` to ``x.1``,
    and a reader asking for ``x`` silently gets the first.
    """
    try:
        for row in csv.reader(io.StringIO(text), delimiter=sep):
            if not row or not "".join(row).strip():
                continue
            if comment and row[0].lstrip().startswith(comment):
                continue
            positions: dict[str, list[int]] = {}
            for k, field in enumerate(row, start=1):
                if field.strip():
                    positions.setdefault(field, []).append(k)
            return {name: at for name, at in positions.items() if len(at) > 1}
    except csv.Error:  # a malformed file: the parser's own message stands
        return {}
    return {}


def _source_name(source: Any, what: str | None) -> str:
    if what is not None:
        return what
    if isinstance(source, str | os.PathLike):
        return str(source)
    return str(getattr(source, "name", None) or "table")


#: Dialect given for every table read in a block (:func:`dialect_defaults`).
_DEFAULTS: contextvars.ContextVar[tuple[tuple[str, str], ...]] = contextvars.ContextVar(
    "trajectoire_csv_dialect", default=()
)


@contextlib.contextmanager
def dialect_defaults(
    *, encoding: str | None = None, sep: str | None = None, decimal: str | None = None
) -> Iterator[None]:
    """Give the dialect of every CSV read in the block (what the configuration says).

    :func:`read_table` uses these where its own arguments are None, and detects the rest;
    the run sets them from the configuration's ``[csv]`` section.

    Parameters
    ----------
    encoding, sep, decimal : str, optional
        As for :func:`read_table`.

    Examples
    --------
    >>> import io
    >>> with dialect_defaults(sep=";", decimal=","):
    ...     read_table(io.StringIO("a;b\\n1,5;2\\n"))["a"].tolist()
    [1.5]
    """
    given = {k: v for k, v in (("encoding", encoding), ("sep", sep), ("decimal", decimal)) if v}
    token = _DEFAULTS.set(tuple({**dict(_DEFAULTS.get()), **given}.items()))
    try:
        yield
    finally:
        _DEFAULTS.reset(token)


#: Column names given for every table read in a block (:func:`column_mapping`).
_COLUMNS: contextvars.ContextVar[_ColumnState | None] = contextvars.ContextVar(
    "trajectoire_column_mapping", default=None
)


class _ColumnState:
    """The mapping of a :func:`column_mapping` block and what the tables read in it held."""

    def __init__(self, mapping: dict[str, str]) -> None:
        self.mapping = mapping
        self.used: set[str] = set()
        self.seen: list[list[str]] = []


@contextlib.contextmanager
def column_mapping(columns: dict[str, str] | None) -> Iterator[_ColumnState]:
    """Give the file's names of the columns a reader expects, for every table read in the block.

    :func:`read_table` (and the vector readers, through :func:`mapped_columns`) rename each
    file column named in `columns` to the name the reader expects; this is how the
    configuration's ``columns = { height = "hauteur" }`` reaches a reader that knows only
    ``height``.

    Parameters
    ----------
    columns : mapping of str to str, optional
        Expected name -> name in the file.

    Yields
    ------
    state
        ``state.used``: the expected names found in some table of the block;
        ``state.seen``: the column lists of the tables read (for messages).

    Examples
    --------
    >>> import io
    >>> with column_mapping({"height": "hauteur"}):
    ...     read_table(io.StringIO("hauteur\\n12\\n")).columns.tolist()
    ['height']
    """
    token = _COLUMNS.set(_ColumnState(dict(columns or {})))
    try:
        state = _COLUMNS.get()
        assert state is not None
        yield state
    finally:
        _COLUMNS.reset(token)


def columns_option(
    columns: Mapping[str, str] | None,
    valid: Sequence[str],
    *,
    what: str,
    config_key: str | None = None,
) -> dict[str, str]:
    """Check a reader's ``columns`` option (canonical name -> name in the file).

    Parameters
    ----------
    columns : mapping of str to str, optional
        The option as given: canonical column name -> the column's name in the file.
    valid : sequence of str
        The canonical names the reader knows.
    what : str
        Name of the file (or table) in messages.
    config_key : str, optional
        The configuration key that holds the option (``"[inputs.stations]"``), quoted in
        messages as the thing to fix.

    Returns
    -------
    dict
        A copy of `columns` (empty when None).

    Raises
    ------
    trajectoire.ConfigError
        A key of `columns` is not in `valid`; the message names the file, the unknown keys,
        the valid ones and `config_key`.

    Examples
    --------
    >>> columns_option({"height": "hauteur"}, ["height", "x"], what="stacks.csv")
    {'height': 'hauteur'}
    >>> columns_option({"haut": "h"}, ["height"], what="stacks.csv", config_key="[inputs] stacks")
    Traceback (most recent call last):
    ...
    trajectoire.errors.ConfigError: stacks.csv, columns: unknown key(s) ['haut']; the valid keys are ['height'] (canonical name = the column in the file). Fix [inputs.stacks] columns.
    """
    given = dict(columns or {})
    unknown = sorted(set(given) - set(valid))
    if unknown:
        raise ConfigError(
            f"{what}, columns: unknown key(s) {unknown}; the valid keys are {list(valid)} "
            f"(canonical name = the column in the file). "
            f"Fix {config_option(config_key, 'columns', default='the columns option')}."
        )
    return given


def option_table(config_key: str) -> str:
    """The table whose sub-keys set an input's options: ``[inputs] zones`` ->
    ``[inputs.zones]``, an anchor's ``[[inputs.anchors]] #1 area_emissions`` ->
    ``[inputs.anchors.area_emissions] (anchor #1)``; any other key as it is (its keys:
    :func:`~trajectoire.errors.config_option`)."""
    return config_option(config_key, "")


def choose_layer(
    path: str | os.PathLike[str],
    layer: str | None,
    *,
    what: str | None = None,
    config_key: str | None = None,
    preferred: Sequence[str] = (),
) -> str | None:
    """The layer of a vector file to read: `layer` when the file has it, the only one, or
    the first of `preferred` the file has.

    Parameters
    ----------
    path : str or path-like
        A GeoPackage, GeoJSON, shapefile... (anything :func:`pyogrio.list_layers` opens).
    layer : str or None
        The layer asked for (None: choose).
    what : str, optional
        The file's name in messages (default `path`).
    config_key : str, optional
        The input's configuration key (``[inputs] zones``): the messages say to set its
        ``layer``; without it they name the Python keyword ``layer=``.
    preferred : sequence of str, default ()
        Layer names taken, in this order, when the file has several and none is asked.

    Returns
    -------
    str or None
        The layer's name, or None for a file of one layer (read it without naming one).

    Raises
    ------
    trajectoire.InputError
        The file cannot be opened as a vector file, or it has several layers, none asked
        and none preferred (the message lists them).
    trajectoire.MissingVariableError
        `layer` is not a layer of the file (the message lists those it has).
    """
    import pyogrio

    name = what or str(path)
    try:
        layers = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    except Exception as exc:  # pyogrio raises its own DataSourceError family
        where = f" given by {config_key}" if config_key else ""
        raise InputError(
            f"{name}: cannot be read as a vector file ({exc}); expected a GeoPackage, "
            f"GeoJSON or shapefile. Fix the file or the path{where}."
        ) from None

    def fix(example: str) -> str:
        if config_key:
            return f'set {config_option(config_key, "layer")} = "{example}"'
        return f'pass layer="{example}"'

    if layer is not None:
        if layer not in layers:
            hint = did_you_mean(layer, layers)
            raise MissingVariableError(
                f"{name}: no layer {layer!r}{hint}; the file holds {layers}. Choose one: "
                f"{fix(layers[0] if layers else layer)}."
            )
        return layer
    if len(layers) <= 1:
        return None
    chosen = next((p for p in preferred if p in layers), None)
    if chosen is not None:
        return chosen
    none_named = f" and none is called {' or '.join(map(repr, preferred))}" if preferred else ""
    raise InputError(
        f"{name}: has several layers {layers}{none_named}; choose the one to read: "
        f"{fix(layers[0])}."
    )


def file_column(name: str) -> str:
    """The file's name of the column a reader expects as `name`, in the enclosing
    :func:`column_mapping` block (`name` itself outside one, or when it is not mapped), for
    messages that name the column as the file has it.

    Examples
    --------
    >>> with column_mapping({"height": "hauteur"}):
    ...     file_column("height"), file_column("x")
    ('hauteur', 'x')
    """
    state = _COLUMNS.get()
    return state.mapping.get(name, name) if state is not None else name


def mapped_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with the columns of the enclosing :func:`column_mapping` renamed (else as is).

    A file column mapped onto a name the file also has replaces that column.
    """
    state = _COLUMNS.get()
    if state is None or not state.mapping:
        return frame
    state.seen.append([str(c) for c in frame.columns])
    rename = {
        file: want for want, file in state.mapping.items() if file in frame.columns and file != want
    }
    state.used.update(want for want, file in state.mapping.items() if file in frame.columns)
    if not rename:
        return frame
    shadowed = [c for c in rename.values() if c in frame.columns and c not in rename]
    return frame.drop(columns=shadowed).rename(columns=rename)


@with_options(TableOptions)
def read_table(
    source: TableSource,
    *,
    dtype: Any = None,
    require_rows: bool = False,
    expected: str | None = None,
    **options: Unpack[TableOptions],
) -> pd.DataFrame:
    """Read a CSV table, detecting its encoding, delimiter and decimal mark.

    Parameters
    ----------
    source : str, path-like, file object or pandas.DataFrame
        A CSV file (``.gz``: gzip-compressed; detected from its first bytes too), an open
        text or binary file, or a DataFrame (returned as a copy, nothing detected).
    dtype : optional
        Passed to :func:`pandas.read_csv` (e.g. ``{"station_id": str}``).
    require_rows : bool, default False
        A file with a header and no data row is an error.
    expected : str, optional
        What the file should hold, for messages (default: a header row and data rows).
    **options
        Other keywords: see :class:`TableOptions` (`what`, default the path or the file
        object's name; `config_key`; the dialect `encoding`, `sep`, `decimal`, `comment`,
        where None takes the :func:`dialect_defaults` of the block, else is detected).

    Returns
    -------
    pandas.DataFrame
        The table, as :func:`pandas.read_csv` reads it with the dialect used (default
        ``RangeIndex``; data row ``i`` is file line ``i + 2`` when the header is line 1 and no
        blank or comment line comes before a row). ``attrs["dialect"]``: ``sep``,
        ``decimal`` and ``decimal_given`` (whether the decimal mark was given, not detected).

    Raises
    ------
    trajectoire.InputError
        One line naming the file and, where it applies, the line at fault: a missing or
        unreadable file, an empty file (or header only with `require_rows`), text that is
        neither UTF-8 nor Windows-1252, rows with more fields than the header, an unclosed
        quote, a column name given twice in the header (named, with its positions).

    Examples
    --------
    >>> import io
    >>> text = "site;NOx\\nDunkerque;12,5\\n"
    >>> read_table(io.StringIO(text), what="sites.csv")["NOx"].tolist()
    [12.5]
    """
    table = keyword_options(TableOptions, "read_table", options)
    config_key, comment = table["config_key"], table["comment"]
    name = _source_name(source, table["what"])
    if isinstance(source, pd.DataFrame):
        return mapped_columns(source.copy())
    block = dict(_DEFAULTS.get())  # the dialect of the enclosing dialect_defaults block
    encoding = table["encoding"] or block.get("encoding")
    sep = table["sep"] or block.get("sep")
    decimal = table["decimal"] or block.get("decimal")
    wanted = expected or "a header row and one row per record"
    given = {"encoding": encoding, "sep": sep, "decimal": decimal}
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        data = _read_bytes(path, name, config_key)
        text, enc = _decode(data, encoding, name, config_key)
    else:
        try:
            content = source.read()
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise InputError(f"{name}: cannot be read ({_one_line(exc)}).") from None
        if isinstance(content, bytes):
            text, enc = _decode(content, encoding, name, config_key)
        else:
            text, enc = str(content), encoding or "text"
    if sep is not None and decimal is not None and sep == decimal:
        raise InputError(f"{name}: sep and decimal are both {sep!r}; they must differ.")
    dialect = _dialect(text, enc, sep, decimal, comment)
    frame = _parse(
        text,
        dialect,
        name,
        comment=comment,
        dtype=dtype,
        config_key=config_key,
        expected=wanted,
        sep_given=sep is not None,
    )
    if sep is not None and frame.shape[1] == 1:  # every line one field: another delimiter
        hint = _sep_hint(text, dialect, comment, config_key)
        if hint:
            raise InputError(f"{name}: read as one column ({str(frame.columns[0])[:60]!r});{hint}")
    repeated = _repeated_columns(text, dialect.sep, comment)
    if repeated:
        found = [
            f"{column!r} (columns {', '.join(map(str, at[:-1]))} and {at[-1]})"
            for column, at in repeated.items()
        ]
        raise InputError(
            f"{name}: duplicated column name(s) in the header: {rows_preview(found, 4)}; "
            "expected each name once (pandas would read the second as "
            f"'{next(iter(repeated))}.1', and the first would be used). Rename or remove the "
            "repeated column." + _fix(config_key)
        )
    if require_rows and frame.empty:
        raise InputError(
            f"{name}: no data rows ({'header only' if len(frame.columns) else 'no columns'}); "
            f"expected {wanted}." + _fix(config_key)
        )
    frame = mapped_columns(frame)
    header = _header_line(text, comment)
    if header != 1:
        frame.attrs["header_line"] = header
    # how the file was read, for readers that parse text cells themselves (a comma inside a
    # value of a comma-delimited file is ambiguous: trajectoire.inventory.irep)
    frame.attrs["dialect"] = {
        "sep": dialect.sep,
        "decimal": dialect.decimal,
        "decimal_given": decimal is not None,
    }
    log.debug(
        "%s: read %d row(s) x %d column(s); encoding %s, delimiter %s, decimal %r (%s)",
        name,
        len(frame),
        len(frame.columns),
        dialect.encoding,
        _SEP_NAMES.get(dialect.sep, repr(dialect.sep)),
        dialect.decimal,
        ", ".join(f"{k} {'given' if v is not None else 'detected'}" for k, v in given.items()),
    )
    return frame


# ---------------------------------------------------------------------- ids
def blank_cell(value: Any) -> bool:
    """Whether a cell holds nothing: None, NaN, an empty or blank text, or pandas' and
    Python's missing markers written as text (``"nan"``, ``"<NA>"``, ``"None"``).

    Examples
    --------
    >>> [blank_cell(v) for v in (None, float("nan"), " ", "nan", "0", 0)]
    [True, True, True, True, False, False]
    """
    return bool(
        value is None
        or (isinstance(value, float) and np.isnan(value))
        or str(value).strip() in ("", "nan", "<NA>", "None")
    )


def id_text(value: Any) -> str:
    """An id as text: a whole number read as a float loses its ``.0``, text is stripped.

    Ids are read as text (``dtype=str``) so that they keep their leading zeros (INSEE code
    ``02001``, IREP ``0007000956``); a vector file may still store them as numbers, and a
    float column (an integer column with an empty cell) writes ``59001.0``.

    Examples
    --------
    >>> [id_text(v) for v in ("02001", 59001.0, 59001, " S1 ", 2.5)]
    ['02001', '59001', '59001', 'S1', '2.5']
    """
    if isinstance(value, float | np.floating) and np.isfinite(value) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


# ---------------------------------------------------------------------- numbers
def _place(label: Hashable, header_line: int, lines: bool) -> str:
    if lines and is_integer_number(label):
        return f"line {int(label) + header_line + 1}"
    return f"row {label!r}"


def data_lines(df: pd.DataFrame, rows: Sequence[int] | np.ndarray) -> list[str]:
    """Where rows of a table read by :func:`read_table` are, for messages.

    Parameters
    ----------
    df : pandas.DataFrame
        The table (its ``attrs["header_line"]`` is the header's file line when
        :func:`read_table` found lines above it).
    rows : sequence of int
        Positions of the rows (0 for the first data row).

    Returns
    -------
    list of str
        ``"line 3"`` for the row at label 1 (the header is line 1), or ``"row 'S1'"`` for a
        label that is not an integer.
    """
    header_line = int(df.attrs.get("header_line", 1))
    labels = list(df.index)
    return [_place(labels[int(i)], header_line, True) for i in rows]


def check_repeats(df: pd.DataFrame, keys: Sequence[pd.Series], what: str, said: str) -> None:
    """Raise one error naming the rows of `df` that repeat the same `keys`, by file line.

    Parameters
    ----------
    df : pandas.DataFrame
        A table read by :func:`read_table` (where its rows are: :func:`data_lines`).
    keys : sequence of pandas.Series
        The key columns, aligned with `df` (e.g. a station id, the year, the pollutant).
    what : str
        The file and its configuration key, first in the message.
    said : str
        What a repeat is and what to do, e.g. ``"several values for one station, year and
        pollutant: {found}; keep one each."`` (``{found}`` is replaced by the keys and
        lines).

    Raises
    ------
    trajectoire.InputError
        Some rows hold the same keys (every one of them is named, up to six).
    """
    table = pd.concat(list(keys), axis=1, ignore_index=True)
    repeated = np.flatnonzero(table.duplicated(keep=False).to_numpy())
    if repeated.size:
        found = [
            " ".join(str(k.iloc[i]) for k in keys) + f" at {line}"
            for i, line in zip(repeated, data_lines(df, repeated), strict=True)
        ]
        raise InputError(f"{what}: " + said.replace("{found}", rows_preview(found, 6)))


def check_not_negative(
    df: pd.DataFrame,
    column: str,
    values: np.ndarray,
    what: str,
    expected: str,
    ids: pd.Series | None = None,
) -> None:
    """Raise one error naming the negative `values` of `column` by file line.

    Parameters
    ----------
    df : pandas.DataFrame
        A table read by :func:`read_table` (where its rows are: :func:`data_lines`).
    column : str
        The column the values are read from.
    values : numpy.ndarray
        Its values as numbers, one per row of `df` (NaN: none, not refused here).
    what : str
        The file and its configuration key, first in the message.
    expected : str
        What the values should be, e.g. ``"annual means >= 0"``.
    ids : pandas.Series, optional
        An id to name beside each value (e.g. the stack), aligned with `df`.

    Raises
    ------
    trajectoire.InputError
        A value is below 0 (up to five are named, each with its line).
    """
    negative = np.flatnonzero(values < 0)
    if negative.size:
        found = [
            ("" if ids is None else f"{ids.iloc[i]} ") + f"{values[i]:g} at {line}"
            for i, line in zip(negative, data_lines(df, negative), strict=True)
        ]
        raise InputError(
            f"{what}, column {column!r}: negative value(s) {rows_preview(found, 5)}; "
            f"expected {expected}. Fix or remove those lines."
        )


def open_netcdf(
    path: str | os.PathLike[str], message: Callable[[str], str], *, load: bool = False
) -> Any:
    """``xarray.open_dataset(path)`` (read whole, and the file closed, with `load`), or an
    :class:`~trajectoire.errors.InputError` ``message(reason)`` where the file cannot be read
    (empty, truncated, not NetCDF): `reason` is the first sentence of the library's error,
    on one line."""
    import xarray as xr

    try:
        ds = xr.open_dataset(path)
        if load:
            with ds:
                ds.load()
        return ds
    except (OSError, ValueError) as exc:
        reason = " ".join(str(exc).split(". ")[0].split()) or type(exc).__name__
        raise InputError(message(reason)) from None


def _hint(values: Sequence[object], config_key: str | None = None) -> str:
    """A sentence on what the bad `values` look like (a decimal comma, a number with its
    units), naming the option that reads them where the file is named by `config_key`."""
    texts = [v for v in values if isinstance(v, str)]
    if any(_COMMA_NUMBER.fullmatch(v.strip()) for v in texts):
        how = (
            f'set {config_option(config_key, "decimal")} = ","'
            if config_key
            else "read the file with decimal=','"
        )
        return f" The value looks like a decimal comma: {how} or write '.' decimals."
    if any(_NUMBER_WITH_UNITS.fullmatch(v) for v in texts):
        return " Write the number alone: the units are those of the column."
    return ""


def numeric_column(
    df: pd.DataFrame,
    column: str,
    *,
    what: str,
    config_key: str | None = None,
    allow_nan: bool = False,
    units: str | None = None,
    ids: Sequence[Any] | None = None,
    lines: bool = True,
) -> np.ndarray:
    """The values of `column` as numbers [float64]; a cell that is not a number is an error.

    Parameters
    ----------
    df : pandas.DataFrame
        The table (from :func:`read_table`, or any DataFrame).
    column : str
        The column to convert.
    what : str
        Name of the table in messages (the file).
    config_key : str, optional
        Configuration key naming the file, quoted in messages.
    allow_nan : bool, default False
        Empty cells (and pandas' missing markers such as ``NA``) are returned as NaN instead
        of being an error. Text and infinite values are always errors.
    units : str, optional
        Units of the column, quoted in messages (``"expected a number in m"``).
    ids : sequence, optional
        Row ids (e.g. the ``source_id`` column), one per row, quoted next to the line.
    lines : bool, default True
        Name rows by file line (integer row label ``i`` is line ``i + 2``: the header is line
        1, or ``df.attrs["header_line"]`` when :func:`read_table` found lines above it);
        False names them by row label (a DataFrame given in memory).

    Returns
    -------
    numpy.ndarray
        float64 values, in row order (NaN for the empty cells allowed by `allow_nan`).

    Raises
    ------
    trajectoire.MissingVariableError
        `column` is not in `df`.
    trajectoire.InputError
        One line with the file, the column, the bad values (shown with ``repr``) and their
        lines: text that is not a number, an infinite value, or an empty cell when
        `allow_nan` is False.

    Examples
    --------
    >>> import pandas as pd
    >>> numeric_column(pd.DataFrame({"h": [10, 25.5]}), "h", what="stacks.csv").tolist()
    [10.0, 25.5]
    >>> numeric_column(pd.DataFrame({"h": ["10", "12.5 t"]}), "h", what="stacks.csv", units="m")
    Traceback (most recent call last):
    ...
    trajectoire.errors.InputError: stacks.csv, column 'h': not a number: '12.5 t' at line 3; expected a number in m. Write the number alone: the units are those of the column. Fix the file.
    """
    require_columns(df.columns, [column], what)
    raw = df[column]
    if isinstance(raw, pd.DataFrame):
        raise InputError(f"{what}: column {column!r} appears more than once; rename one.")
    missing = raw.isna().to_numpy()
    if pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
        values = raw.to_numpy(dtype=float, na_value=np.nan)
        text = np.zeros(len(raw), dtype=bool)
    else:
        values = _to_numbers(raw)
        blank = np.array([isinstance(v, str) and not v.strip() for v in raw], dtype=bool)
        missing = missing | blank
        text = np.isnan(values) & ~missing
    infinite = np.isinf(values)
    bad = text | infinite | (missing if not allow_nan else np.zeros_like(missing))
    if not bad.any():
        return values
    header_line = int(df.attrs.get("header_line", 1))
    labels = list(raw.index)
    found: list[str] = []
    shown: list[object] = []
    for i in np.flatnonzero(bad).tolist():
        place = _place(labels[i], header_line, lines)
        if ids is not None:
            place += f" ({ids[i]})"
        value = raw.iloc[i]
        if isinstance(value, np.generic):
            value = value.item()
        shown.append(value)
        found.append(f"an empty cell at {place}" if missing[i] else f"{value!r} at {place}")
    n_bad = int(bad.sum())
    head = "not a number" if n_bad == 1 else f"{n_bad} values are not numbers"
    in_units = f" in {units}" if units else ""
    raise InputError(
        f"{what}, column {column!r}: {head}: {rows_preview(found, 5)}; expected a number"
        f"{in_units}.{_hint(shown, config_key)}"
        + _fix(config_key, "the file" if lines else "the table")
    )


def _to_numbers(raw: pd.Series) -> np.ndarray:
    """`raw` through :func:`pandas.to_numeric`, unparseable cells as NaN (float64)."""
    try:
        return pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError):
        out = np.full(len(raw), np.nan)
        for i, v in enumerate(raw):
            try:
                out[i] = float(v)
            except (TypeError, ValueError, OverflowError):
                pass
        return out
