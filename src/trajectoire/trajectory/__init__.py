"""Emission trajectories 1990 -> today: trend indices, the rebuild of every year, its linear form, uncertainty.

The headline names are imported here; every other public name of the modules
(trends, eurostat, backcast, basis, uncertainty) and of the former flat module resolves on first use.
"""

# isort: skip_file
# fmt: off
from trajectoire import _legacy
from trajectoire.trajectory.trends import TRAJECTORY_METHODS, read_eurostat_air_emissions, read_trends
from trajectoire.trajectory.backcast import census_proxy, rebuild
from trajectoire.trajectory.basis import emission_from_basis
from trajectoire.trajectory.uncertainty import Uncertainty, monte_carlo
from trajectoire.trajectory.eurostat import splice_vintages

__all__ = "TRAJECTORY_METHODS Uncertainty census_proxy emission_from_basis monte_carlo read_eurostat_air_emissions read_trends rebuild splice_vintages".split()
__getattr__, __dir__ = _legacy.package_names(__name__, ("trends", "eurostat", "backcast", "basis", "uncertainty"))
# fmt: on
