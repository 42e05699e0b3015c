"""Dispersion: plume physics, long-term kernels, convolution, receptors, background, NO2 chemistry."""

from __future__ import annotations

from typing import Any

from trajectoire import _legacy
from trajectoire.dispersion import (
    background,
    chemistry,
    concentration,
    convolution,
    hourly,
    longterm,
    plume,
    points,
)
from trajectoire.dispersion.background import (
    read_background,
    remove_local_part,
)
from trajectoire.dispersion.chemistry import (
    NO2_CONVERSIONS,
    fit_nox_no2,
    no2_attribution,
    nox_to_no2,
)
from trajectoire.dispersion.concentration import (
    DEFAULT_RELEASE_HEIGHT,
    DispersionSection,
    DispersionSettings,
    YearDispersion,
    annual_concentration,
    stack_footprints,
)
from trajectoire.dispersion.convolution import (
    ConvolutionPlan,
    fft_convolve,
)
from trajectoire.dispersion.hourly import (
    hourly_at_receptors,
)
from trajectoire.dispersion.longterm import (
    annual_kernel,
)
from trajectoire.dispersion.plume import (
    SIGMA_SCHEMES,
    dispersion_coefficients,
    effective_height,
    gaussian_plume,
    line_source,
)
from trajectoire.dispersion.points import (
    point_sources_annual,
)

__all__ = [
    "DEFAULT_RELEASE_HEIGHT",
    "NO2_CONVERSIONS",
    "SIGMA_SCHEMES",
    "ConvolutionPlan",
    "DispersionSection",
    "DispersionSettings",
    "YearDispersion",
    "annual_concentration",
    "annual_kernel",
    "background",
    "chemistry",
    "concentration",
    "convolution",
    "dispersion_coefficients",
    "effective_height",
    "fft_convolve",
    "fit_nox_no2",
    "gaussian_plume",
    "hourly",
    "hourly_at_receptors",
    "line_source",
    "longterm",
    "no2_attribution",
    "nox_to_no2",
    "plume",
    "point_sources_annual",
    "points",
    "read_background",
    "remove_local_part",
    "stack_footprints",
]


def __getattr__(name: str) -> Any:
    """Names of the former flat module ``trajectoire.dispersion`` not re-exported above (issue 11)."""
    return _legacy.lookup(__name__, name)
