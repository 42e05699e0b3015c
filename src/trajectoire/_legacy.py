"""Module paths of releases before the stage packages, kept working for users' scripts.

Until issue 11 the package was 34 flat modules (``trajectoire.grid``,
``trajectoire.concentration``, ``trajectoire.interpolate``...). Each now lives in the stage
package that owns it (``docs/architecture.md``). So that existing scripts keep running,
``import trajectoire.concentration`` and ``from trajectoire.grid import area_fractions`` still
work: the old path is registered in :data:`sys.modules` as a thin module that looks every name
up in the new modules that took over the old one's content, in order. Setting an attribute
(``monkeypatch.setattr``) sets it on the new module that defines the name, so a patch made
through an old path still reaches the code that runs.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from collections.abc import Callable
from typing import Any

__all__ = ["FORMER_MODULE_CONTENT", "LEGACY_MODULES", "lookup", "package_names", "register"]

#: old module name (below ``trajectoire.``) -> the modules that now hold its names, in order
LEGACY_MODULES: dict[str, tuple[str, ...]] = {
    "background": ("trajectoire.dispersion.background",),
    "chemistry": ("trajectoire.dispersion.chemistry",),
    "concentration": ("trajectoire.dispersion.concentration",),
    "config": ("trajectoire.io.config",),
    "evaluation": ("trajectoire.assess.evaluation", "trajectoire.assess.stations"),
    "exposure": ("trajectoire.assess.exposure",),
    "grid": ("trajectoire.geo.grid", "trajectoire.geo.rasterize"),
    "interpolate": ("trajectoire.assess.fusion",),
    "pipeline": ("trajectoire.batch.pipeline",),
    "regrid": ("trajectoire.geo.regridding", "trajectoire.geo.rasterize"),
    "runner": ("trajectoire.batch.runner",),
    "territories": ("trajectoire.geo.territories",),
    "trends": ("trajectoire.trajectory.trends",),
}


#: packages that replaced a flat module of the same name -> the modules that hold its names;
#: the package's ``__getattr__`` (PEP 562) finds there the names it does not re-export
FORMER_MODULE_CONTENT: dict[str, tuple[str, ...]] = {
    "trajectoire.dispersion": (
        "trajectoire.dispersion.plume",
        "trajectoire.dispersion.longterm",
        "trajectoire.dispersion.convolution",
        "trajectoire.dispersion.points",
        "trajectoire.dispersion.hourly",
        "trajectoire.dispersion.concentration",
    ),
    "trajectoire.inventory": (
        "trajectoire.inventory.build",
        "trajectoire.inventory.schema",
        "trajectoire.inventory.readers",
        "trajectoire.inventory.proxies",
        "trajectoire.inventory.population",
        "trajectoire.inventory.ops",
    ),
    "trajectoire.io": ("trajectoire.io.netcdf",),
    "trajectoire.meteo": (
        "trajectoire.meteo.readers",
        "trajectoire.meteo.stability",
        "trajectoire.meteo.profiles",
        "trajectoire.meteo.classes",
    ),
    # synthetic_inventory moved to the sample package (no domain module imports it)
    "trajectoire.trajectory": ("trajectoire.trajectory.backcast", "trajectoire.sample.synthetic"),
}


def lookup(package: str, attr: str, modules: tuple[str, ...] = ()) -> Any:
    """A public name of one of the package's `modules`, or a name of the former flat module
    `package` found in the modules that now hold it."""
    if attr in modules:
        return importlib.import_module(f"{package}.{attr}")
    public = [(f"{package}.{m}", True) for m in modules]
    former = [(name, False) for name in FORMER_MODULE_CONTENT.get(package, ())]
    for name, listed_only in [*public, *former]:
        if importlib.util.find_spec(name) is None:
            continue
        module = importlib.import_module(name)
        if listed_only and attr not in getattr(module, "__all__", ()):
            continue
        if hasattr(module, attr):
            return getattr(module, attr)
    raise AttributeError(f"module {package!r} has no attribute {attr!r}")


def package_names(
    package: str, modules: tuple[str, ...]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module ``__getattr__`` and ``__dir__`` (PEP 562) of a stage package.

    A package's ``__init__`` imports its headline names; every other public name of its
    `modules` (their ``__all__``), and every name of the flat module it replaced, resolves on
    first use: ``trajectoire.inventory.read_landuse`` works without the package importing
    every name. Type checkers treat such names as ``Any``.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    modules : tuple of str
        Its modules, in the order data flows.
    """

    def __getattr__(attr: str) -> Any:
        return lookup(package, attr, modules)

    def __dir__() -> list[str]:
        names = set(vars(importlib.import_module(package)))
        for m in modules:
            names.update(getattr(importlib.import_module(f"{package}.{m}"), "__all__", ()))
        return sorted(names)

    return __getattr__, __dir__


class _LegacyModule(types.ModuleType):
    """A former module path whose names now live in several modules.

    Holds a copy of their names (the first module that defines a name wins) so that tools
    which look into a module's ``__dict__`` (pytest's monkeypatch) see them; an attribute set
    or deleted here is set or deleted on the module that defines it too.
    """

    def __init__(self, name: str, targets: tuple[types.ModuleType, ...]) -> None:
        super().__init__(name, f"Former path of {', '.join(t.__name__ for t in targets)}.")
        for target in reversed(targets):
            for attr, value in vars(target).items():
                if not attr.startswith("__"):
                    object.__setattr__(self, attr, value)
        object.__setattr__(self, "_targets", targets)
        object.__setattr__(self, "__all__", sorted({n for t in targets for n in _names(t)}))

    def __getattr__(self, attr: str) -> Any:
        for target in object.__getattribute__(self, "_targets"):
            if hasattr(target, attr):
                return getattr(target, attr)
        raise AttributeError(f"module {self.__name__!r} has no attribute {attr!r}")

    def __setattr__(self, attr: str, value: Any) -> None:
        setattr(self._owner(attr), attr, value)
        object.__setattr__(self, attr, value)

    def __delattr__(self, attr: str) -> None:
        owner = self._owner(attr)
        if hasattr(owner, attr):
            delattr(owner, attr)
        object.__delattr__(self, attr)

    def _owner(self, attr: str) -> types.ModuleType:
        targets: tuple[types.ModuleType, ...] = object.__getattribute__(self, "_targets")
        return next((t for t in targets if attr in vars(t)), targets[0])


def _names(module: types.ModuleType) -> list[str]:
    return list(getattr(module, "__all__", [n for n in vars(module) if not n.startswith("_")]))


def register() -> None:
    """Register every former module path in :data:`sys.modules` (idempotent)."""
    for old, new in LEGACY_MODULES.items():
        name = f"trajectoire.{old}"
        if name in sys.modules:
            continue
        existing = [importlib.util.find_spec(n) for n in new]
        targets = tuple(importlib.import_module(n) for n, s in zip(new, existing, strict=True) if s)
        # one new module: the old path is that very module; several: a module of their names
        sys.modules[name] = targets[0] if len(targets) == 1 else _LegacyModule(name, targets)
        parent = sys.modules["trajectoire"]
        if not hasattr(parent, old):  # `trajectoire.regrid` stays the function
            setattr(parent, old, sys.modules[name])
