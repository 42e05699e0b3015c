"""Emission trajectories 1990 -> today: trend indices, the rebuild of every year, uncertainty."""

from __future__ import annotations

from typing import Any

from trajectoire import _legacy
from trajectoire.trajectory import backcast, trends, uncertainty
from trajectoire.trajectory.backcast import (
    METHOD_LABELS,
    census_proxy,
    rebuild,
)
from trajectoire.trajectory.trends import (
    EUROSTAT_AIRSECT_TO_GNFR,
    EUROSTAT_POLLUTANTS,
    METHOD_KINDS,
    TRAJECTORY_METHODS,
    Method,
    TrajectoryMethod,
    aggregate_sectors,
    extrapolate_trend,
    overlap_splice,
    ratio_series,
    read_eurostat_air_emissions,
    read_trends,
    series_of,
    validate_trends,
)
from trajectoire.trajectory.uncertainty import (
    Uncertainty,
    monte_carlo,
)

__all__ = [
    "EUROSTAT_AIRSECT_TO_GNFR",
    "EUROSTAT_POLLUTANTS",
    "METHOD_KINDS",
    "METHOD_LABELS",
    "TRAJECTORY_METHODS",
    "Method",
    "TrajectoryMethod",
    "Uncertainty",
    "aggregate_sectors",
    "backcast",
    "census_proxy",
    "extrapolate_trend",
    "monte_carlo",
    "overlap_splice",
    "ratio_series",
    "read_eurostat_air_emissions",
    "read_trends",
    "rebuild",
    "series_of",
    "trends",
    "uncertainty",
    "validate_trends",
]


def __getattr__(name: str) -> Any:
    """Names of the former flat module ``trajectoire.trajectory`` not re-exported above (issue 11)."""
    return _legacy.lookup(__name__, name)
