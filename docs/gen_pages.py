"""Pages of the documentation site generated at build time (run by ``mkdocs-gen-files``).

* ``reference/api/<package>.md``: one page per public package, with a ``:::`` block for
  each of its modules. The packages resolve most names lazily (``__getattr__``,
  :func:`trajectoire._legacy.package_names`), so the pages document the real modules
  (``trajectoire.inventory.readers``), where every object is defined, and never the lazy
  package namespace.
* ``reference/configuration.md``: every section and key of ``config.toml``, generated from
  the pydantic models of :mod:`trajectoire.io.config`, and the table of input formats of
  :func:`trajectoire.io.formats.describe`.
* ``gallery.md``: the figures of ``docs/img/`` with the captions of ``docs/plots.md`` and
  the call of ``docs/gallery.py`` that drew each.

Nothing here needs the sample data or the network.
"""

from __future__ import annotations

import ast
import datetime as _dt
import inspect
import json
import re
import types
import typing
from pathlib import Path

import griffe
import mkdocs_gen_files
from markdown.extensions.toc import slugify
from pydantic import BaseModel

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "trajectoire"
DOCS = ROOT / "docs"

# --------------------------------------------------------------------------- API reference
#: package or module -> (page title, one line), in the order data flows (docs/architecture.md)
API_PAGES: dict[str, str] = {
    "geo": "grids, territories, rasterisation, conservative regridding",
    "inventory": "reference inventory: schema, readers, proxies, assembly",
    "trajectory": "backcasting: trends, methods, uncertainty",
    "meteo": "meteorological readers, stability classes, profiles",
    "dispersion": "Gaussian-plume kernels, long-term means, background, NO2",
    "attribution": "contributions, source-receptor matrix, change decomposition",
    "assess": "exposure, evaluation, data fusion, station siting",
    "io": "configuration, input formats, output NetCDF",
    "batch": "pipeline, resumable runner",
    "plot": "figures",
    "report": "reports",
    "scenario": "scenarios",
}
#: modules of the core layer, documented on one page
CORE_MODULES = ("errors", "units", "species", "sectors", "tables", "cf", "accessor", "cli")


def _modules_of(package: str) -> list[str]:
    """Public modules of a stage package, in the order its ``__init__`` lists them."""
    init = (SRC / package / "__init__.py").read_text(encoding="utf-8")
    listed = re.search(r"package_names\(__name__,\s*\(([^)]*)\)", init)
    names = re.findall(r'"(\w+)"', listed.group(1)) if listed else []
    on_disk = sorted(p.stem for p in (SRC / package).glob("*.py") if not p.stem.startswith("_"))
    return [n for n in names if n in on_disk] + [n for n in on_disk if n not in names]


def _first_line(obj: griffe.Object | griffe.Alias) -> str:
    doc = obj.docstring.value if obj.docstring else ""
    return _ROLE.sub(r"`\1`", doc.strip().splitlines()[0]) if doc.strip() else ""


def _api_pages() -> list[tuple[str, str]]:
    """Write the API pages; returns ``(title, path)`` for the index."""
    pkg = griffe.load("trajectoire", search_paths=[str(ROOT / "src")], allow_inspection=False)
    written: list[tuple[str, str]] = []
    documented: set[str] = set()
    for name, what in API_PAGES.items():
        if (SRC / name).is_dir():
            modules = [f"trajectoire.{name}.{m}" for m in _modules_of(name)]
            root = f"trajectoire.{name}"
        elif (SRC / f"{name}.py").is_file():
            modules, root = [f"trajectoire.{name}"], None
        else:
            continue  # a package still being written on another branch
        path = f"reference/api/{name}.md"
        with mkdocs_gen_files.open(path, "w") as f:
            f.write(f"# `trajectoire.{name}`: {what}\n\n")
            if root:
                f.write(
                    f"::: {root}\n    options:\n      members: false\n      show_root_heading: false\n\n"
                )
                f.write("| module | summary |\n|---|---|\n")
                for m in modules:
                    f.write(
                        f"| [`{m}`](#{m}) | {_first_line(pkg[m.removeprefix('trajectoire.')])} |\n"
                    )
                f.write("\n")
                for m in modules:
                    f.write(f"::: {m}\n\n")
            else:
                f.write(f"::: {modules[0]}\n    options:\n      show_root_heading: false\n\n")
        documented.update(modules)
        written.append((f"trajectoire.{name}", path))

    core = [f"trajectoire.{m}" for m in CORE_MODULES if (SRC / f"{m}.py").is_file()]
    with mkdocs_gen_files.open("reference/api/core.md", "w") as f:
        f.write("# Core modules: errors, units, species, sectors, tables, CF attributes\n\n")
        f.write("The layer every stage package uses (`docs/architecture.md`).\n\n")
        for m in core:
            f.write(f"::: {m}\n\n")
    documented.update(core)
    written.append(("core modules", "reference/api/core.md"))

    # the top-level namespace: a table of the headline names, linked to where they are documented
    with mkdocs_gen_files.open("reference/api/index.md", "w") as f:
        f.write("# API reference\n\n")
        f.write(f"{pkg.docstring.value if pkg.docstring else ''}\n\n")
        f.write(
            "Every public name lives in a module of a stage package and is documented there "
            "(`trajectoire.<package>.<module>.<name>`); the packages re-export them "
            "(`trajectoire.<package>.<name>`), and the names below also at the top level "
            "(`import trajectoire as tj; tj.Grid`).\n\n"
        )
        f.write("| package | what |\n|---|---|\n")
        for title, path in written:
            f.write(f"| [`{title}`]({Path(path).name}) | {_api_summary(title)} |\n")
        f.write("\n## Top-level names\n\n| `trajectoire.` | documented at |\n|---|---|\n")
        for name in pkg.exports or []:
            if name.startswith("_"):
                continue
            member = pkg.members.get(name)
            if member is None:  # a former module path registered at import (_legacy)
                f.write(f"| `{name}` | former module path, see `trajectoire._legacy` |\n")
                continue
            target = member.target_path if member.is_alias else member.path
            module = target if member.is_module else target.rpartition(".")[0]
            if target in documented or (module in documented and not member.is_module):
                link = f"[`{target}`][{target}]"
            elif member.is_module and any(d.startswith(target + ".") for d in documented):
                link = f"[`{target}`][{target}]"
            else:
                link = f"`{target}`"
            f.write(f"| `{name}` | {link} |\n")
    return written


def _api_summary(title: str) -> str:
    short = title.removeprefix("trajectoire.")
    return API_PAGES.get(short, "errors, units, species and sectors, tables, CF attributes")


# ------------------------------------------------------------------- configuration reference
_ROLE = re.compile(r":(?:func|class|data|mod|meth|attr|obj):`~?([^`]+)`")


def _md(doc: str | None) -> str:
    """A numpydoc/reST docstring as Markdown (roles to code, ``::`` blocks to code)."""
    text = inspect.cleandoc(doc or "")
    text = _ROLE.sub(r"`\1`", text)
    text = re.sub(r"``([^`]+)``", r"`\1`", text)
    text = re.sub(r"::\n", ":\n", text)
    # drop the Examples section (doctests belong to the API reference)
    return text.split("\nExamples\n--------")[0].strip()


def _type(annotation: typing.Any) -> str:
    """A field's type in words of TOML: ``str``, ``float``, ``list of str``, ``"a" or "b"``."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:
        return " or ".join("tab" if a == "\t" else f'`"{a}"`' for a in args)
    if origin in (typing.Union, types.UnionType):
        kept = [a for a in args if a is not type(None)]
        return " or ".join(_type(a) for a in kept) + (", optional" if len(kept) < len(args) else "")
    if origin is list:
        return f"list of {_type(args[0])}"
    if origin is dict:
        return "table" if args[1] is typing.Any else f"table of {_type(args[1])}"
    if annotation is typing.Any:
        return "any"
    if isinstance(annotation, type) and annotation.__name__ == "Path":
        return "path"
    return getattr(annotation, "__name__", str(annotation))


def _constraints(field: typing.Any) -> str:
    ops = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<", "min_length": "length >=",
           "max_length": "length <="}  # fmt: skip
    out = []
    for meta in field.metadata:
        for attr, op in ops.items():
            value = getattr(meta, attr, None)
            if value is not None:
                current = attr == "le" and value == _dt.datetime.now(_dt.UTC).year
                out.append(f"{op} {'the current year' if current else value}")
        if getattr(meta, "allow_inf_nan", None) is False:
            out.append("finite")
    return ", ".join(out)


def _default(field: typing.Any) -> str:
    if field.is_required():
        return "**required**"
    value = field.default_factory() if field.default_factory is not None else field.default
    if isinstance(value, BaseModel):
        return "(section defaults)"
    if value is None:
        return "(none)"
    try:
        text = json.dumps(value)  # TOML spelling: true, "text", ["a", "b"]
    except TypeError:
        text = repr(value)
    return f"`{text}`".replace("|", "\\|")


def _section_model(annotation: typing.Any) -> type[BaseModel] | None:
    args = typing.get_args(annotation) if isinstance(annotation, types.UnionType) else ()
    for a in (annotation, *args):
        if isinstance(a, type) and issubclass(a, BaseModel):
            return a
    return None


def _config_anchors() -> dict[str, str]:
    """``"[run]"`` -> the anchor of its heading in docs/configuration.md."""
    out = {}
    for line in (DOCS / "configuration.md").read_text(encoding="utf-8").splitlines():
        m = re.match(r"## `(\[[\w.]+\])`", line)
        if m:
            out[m.group(1)] = slugify(line[3:].replace("`", ""), "-")
    return out


def _write_model(
    f: typing.IO[str], model: type[BaseModel], key: str, anchors: dict[str, str]
) -> None:
    from trajectoire.io.config import InputSpec

    f.write(f"## `{key}`\n\n")
    f.write(f"Model: [`{model.__name__}`][trajectoire.io.config.{model.__name__}]")
    if key in anchors:
        f.write(f" · guide: [configuration](../configuration.md#{anchors[key]})")
    doc = re.sub(r"^`\[[\w.]+\]`: (\w)", lambda m: m.group(1).upper(), _md(model.__doc__))
    f.write("\n\n" + doc + "\n\n")
    nested = []
    rows = []
    for name, field in model.model_fields.items():
        sub = _section_model(field.annotation)
        if sub is InputSpec:
            kind = "input: a path, or a table (`InputSpec`)"
        elif sub is not None:
            kind = f"section `{key[:-1]}.{name}]`"
            nested.append((name, sub))
        else:
            kind = _type(field.annotation)
        rows.append(f"| `{name}` | {kind} | {_default(field)} | {_constraints(field)} |")
    if rows:
        f.write("| key | type | default | constraints |\n|---|---|---|---|\n")
        f.write("\n".join(rows) + "\n\n")
    if model.model_config.get("extra") == "allow" and model is not InputSpec:
        f.write("Any other key is allowed here (see above for what it means).\n\n")
    elif model.model_config.get("extra") == "forbid":
        f.write("Any other key is an error.\n\n")
    for name, sub in nested:
        _write_model(f, sub, f"{key[:-1]}.{name}]", anchors)


def _config_page() -> None:
    from trajectoire.io import config
    from trajectoire.io.formats import describe

    anchors = _config_anchors()
    with mkdocs_gen_files.open("reference/configuration.md", "w") as f:
        f.write("# Configuration reference\n\n")
        f.write(
            "Generated from the schema (the pydantic models of `trajectoire.io.config`) when the "
            "site is built: every section and key of `config.toml`, its type, default and "
            "constraints. The [configuration guide](../configuration.md) explains them with "
            'examples. Unknown keys are errors, and values are not coerced (a string `"100"` '
            "where a number is expected is an error).\n\n"
        )
        f.write(
            f"Years: `{config.MIN_YEAR}` to the current year. "
            f"Territories: {', '.join(f'`{t}`' for t in config.TERRITORY_IDS)}. "
            f"Dispersion schemes (`[dispersion] sigma`): "
            f"{', '.join(f'`{s}`' for s in config.SIGMA_SCHEMES)}. "
            f"Trajectory methods: {', '.join(f'`{m}`' for m in config.TRAJECTORY_METHODS)}.\n\n"
        )
        for name, field in config.RunConfig.model_fields.items():
            model = _section_model(field.annotation)
            assert model is not None, name
            _write_model(f, model, f"[{name}]", anchors)
        f.write("## An input: `[inputs.<key>]`\n\n")
        f.write("Model: [`InputSpec`][trajectoire.io.config.InputSpec]\n\n")
        f.write(_md(config.InputSpec.__doc__) + "\n\n")
        f.write("| key | type | default |\n|---|---|---|\n")
        for name, field in config.InputSpec.model_fields.items():
            if name == "paths":
                continue  # filled in from `path`
            f.write(f"| `{name}` | {_type(field.annotation)} | {_default(field)} |\n")
        f.write(
            "\n`path` may be a list of files. Any other key is a keyword of the format's "
            "reader (table below).\n\n"
        )
        f.write("## Input formats\n\n")
        f.write(
            "Generated from `trajectoire.io.formats.describe()`: for each input key, the "
            "formats it accepts, the reader that reads them and the keys it takes "
            "(see [input formats](../input-formats.md)).\n\n"
        )
        f.write(describe() + "\n")


# ------------------------------------------------------------------------------- gallery
def _gallery_calls() -> dict[str, str]:
    """Figure name -> the call of docs/gallery.py that draws it."""
    source = (DOCS / "gallery.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    returns = {  # function name -> what it returns (the figures drawn by a local function)
        node.name: ret.value
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef)
        for ret in ast.walk(node)
        if isinstance(ret, ast.Return) and ret.value is not None
    }
    found: dict[str, ast.expr] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values, strict=True):
                if isinstance(k, ast.Constant) and isinstance(v, ast.Lambda):
                    found[k.value] = v.body
        elif (
            isinstance(node, ast.Assign)
            and isinstance(node.targets[0], ast.Subscript)
            and isinstance(node.targets[0].slice, ast.Constant)
            and isinstance(node.value, ast.Name)
            and node.value.id in returns
        ):
            found[node.targets[0].slice.value] = returns[node.value.id]
    return {k: ast.unparse(v) for k, v in found.items()}


def _gallery_page() -> None:
    captions: dict[str, tuple[str, str]] = {}
    heading = ""
    for line in (DOCS / "plots.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            heading = line[3:]
        m = re.match(r"!\[([^\]]*)\]\(img/([\w.-]+)\.png\)", line.strip())
        if m:
            captions[m.group(2)] = (m.group(1), heading)
    calls = _gallery_calls()
    images = sorted(p.stem for p in (DOCS / "img").glob("*.png"))
    order = [n for n in captions if n in images] + [n for n in images if n not in captions]
    with mkdocs_gen_files.open("gallery.md", "w") as f:
        f.write("# Gallery\n\n")
        f.write(
            "The figures of [`trajectoire.plot`](plots.md), drawn on the bundled sample by "
            "`docs/gallery.py` (see its docstring to draw them again).\n\n"
        )
        for name in order:
            alt, section = captions.get(name, (name.replace("_", " ").capitalize(), ""))
            f.write(f"## {alt}\n\n![{alt}](img/{name}.png)\n\n")
            if name in calls:
                f.write(f"`{calls[name]}`")
            if section:
                anchor = slugify(section.replace("`", ""), "-")
                f.write(f" · [{section}](plots.md#{anchor})")
            f.write("\n\n")


_api_pages()
_config_page()
_gallery_page()
