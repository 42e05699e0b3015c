"""Dispersion: plume physics, long-term kernels, FFT convolution, stacks, hourly mode, a year's kernels,
receptors, local concentrations, background, NO2 chemistry.

The headline names are imported here; every other public name of the modules
(plume, longterm, convolution, points, hourly, concentration, receptors, local, background, chemistry, roads) and of the former flat module resolves on first use.
"""

# isort: skip_file
# fmt: off
from trajectoire import _legacy
from trajectoire.dispersion.plume import SIGMA_SCHEMES, dispersion_coefficients, effective_height, gaussian_plume, line_source
from trajectoire.dispersion.longterm import annual_kernel
from trajectoire.dispersion.convolution import ConvolutionPlan, fft_convolve
from trajectoire.dispersion.points import point_sources_annual
from trajectoire.dispersion.hourly import hourly_at_receptors
from trajectoire.dispersion.concentration import DispersionSettings, YearDispersion, annual_concentration, dry_deposition, stack_footprints
from trajectoire.dispersion.background import read_background, remove_local_part
from trajectoire.dispersion.chemistry import no2_attribution, nox_to_no2
from trajectoire.dispersion.roads import line_concentration_annual, line_concentration_hourly, near_road_increment, roadside_values, street_canyon_increment

__all__ = "SIGMA_SCHEMES ConvolutionPlan DispersionSettings YearDispersion annual_concentration annual_kernel dispersion_coefficients dry_deposition effective_height fft_convolve gaussian_plume hourly_at_receptors line_concentration_annual line_concentration_hourly line_source near_road_increment no2_attribution nox_to_no2 point_sources_annual read_background remove_local_part roadside_values stack_footprints street_canyon_increment".split()
__getattr__, __dir__ = _legacy.package_names(__name__, ("plume", "longterm", "convolution", "points", "hourly", "concentration", "receptors", "local", "background", "chemistry", "roads"))
# fmt: on
