"""Transitional: the names that ``dispersion.plume`` and ``batch.pipeline`` import from here.

Issue 11 step 1 moved the whole former ``trajectoire.meteo`` module to this file; its content
now lives in :mod:`~trajectoire.meteo.readers`, :mod:`~trajectoire.meteo.stability`,
:mod:`~trajectoire.meteo.profiles` and :mod:`~trajectoire.meteo.classes`. Delete this file
once those two modules import from :mod:`trajectoire.meteo`.
"""

from __future__ import annotations

from trajectoire.meteo.classes import CALM_THRESHOLD, met_classes
from trajectoire.meteo.profiles import WIND_PROFILE_EXPONENTS, default_mixing_height
from trajectoire.meteo.readers import read_hourly, validate_hourly
from trajectoire.meteo.stability import STABILITY_CLASSES, _as_letters, add_stability

__all__ = [
    "CALM_THRESHOLD",
    "STABILITY_CLASSES",
    "WIND_PROFILE_EXPONENTS",
    "_as_letters",
    "add_stability",
    "default_mixing_height",
    "met_classes",
    "read_hourly",
    "validate_hourly",
]
