"""docs/architecture.md names files, modules, functions and constants that exist.

The page is the map a newcomer follows ("Where a newcomer adds"): a path or a name it gives
that has moved sends them to edit the wrong file (it once said to map a national series in
``trajectory/trends.py``, where the mapping only passes through). Every path in code spans
(``src/...``, ``tests/...``, ``docs/...`` and the package-relative ``io/formats.py``), every
dotted ``trajectoire.x.y`` name, every ``tests/...::test_name``, every "``NAME`` in
``module.py``" pair, every bare reader ``read_<thing>`` and every bare constant
(``PRECURSOR``) must resolve.
"""

from __future__ import annotations

import ast
import importlib
import re
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "architecture.md"
PACKAGE = ROOT / "src" / "trajectoire"

#: Named by the page but not files of the repository: the design brief, kept beside it, and
#: the flat module that issue 11 replaced (the page tells its history).
OUTSIDE = {"DESIGN.md", "regrid.py"}

_SPAN = re.compile(r"`([^`\n]+)`")
_DOTTED = re.compile(r"\btrajectoire(?:\.[A-Za-z_]\w*)+")
_PATH = re.compile(r"^[\w.\-/]+$")
_FILE_EXTS = (".py", ".toml", ".md", ".yml", ".yaml")
# a module's constant: "`io/netcdf.py` (`FLOAT_VARIABLES`" and "`_COORD_ATTRS` in `io/netcdf.py`"
_CONSTANT = r"_*[A-Z][A-Z0-9_]*"
_PATH_THEN_NAME = re.compile(rf"`([\w/]+\.py)` \(`({_CONSTANT})`")
_NAME_IN_PATH = re.compile(rf"`({_CONSTANT})` (?:in|of) `([\w/]+\.py)`")


def _text() -> str:
    return DOC.read_text(encoding="utf-8")


def _spans() -> list[str]:
    return _SPAN.findall(_text())


def _is_path(span: str) -> bool:
    """A code span that names a file or a folder (not a placeholder like ``<topic>``)."""
    if not _PATH.match(span) or span.startswith(("trajectoire.", "http")):
        return False
    return "/" in span or span.endswith(_FILE_EXTS)


def _resolve_path(span: str) -> Path | None:
    """`span` under the repository root, ``src/`` or the package (``io/formats.py``,
    ``units.py``); a module may be named without ``.py`` (``trajectoire/__init__``)."""
    for base in (ROOT, ROOT / "src", PACKAGE):
        for candidate in (base / span, base / f"{span}.py"):
            if candidate.exists():
                return candidate
    return None


def _paths() -> list[str]:
    return sorted({s.split("::")[0] for s in _spans() if _is_path(s.split("::")[0])} - OUTSIDE)


def _dotted() -> list[str]:
    return sorted(set(_DOTTED.findall(_text())))


def _resolve_name(name: str) -> Any:
    """The object at the dotted path `name`: attributes first (a package serves its
    modules' names lazily, PEP 562), then submodules."""
    parts = name.split(".")
    obj: Any = importlib.import_module(parts[0])
    for i, part in enumerate(parts[1:], start=2):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            if not isinstance(obj, ModuleType):
                raise
            obj = importlib.import_module(".".join(parts[:i]))
    return obj


@cache
def _top_level_names(path: Path) -> frozenset[str]:
    """Names a module defines at its top level (assignments, functions, classes)."""
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return frozenset(names)


def _name_in_module_pairs() -> list[tuple[str, str]]:
    text = " ".join(_text().split())  # a pair may be cut by a line break
    pairs = {(p, n) for p, n in _PATH_THEN_NAME.findall(text)}
    pairs |= {(p, n) for n, p in _NAME_IN_PATH.findall(text)}
    return sorted(pairs)


def test_the_page_names_paths_and_dotted_names():
    """The extraction finds what the page is about (a regex that matched nothing would
    pass every check below)."""
    paths, dotted = _paths(), _dotted()
    assert {"src/trajectoire/data/species.toml", "io/formats.py", "tests/test_layout.py"} <= set(
        paths
    )
    assert "trajectoire.cf.set_cf_attrs" in dotted and "trajectoire.tables.read_table" in dotted
    assert ("trajectory/eurostat.py", "EUROSTAT_POLLUTANTS") in _name_in_module_pairs()


@pytest.mark.parametrize("span", _paths())
def test_every_path_exists(span):
    assert _resolve_path(span) is not None, (
        f"docs/architecture.md names `{span}`, which is not in the repository, src/ or "
        "src/trajectoire/"
    )


@pytest.mark.parametrize("name", _dotted())
def test_every_dotted_name_imports(name):
    try:
        _resolve_name(name)
    except (ImportError, AttributeError) as exc:
        pytest.fail(f"docs/architecture.md names `{name}`, which does not resolve: {exc}")


@pytest.mark.parametrize(
    "node", sorted({s for s in _spans() if "::" in s and s.startswith("tests/")})
)
def test_every_named_test_exists(node):
    path, _, test = node.partition("::")
    assert test in _top_level_names(ROOT / path), f"{node}: no such test function"


@pytest.mark.parametrize(("path", "name"), _name_in_module_pairs())
def test_every_name_is_defined_in_the_module_the_page_says(path, name):
    """``EUROSTAT_POLLUTANTS`` is defined in ``trajectory/eurostat.py``, not in
    ``trajectory/trends.py``, which only passes it on: editing it there does nothing."""
    where = _resolve_path(path)
    assert where is not None, path
    assert name in _top_level_names(where), (
        f"docs/architecture.md says `{name}` is in `{path}`, which does not define it"
    )


@cache
def _defined_anywhere() -> frozenset[str]:
    """Top-level names of every module of the package and of the layout test."""
    names: set[str] = set()
    for path in [*sorted(PACKAGE.rglob("*.py")), ROOT / "tests" / "test_layout.py"]:
        names |= _top_level_names(path)
    return frozenset(names)


def _bare(pattern: str) -> list[str]:
    return sorted({s for s in _spans() if re.fullmatch(pattern, s)})


def _not_python_names() -> set[str]:
    """Upper-case words of the page that are data, not Python names: the pollutant ids
    (``NO2``) and the labels of the reference values (``WHO2021``)."""
    from trajectoire.assess.exposure import HEALTH_LABELS, NUMBER_THRESHOLDS
    from trajectoire.species import known_species

    return {str(s) for s in known_species()} | set(HEALTH_LABELS) | set(NUMBER_THRESHOLDS)


@pytest.mark.parametrize("name", _bare(r"read_\w+"))
def test_every_reader_named_exists(name):
    assert name in _defined_anywhere(), f"docs/architecture.md names `{name}`: no such reader"


@pytest.mark.parametrize("name", _bare(_CONSTANT))
def test_every_constant_named_exists(name):
    if name in _not_python_names():
        return  # a pollutant id or a threshold label, which exists
    assert name in _defined_anywhere(), (
        f"docs/architecture.md names `{name}`, which no module of src/trajectoire defines"
    )
