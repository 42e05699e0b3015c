"""Meteorology: hourly tables, stability classes, joint frequency tables per year."""

from __future__ import annotations

from typing import Any

from trajectoire import _legacy
from trajectoire.meteo import hourly
from trajectoire.meteo.hourly import (
    CALM_THRESHOLD,
    DEFAULT_MIXING_HEIGHT,
    DEFAULT_SPEED_EDGES,
    STABILITY_CLASSES,
    WIND_PROFILE_EXPONENTS,
    add_stability,
    default_mixing_height,
    met_classes,
    read_hourly,
    solar_elevation,
    stability_class,
    turner_class,
    validate_hourly,
    wind_at_height,
)

__all__ = [
    "CALM_THRESHOLD",
    "DEFAULT_MIXING_HEIGHT",
    "DEFAULT_SPEED_EDGES",
    "STABILITY_CLASSES",
    "WIND_PROFILE_EXPONENTS",
    "add_stability",
    "default_mixing_height",
    "hourly",
    "met_classes",
    "read_hourly",
    "solar_elevation",
    "stability_class",
    "turner_class",
    "validate_hourly",
    "wind_at_height",
]


def __getattr__(name: str) -> Any:
    """Names of the former flat module ``trajectoire.meteo`` not re-exported above (issue 11)."""
    return _legacy.lookup(__name__, name)
