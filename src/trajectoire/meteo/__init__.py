"""Meteorology: hourly tables, stability classes, joint frequency tables per year."""

from __future__ import annotations

from typing import Any

from trajectoire import _legacy
from trajectoire.meteo import classes, profiles, readers, stability
from trajectoire.meteo.classes import (
    CALM_THRESHOLD,
    DEFAULT_SPEED_EDGES,
    met_classes,
    select_years,
)
from trajectoire.meteo.profiles import (
    DEFAULT_MIXING_HEIGHT,
    WIND_PROFILE_EXPONENTS,
    default_mixing_height,
    hourly_mixing_height,
    wind_at_height,
)
from trajectoire.meteo.readers import (
    read_hourly,
    validate_hourly,
)
from trajectoire.meteo.stability import (
    STABILITY_CLASSES,
    add_stability,
    solar_elevation,
    stability_class,
    stability_index,
    turner_class,
)

__all__ = [
    "CALM_THRESHOLD",
    "DEFAULT_MIXING_HEIGHT",
    "DEFAULT_SPEED_EDGES",
    "STABILITY_CLASSES",
    "WIND_PROFILE_EXPONENTS",
    "add_stability",
    "classes",
    "default_mixing_height",
    "hourly_mixing_height",
    "met_classes",
    "profiles",
    "read_hourly",
    "readers",
    "select_years",
    "solar_elevation",
    "stability",
    "stability_class",
    "stability_index",
    "turner_class",
    "validate_hourly",
    "wind_at_height",
]


def __getattr__(name: str) -> Any:
    """Names of the former flat module ``trajectoire.meteo`` not re-exported above (issue 11)."""
    return _legacy.lookup(__name__, name)
