"""The one-way layout of the package (issue 11), checked on the import graph of its sources.

Every module of ``src/trajectoire`` is parsed with :mod:`ast` (nothing is imported) into a
*module graph*: module -> the modules it imports, and the names it takes from them. The
graph holds absolute imports (``from trajectoire.geo.grid import Grid``,
``import trajectoire.geo``), relative ones (``from ._config import CACHE``), imports inside
functions, and ``alias._name`` read on an imported module (``from trajectoire.dispersion
import plume as _d`` then ``_d._scheme``). :func:`check_layout` is a pure function of that
graph, so the tests below also run it on constructed graphs and show it failing.

The rules (``docs/architecture.md`` draws them):

``layers``
    A package is the first component below ``trajectoire`` (``trajectoire.geo.grid`` belongs
    to ``geo``; a flat module such as ``trajectoire.units`` is its own package). Each package
    has a layer (:data:`LAYERS`, lowest first); a module imports only from its own layer or a
    lower one. A package missing from the table fails too (place it before you add it), and
    so does an import of a former flat path (``trajectoire.grid``): inside the package, use
    the module that holds the name now.
``cycles``
    No cycle between packages, even inside one layer (two core modules, say).
``sample``
    Only the top layer (``cli``, ``accessor``, ``trajectoire/__init__``) imports
    ``trajectoire.sample``: no stage depends on the synthetic data.
``private``
    A name that starts with ``_`` (dunders such as ``__version__`` excepted) is imported, or
    read as ``module._name``, only inside its own package; for this rule the flat core modules
    (``errors``, ``units``, ``cf``, ``_validate``, ``species``, ``sectors``, ``_version``,
    ``_legacy``, ``_memory``, ``_planes``, ``_environment``, ``_compile_notice``) count as one package, and ``_kernels`` is a package of its own. A private
    *module* is private to its package the same way (``trajectoire._kernels._config``,
    ``trajectoire.dispersion._shared``), except the core's own ``_kernels``, ``_validate``,
    ``_version``, ``_legacy``, ``_memory``, ``_planes``, ``_environment`` and ``_compile_notice``, whose public names every layer may import: the underscore
    keeps them out of the user's API, not out of the stages'.
``kernels``
    ``_kernels`` imports only ``numpy``, ``numba``, ``math`` and its own modules (HOUSE_STYLE
    R2); ``_kernels/_config.py``, which reads the environment variables of numba, may import
    ``os`` as well.

Imports under ``if TYPE_CHECKING:`` never run: they are exempt from ``layers`` and ``cycles``
(annotations may name a type of a higher layer) but not from the other rules.

The file also checks that the former flat module paths (``trajectoire._legacy``) serve the
same objects as the packages, that no module is shadowed by a name its package exports, and
that every ``trajectoire.<...>`` path the docs name exists.
"""

from __future__ import annotations

import ast
import importlib
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

import pytest

import trajectoire
from trajectoire import _legacy

ROOT = "trajectoire"
SRC = Path(trajectoire.__file__).parent

CORE_MODULES = (
    "errors",
    "units",
    "cf",
    "_validate",
    "species",
    "sectors",
    "tables",
    "_version",
    "_legacy",
    "_memory",
    "_planes",
    "_environment",
    "_compile_notice",
)
#: package (first component below ``trajectoire``; the root itself is ``trajectoire``) -> layer
LAYERS: dict[str, int] = {
    **dict.fromkeys(CORE_MODULES, 0),
    "_kernels": 0,
    "geo": 1,
    "inventory": 2,
    "trajectory": 3,
    "meteo": 4,
    "dispersion": 5,
    "attribution": 6,
    "assess": 7,
    "io": 8,
    "batch": 9,
    **dict.fromkeys(("sample", "accessor", "cli", "plot", "report", "scenario", ROOT), 10),
}
LAYER_NAMES = {
    0: "core",
    1: "geo",
    2: "inventory",
    3: "trajectory",
    4: "meteo",
    5: "dispersion",
    6: "attribution",
    7: "assess",
    8: "io",
    9: "batch",
    10: "top",
}
#: private core modules every layer may import (their public names)
SHARED_PRIVATE_MODULES = {
    "_kernels",
    "_validate",
    "_version",
    "_legacy",
    "_memory",
    "_planes",
    "_environment",
    "_compile_notice",
}
KERNEL_IMPORTS = {"numpy", "numba", "math", "__future__"}
KERNEL_EXTRA_IMPORTS = {"trajectoire._kernels._config": {"os"}}
RULES = ("layers", "cycles", "sample", "private", "kernels")


class Import(NamedTuple):
    """One edge of the module graph."""

    target: str  #: absolute name of the module imported from (``trajectoire.geo.grid``, ``numpy``)
    name: str | None  #: the name taken from it; None when the module itself is imported
    line: int
    type_only: bool = False  #: under ``if TYPE_CHECKING:``


Graph = dict[str, list[Import]]


class Violation(NamedTuple):
    rule: str
    message: str


# ---------------------------------------------------------------- building the graph
def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _type_only_nodes(tree: ast.Module) -> set[int]:
    """``id`` of every node in the body of an ``if TYPE_CHECKING:``."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for stmt in node.body:
                found.update(id(n) for n in ast.walk(stmt))
    return found


def _resolve_relative(module: str, is_package: bool, level: int, name: str | None) -> str:
    base = module.split(".") if is_package else module.split(".")[:-1]
    if level > 1:
        base = base[: -(level - 1)]
    return ".".join(base + ([name] if name else []))


def _module_imports(module: str, is_package: bool, tree: ast.Module, modules: set[str]):
    """Imports of one parsed module, and the names it binds to imported modules."""
    type_only = _type_only_nodes(tree)
    found: list[Import] = []
    aliases: dict[str, str] = {}  # local name -> module it is bound to
    for node in ast.walk(tree):
        tc = id(node) in type_only
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append(Import(alias.name, None, node.lineno, tc))
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    head = alias.name.split(".")[0]
                    aliases[head] = head
        elif isinstance(node, ast.ImportFrom):
            source = (
                _resolve_relative(module, is_package, node.level, node.module)
                if node.level
                else node.module or ""
            )
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                if sub in modules:  # `from trajectoire.geo import grid`: the module grid
                    found.append(Import(sub, None, node.lineno, tc))
                    aliases[alias.asname or alias.name] = sub
                else:
                    found.append(Import(source, alias.name, node.lineno, tc))
    # `alias.name` read on an imported module of the package: the name is taken from it
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        chain: list[str] = []
        cur: ast.expr = node
        while isinstance(cur, ast.Attribute):
            chain.append(cur.attr)
            cur = cur.value
        if not isinstance(cur, ast.Name) or cur.id not in aliases:
            continue
        parts = aliases[cur.id].split(".") + chain[::-1]
        if parts[0] != ROOT or ".".join(parts) in modules:
            continue
        # the longest prefix that is a module; the next part is the name read from it
        for k in range(len(parts) - 1, 0, -1):
            prefix = ".".join(parts[:k])
            if prefix in modules:
                found.append(Import(prefix, parts[k], node.lineno, id(node) in type_only))
                break
    return found


def module_graph(src: Path, package: str = ROOT) -> Graph:
    """The module graph of the package whose ``__init__.py`` lies in the folder `src`."""
    files: dict[str, Path] = {}
    for path in sorted(src.rglob("*.py")):
        rel = path.relative_to(src).with_suffix("").parts
        name = ".".join((package, *rel))
        files[name.removesuffix(".__init__")] = path
    modules = set(files)
    graph: Graph = {}
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        found = _module_imports(name, path.name == "__init__.py", tree, modules)
        graph[name] = sorted(set(found), key=lambda i: (i.line, i.target, i.name or ""))
    return graph


# ---------------------------------------------------------------- the checker
def package_of(module: str) -> str:
    """``trajectoire.geo.grid`` -> ``geo``; the root package is ``trajectoire``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _private_owner(package: str) -> str:
    """The package a private name is private to (the flat core modules are one: ``core``)."""
    return "core" if package in CORE_MODULES else package


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _where(module: str, imp: Import) -> str:
    what = f"{imp.target}.{imp.name}" if imp.name else imp.target
    return f"{module}:{imp.line} imports {what}"


def _layer(package: str) -> str:
    return f"layer {LAYERS[package]} {LAYER_NAMES[LAYERS[package]]}"


def _find_cycles(edges: dict[str, dict[str, str]]) -> list[list[str]]:
    """One cycle (a list of nodes, first == last) per strongly connected component (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, {})):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                components.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    cycles = []
    for comp in components:
        members = set(comp)
        # shortest path back to the start inside the component (breadth first)
        start = comp[0]
        prev: dict[str, str] = {}
        frontier = [start]
        while frontier and start not in prev:
            nxt = []
            for v in frontier:
                for w in sorted(edges[v]):
                    if w in members and w not in prev:
                        prev[w] = v
                        nxt.append(w)
            frontier = nxt
        path = [start]
        while len(path) == 1 or path[-1] != start:
            path.append(prev[path[-1]])
        cycles.append(path[::-1])
    return cycles


def check_layout(graph: Graph, rules: Iterable[str] = RULES) -> list[Violation]:
    """Every violation of the layout rules (module docstring) in `graph`, in a stable order."""
    rules = set(rules)
    out: list[Violation] = []
    package_edges: dict[str, dict[str, str]] = {}
    for module in sorted(graph):
        src = package_of(module)
        if src not in LAYERS:
            if "layers" in rules:
                out.append(
                    Violation(
                        "layers",
                        f"{module}: package {src!r} has no layer; add it to the table of "
                        "docs/architecture.md and tests/test_layout.py before using it",
                    )
                )
            continue
        for imp in graph[module]:
            top = imp.target.split(".")[0]
            if src == "_kernels" and "kernels" in rules:
                allowed = KERNEL_IMPORTS | KERNEL_EXTRA_IMPORTS.get(module, set())
                if top not in allowed and not imp.target.startswith("trajectoire._kernels"):
                    out.append(
                        Violation(
                            "kernels",
                            f"{_where(module, imp)}: _kernels imports only numpy, numba, math "
                            "and its own modules (no xarray, no I/O, no errors: return codes)",
                        )
                    )
            if top != ROOT:
                continue
            dst = package_of(imp.target)
            if dst not in LAYERS:
                if "layers" in rules:
                    hint = (
                        f"the former path, kept for users' scripts only (trajectoire._legacy); "
                        f"import from {_legacy.LEGACY_MODULES[dst][0]}"
                        if dst in _legacy.LEGACY_MODULES
                        else "a package with no layer"
                    )
                    out.append(Violation("layers", f"{_where(module, imp)}: {hint}"))
                continue
            if dst == "sample" and LAYERS[src] < LAYERS["sample"]:
                if "sample" in rules:
                    out.append(
                        Violation(
                            "sample",
                            f"{_where(module, imp)}: no stage imports trajectoire.sample (the "
                            "synthetic data); take the data as an argument",
                        )
                    )
            elif LAYERS[dst] > LAYERS[src] and not imp.type_only and "layers" in rules:
                out.append(
                    Violation(
                        "layers",
                        f"{_where(module, imp)}: upward import, {src} ({_layer(src)}) -> "
                        f"{dst} ({_layer(dst)}); imports point down the layers only: move "
                        f"the code down or pass the value in as an argument",
                    )
                )
            if dst != src and not imp.type_only:
                package_edges.setdefault(src, {}).setdefault(dst, _where(module, imp))
            if _private_owner(dst) == _private_owner(src) or "private" not in rules:
                continue
            below = imp.target.split(".")[2:]
            if any(_is_private(p) for p in below) or (
                _is_private(dst) and dst not in SHARED_PRIVATE_MODULES
            ):
                out.append(
                    Violation(
                        "private",
                        f"{_where(module, imp)}: a private module of package {dst!r}; import "
                        "a public module, or make this one public",
                    )
                )
            elif imp.name and _is_private(imp.name):
                out.append(
                    Violation(
                        "private",
                        f"{_where(module, imp)}: {imp.name!r} is private to package "
                        f"{_private_owner(dst)!r}; make it public there (no underscore, in "
                        "__all__, numpydoc docstring) or keep the caller in that package",
                    )
                )
    if "cycles" in rules:
        for cycle in _find_cycles(package_edges):
            steps = "; ".join(
                package_edges[a][b] for a, b in zip(cycle[:-1], cycle[1:], strict=True)
            )
            out.append(Violation("cycles", f"cycle {' -> '.join(cycle)}: {steps}"))
    return out


def _report(violations: list[Violation]) -> str:
    return f"{len(violations)} violation(s):\n" + "\n".join(v.message for v in violations)


# ---------------------------------------------------------------- the package itself
@pytest.fixture(scope="module")
def graph() -> Graph:
    return module_graph(SRC)


def test_graph_sees_every_module(graph):
    assert {"trajectoire", "trajectoire._kernels.coverage", "trajectoire.geo.grid"} <= set(graph)
    assert len(graph) == len(list(SRC.rglob("*.py")))
    coverage = graph["trajectoire._kernels.coverage"]
    assert Import("trajectoire._kernels._config", "CACHE", 24) in coverage


@pytest.mark.parametrize("rule", RULES)
def test_package_follows_layout(graph, rule):
    violations = check_layout(graph, rules=[rule])
    assert not violations, _report(violations)


def test_layer_table_covers_every_package(graph):
    """A package added without a layer fails here, whatever it imports."""
    assert {package_of(m) for m in graph} <= set(LAYERS)


# ---------------------------------------------------------------- the checker fails when it should
def _graph(**edges: list[Import]) -> Graph:
    """A constructed graph: ``geo__grid=[...]`` stands for module ``trajectoire.geo.grid``."""
    return {f"{ROOT}.{k.replace('__', '.')}" if k != ROOT else ROOT: v for k, v in edges.items()}


CLEAN = _graph(
    geo__grid=[Import("trajectoire.errors", "GridError", 3), Import("numpy", None, 1)],
    batch__runner=[Import("trajectoire.geo.grid", "Grid", 5)],
    _kernels__plume=[Import("numpy", None, 1), Import("trajectoire._kernels._config", "CACHE", 2)],
    dispersion__plume=[Import("trajectoire._kernels.plume", "plume_value", 4)],
    cli=[Import("trajectoire.sample", "write_sample", 9)],
)


def test_checker_passes_a_clean_graph():
    assert check_layout(CLEAN) == []


def test_checker_reports_upward_import_and_cycle():
    bad = {
        **CLEAN,
        "trajectoire.geo.grid": [
            *CLEAN["trajectoire.geo.grid"],
            Import("trajectoire.batch.runner", "run", 12),
        ],
    }
    found = check_layout(bad)
    assert [v.rule for v in found] == ["layers", "cycles"]
    assert found[0].message == (
        "trajectoire.geo.grid:12 imports trajectoire.batch.runner.run: upward import, geo "
        "(layer 1 geo) -> batch (layer 9 batch); imports point down the layers only: move the "
        "code down or pass the value in as an argument"
    )
    assert found[1].message == (
        "cycle batch -> geo -> batch: trajectoire.batch.runner:5 imports "
        "trajectoire.geo.grid.Grid; trajectoire.geo.grid:12 imports trajectoire.batch.runner.run"
    )


def test_checker_reports_cycle_inside_one_layer():
    """Two core modules importing each other break no layer, but are a cycle."""
    bad = _graph(
        units=[Import("trajectoire.cf", "add_history", 3)],
        cf=[Import("trajectoire.units", "to_si", 7)],
    )
    assert check_layout(bad) == [
        Violation(
            "cycles",
            "cycle cf -> units -> cf: trajectoire.cf:7 imports trajectoire.units.to_si; "
            "trajectoire.units:3 imports trajectoire.cf.add_history",
        )
    ]


def test_checker_reports_a_stage_importing_sample():
    bad = _graph(inventory__build=[Import("trajectoire.sample.geo", "STACKS", 40)])
    (v,) = check_layout(bad)
    assert v.rule == "sample"
    assert v.message.startswith("trajectoire.inventory.build:40 imports trajectoire.sample.geo")


def test_checker_reports_private_names_and_modules_across_packages():
    bad = _graph(
        dispersion__plume=[
            Import("trajectoire.meteo.hourly", "_wind_profile", 3),  # private name
            Import("trajectoire.dispersion.concentration", "_helper", 4),  # same package: fine
            Import("trajectoire._kernels.plume_longterm", "_sector_position", 5),  # private name
            Import("trajectoire._kernels.plume", "plume_value", 6),  # core private module: fine
        ],
        geo__grid=[Import("trajectoire._kernels._config", "CACHE", 8)],  # private module
        units=[Import("trajectoire._validate", "_as_float", 2)],  # inside the core: fine
        io__netcdf=[Import("trajectoire._version", "__version__", 1)],  # a dunder: fine
    )
    found = check_layout(bad)
    assert [(v.rule, v.message.split(":")[0] + ":" + v.message.split(":")[1]) for v in found] == [
        (
            "private",
            "trajectoire.dispersion.plume:3 imports trajectoire.meteo.hourly._wind_profile",
        ),
        (
            "private",
            "trajectoire.dispersion.plume:5 imports "
            "trajectoire._kernels.plume_longterm._sector_position",
        ),
        ("private", "trajectoire.geo.grid:8 imports trajectoire._kernels._config.CACHE"),
    ]
    assert "'_wind_profile' is private to package 'meteo'" in found[0].message


def test_checker_reports_kernels_importing_more_than_numpy_numba_math():
    bad = _graph(
        _kernels__plume=[
            Import("xarray", None, 3),
            Import("trajectoire.errors", "InputError", 4),
            Import("os", None, 5),  # only _config reads the environment
            Import("trajectoire._kernels.sigma", "sigma_y", 6),  # its own modules: fine
        ],
        _kernels___config=[Import("os", None, 1)],
    )
    found = check_layout(bad)
    assert [v.rule for v in found] == ["kernels"] * 3
    assert [v.message.split(":")[1].split()[-1] for v in found] == [
        "xarray",
        "trajectoire.errors.InputError",
        "os",
    ]


def test_checker_reports_unknown_package_and_former_path():
    bad = _graph(
        geo__grid=[Import("trajectoire.regrid", "Regridder", 2)],
        pamphlet__tables=[Import("trajectoire.geo.grid", "Grid", 1)],
    )
    found = check_layout(bad)
    assert [v.rule for v in found] == ["layers", "layers"]
    assert "former path" in found[0].message and "trajectoire.geo.regridding" in found[0].message
    assert "package 'pamphlet' has no layer" in found[1].message


def test_type_checking_imports_are_exempt_from_layers_only():
    bad = _graph(
        geo__grid=[
            Import("trajectoire.io.config", "RunConfig", 20, type_only=True),
            Import("trajectoire.meteo.hourly", "_Row", 21, type_only=True),
        ],
        io__config=[Import("trajectoire.geo.grid", "Grid", 3)],
    )
    assert [v.rule for v in check_layout(bad)] == ["private"]


def test_graph_reads_relative_function_level_type_checking_and_attribute_imports(tmp_path):
    pkg = tmp_path / "trajectoire"
    (pkg / "_kernels").mkdir(parents=True)
    (pkg / "geo").mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "_kernels" / "__init__.py").write_text("from . import a\n")
    (pkg / "_kernels" / "a.py").write_text("from ._config import CACHE\nimport numpy as np\n")
    (pkg / "_kernels" / "_config.py").write_text("import os\n")
    (pkg / "geo" / "__init__.py").write_text("")
    (pkg / "geo" / "grid.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "from trajectoire._kernels import a as _a\n"
        "import trajectoire.geo\n"
        "if TYPE_CHECKING:\n"
        "    from trajectoire.batch.runner import Pipeline\n"
        "def f():\n"
        "    from ..errors import GridError\n"
        "    return _a._private(trajectoire.geo.thing)\n"
    )
    g = module_graph(pkg)
    assert g["trajectoire._kernels"] == [Import("trajectoire._kernels.a", None, 1)]
    assert g["trajectoire._kernels.a"] == [
        Import("trajectoire._kernels._config", "CACHE", 1),
        Import("numpy", None, 2),
    ]
    assert g["trajectoire.geo.grid"] == [
        Import("typing", "TYPE_CHECKING", 1),
        Import("trajectoire._kernels.a", None, 2),
        Import("trajectoire.geo", None, 3),
        Import("trajectoire.batch.runner", "Pipeline", 5, type_only=True),
        Import("trajectoire.errors", "GridError", 7),
        Import("trajectoire._kernels.a", "_private", 8),
        Import("trajectoire.geo", "thing", 8),
    ]


# ---------------------------------------------------------------- former module paths
#: ``__all__`` of the flat modules before issue 11 (commit 5e50bbd), and the stage package
#: that holds them now: every name must stay importable from both, as the same object
FORMER_MODULES: dict[str, tuple[str, tuple[str, ...]]] = {
    "grid": ("geo", ("DEFAULT_CRS", "Grid", "area_fractions", "coverage_matrix", "to_crs")),
    "regrid": (
        "geo",
        ("SMALL_PROBLEM", "Regridder", "grid_of", "lines_to_grid", "points_to_grid", "regrid"),
    ),
    "territories": (
        "geo",
        (
            "COLUMNS",
            "TERRITORIES",
            "Territory",
            "buffer_mask",
            "get_territory",
            "load_territories",
            "regional_grid",
            "sample_territories_path",
            "territory_fractions",
            "territory_grid",
        ),
    ),
    "inventory": (
        "inventory",
        (
            "DEFAULT_PROXIES",
            "LANDUSE_CLASSES",
            "POINT_VARIABLES",
            "ProxySpec",
            "add",
            "allocate",
            "build_inventory",
            "crop",
            "empty_inventory",
            "grid_roads",
            "group_sectors",
            "landuse_areas",
            "proxy_grid",
            "read_area_totals",
            "read_gridded",
            "read_landuse",
            "read_point_sources",
            "read_road_emission_factors",
            "read_roads",
            "read_zones",
            "road_emissions_per_km",
            "scale",
            "totals",
        ),
    ),
    "trends": (
        "trajectory",
        (
            "EUROSTAT_AIRSECT_TO_GNFR",
            "EUROSTAT_POLLUTANTS",
            "METHOD_KINDS",
            "Method",
            "aggregate_sectors",
            "extrapolate_trend",
            "overlap_splice",
            "ratio_series",
            "read_eurostat_air_emissions",
            "read_trends",
            "series_of",
            "validate_trends",
        ),
    ),
    "trajectory": (
        "trajectory",
        (
            "METHOD_LABELS",
            "Uncertainty",
            "census_proxy",
            "monte_carlo",
            "rebuild",
            "synthetic_inventory",
        ),
    ),
    "meteo": (
        "meteo",
        (
            "CALM_THRESHOLD",
            "DEFAULT_MIXING_HEIGHT",
            "DEFAULT_SPEED_EDGES",
            "STABILITY_CLASSES",
            "WIND_PROFILE_EXPONENTS",
            "add_stability",
            "default_mixing_height",
            "met_classes",
            "read_hourly",
            "solar_elevation",
            "stability_class",
            "turner_class",
            "validate_hourly",
            "wind_at_height",
        ),
    ),
    "dispersion": (
        "dispersion",
        (
            "SIGMA_SCHEMES",
            "ConvolutionPlan",
            "annual_kernel",
            "dispersion_coefficients",
            "effective_height",
            "fft_convolve",
            "gaussian_plume",
            "hourly_at_receptors",
            "line_source",
            "point_sources_annual",
        ),
    ),
    "concentration": (
        "dispersion",
        ("DispersionSettings", "YearDispersion", "annual_concentration", "stack_footprints"),
    ),
    "background": ("dispersion", ("read_background", "remove_local_part")),
    "chemistry": (
        "dispersion",
        ("NO2_CONVERSIONS", "fit_nox_no2", "no2_attribution", "nox_to_no2"),
    ),
    "exposure": (
        "assess",
        ("EU_2030_LIMITS", "WHO_2021_GUIDELINES", "population_above", "population_weighted_mean"),
    ),
    "evaluation": (
        "assess",
        (
            "CRITERIA",
            "FAIRMODE_PARAMETERS",
            "FairmodeParameters",
            "acceptance",
            "annual_uncertainty",
            "evaluate",
            "fairmode_parameters",
            "measurement_uncertainty",
            "mqi",
            "mqi_network",
            "observations_from_table",
            "sample_at_stations",
        ),
    ),
    "interpolate": (
        "assess",
        (
            "Variogram",
            "cross_validate",
            "empirical_variogram",
            "fit_variogram",
            "fuse",
            "idw_interpolate",
            "krige",
            "kriging_weights",
        ),
    ),
    "io": (
        "io",
        (
            "FLOAT_VARIABLES",
            "GRID_MAPPING",
            "LOSSLESS_VARIABLES",
            "atomic_path",
            "check_writable",
            "crs_variable",
            "export_geotiff",
            "map_to_geotiff",
            "netcdf_encoding",
            "open_output",
            "select_map",
            "summary",
            "write_netcdf",
        ),
    ),
    "config": (
        "io",
        (
            "MAX_YEAR",
            "MIN_YEAR",
            "SIGMA_SCHEMES",
            "TERRITORY_IDS",
            "TRAJECTORY_METHODS",
            "AttributionConfig",
            "DispersionConfig",
            "GridConfig",
            "InputsConfig",
            "MeteoConfig",
            "OutputConfig",
            "RunConfig",
            "RunSection",
            "TrajectoryConfig",
            "UncertaintyConfig",
            "load_config",
            "parse_years",
        ),
    ),
    "pipeline": (
        "batch",
        ("RunContext", "compute_year", "global_attributes", "prepare", "static_variables", "years"),
    ),
    "runner": (
        "batch",
        ("PART_COMPLETE_ATTR", "PART_HASH_ATTR", "Pipeline", "assemble", "parts_dir_of", "run"),
    ),
    "sample": ("sample", ("SAMPLE_FILES", "write_sample")),
}
#: ``trajectoire.__all__`` before issue 11 (commit 5e50bbd)
FORMER_TOP_LEVEL = (
    "TERRITORIES ConfigError Grid GridError InputError MissingVariableError Regridder RunConfig "
    "TrajectoireError TrajectoireWarning UnitsError __version__ accessor area_fractions "
    "attribution chemistry concentration coverage_matrix cross_validate dispersion evaluate "
    "evaluation export_geotiff exposure fuse interpolate inventory load_config load_territories "
    "meteo mqi mqi_network open_output regional_grid regrid run sample_at_stations territories "
    "territory_fractions territory_grid trajectory trends write_netcdf"
).split()
#: the package that holds a name of a former configuration module that two modules exported
SHARED_NAMES = {("config", "SIGMA_SCHEMES")}


@pytest.mark.parametrize("old", sorted(FORMER_MODULES))
def test_former_module_path_serves_the_same_objects(old):
    package, names = FORMER_MODULES[old]
    module = importlib.import_module(f"trajectoire.{old}")
    new = importlib.import_module(f"trajectoire.{package}")
    for name in names:
        assert hasattr(module, name), f"trajectoire.{old}.{name} no longer exists"
        if (old, name) in SHARED_NAMES:
            continue
        assert getattr(module, name) is getattr(new, name), (
            f"trajectoire.{old}.{name} is not trajectoire.{package}.{name}"
        )


def test_former_shared_name_keeps_its_value():
    """``SIGMA_SCHEMES`` was exported by the configuration and by the dispersion modules."""
    from trajectoire.config import SIGMA_SCHEMES as from_config
    from trajectoire.dispersion import SIGMA_SCHEMES as from_dispersion

    assert set(from_config) == set(from_dispersion)


def test_former_from_imports_still_work():
    from trajectoire.grid import area_fractions
    from trajectoire.regrid import SMALL_PROBLEM, Regridder
    from trajectoire.runner import run

    assert area_fractions is trajectoire.geo.area_fractions
    assert Regridder is trajectoire.geo.Regridder
    assert SMALL_PROBLEM == trajectoire.geo.regridding.SMALL_PROBLEM
    assert run is trajectoire.batch.run


def test_every_former_path_is_registered():
    """Each flat module the table lists is served by ``trajectoire._legacy`` or is a package."""
    for old in FORMER_MODULES:
        assert old in _legacy.LEGACY_MODULES or f"trajectoire.{old}" in (
            *_legacy.FORMER_MODULE_CONTENT,
            "trajectoire.sample",
        ), old
        assert f"trajectoire.{old}" in sys.modules or importlib.import_module(f"trajectoire.{old}")


def test_former_top_level_names_remain():
    missing = [n for n in FORMER_TOP_LEVEL if not hasattr(trajectoire, n)]
    assert not missing


def test_stable_names_of_design():
    """The Python names DESIGN.md marks stable, at their documented paths."""
    import trajectoire.regrid  # the former module path...

    assert callable(trajectoire.regrid)  # ...does not shadow the function
    assert trajectoire.regrid is trajectoire.geo.regridding.regrid
    assert callable(trajectoire.dispersion.gaussian_plume)
    assert callable(trajectoire.meteo.stability_class)
    grid = trajectoire.Grid.from_bounds(700_000.0, 7_000_000.0, 700_300.0, 7_000_200.0, 100.0)
    assert (grid.ny, grid.nx) == (2, 3)
    assert trajectoire.Grid is trajectoire.geo.Grid


def test_no_module_is_shadowed_by_a_name_of_its_package(graph):
    """``package.leaf`` is the module ``package/leaf.py`` itself, never a function or class.

    Before issue 11, ``trajectoire.regrid`` was a module and a function at once: which one
    ``trajectoire.regrid`` gave depended on what had been imported. Hence ``geo.regridding``
    (function ``regrid``), ``trajectory.backcast`` (function ``rebuild``) and ``batch``
    (function ``trajectoire.run``).
    """
    clashes = []
    for module in sorted(graph):
        parent, _, leaf = module.rpartition(".")
        if not parent:
            continue
        mod = importlib.import_module(module)
        package = importlib.import_module(parent)
        if getattr(package, leaf, mod) is not mod:
            clashes.append(f"{parent}.{leaf} is {getattr(package, leaf)!r}, not module {module}")
        if leaf not in getattr(package, "__all__", ()):
            continue
        # the package re-exports its modules' names: none of them may be called `leaf`
        for sibling in (m for m in graph if m.rpartition(".")[0] == parent):
            owner = importlib.import_module(sibling)
            if leaf in getattr(owner, "__all__", ()) and getattr(owner, leaf) is not mod:
                clashes.append(f"{sibling}.{leaf} is {getattr(owner, leaf)!r}, not {module}")
    assert not clashes, "\n".join(clashes)


# ---------------------------------------------------------------- paths named in the docs
DOCS = sorted(
    [
        *SRC.parents[1].joinpath("docs").glob("*.md"),
        *(SRC.parents[1] / name for name in ("README.md", "CONTRIBUTING.md")),
        SRC.parents[1] / "notebooks" / "README.md",
    ]
)


def _resolve(dotted: str) -> object:
    """The object a dotted path names: the longest importable module, then attributes."""
    parts = dotted.split(".")
    for k in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:k]))
        except ImportError:
            continue
        for attr in parts[k:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(dotted)


def _named_paths(text: str) -> set[str]:
    named = set(re.findall(r"(?<![\w.])(trajectoire(?:\.\w+)+)", text))
    for module, names in re.findall(r"from (trajectoire[\w.]*) import ([\w, ]+)", text):
        named.update(f"{module}.{n.strip()}" for n in names.split(",") if n.strip())
    return named


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(SRC.parents[1])))
def test_paths_named_in_docs_exist(doc):
    """Every ``trajectoire.<...>`` path a page names, and every name it imports, resolves."""
    if not doc.exists():
        pytest.skip(f"{doc} is not in this checkout")
    missing = []
    for dotted in sorted(_named_paths(doc.read_text(encoding="utf-8"))):
        try:
            _resolve(dotted)
        except (ImportError, AttributeError) as err:
            missing.append(f"{dotted}: {err}")
    assert not missing, f"{doc.name} names paths that do not exist:\n" + "\n".join(missing)


# ---------------------------------------------------------------- the pipeline orchestrates
PIPELINE_MAX_LINES = 60
"""Issue 11: every function of ``batch/pipeline.py`` is under this many lines (docstring
included): a step that grows beyond it is a stage of its own."""


def long_functions(source: str, limit: int) -> list[tuple[str, int]]:
    """The functions and methods of `source` of `limit` lines or more (name, lines)."""
    return [
        (node.name, node.end_lineno - node.lineno + 1)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 >= limit
    ]


def test_long_functions_finds_a_long_one():
    body = "\n".join(f"        x{i} = {i}" for i in range(8))
    source = f"def short():\n    return 1\n\n\nclass C:\n    def long(self):\n{body}\n"
    assert long_functions(source, 9) == [("long", 9)]
    assert long_functions(source, 10) == []


def test_pipeline_functions_are_short():
    source = (SRC / "batch" / "pipeline.py").read_text(encoding="utf-8")
    assert long_functions(source, PIPELINE_MAX_LINES) == []
