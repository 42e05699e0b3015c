"""Assessment: exposure, stations, evaluation statistics and data fusion.

The headline names are imported here; every other public name of the modules
(exposure, stations, evaluation, fusion, siting) resolves on first use.
"""

# isort: skip_file
# fmt: off
from trajectoire import _legacy
from trajectoire.assess.exposure import population_above, population_weighted_mean
from trajectoire.assess.stations import read_stations, sample_at_stations
from trajectoire.assess.evaluation import evaluate, mqi, mqi_network
from trajectoire.assess.fusion import cross_validate, fuse
from trajectoire.assess.siting import choose_sites, choose_sites_from_output

__all__ = "choose_sites choose_sites_from_output cross_validate evaluate fuse mqi mqi_network population_above population_weighted_mean read_stations sample_at_stations".split()
__getattr__, __dir__ = _legacy.package_names(__name__, ("exposure", "stations", "evaluation", "fusion", "siting"))
# fmt: on
