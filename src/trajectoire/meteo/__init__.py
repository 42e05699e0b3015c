"""Meteorology: hourly tables, stability classes, wind and mixing-height profiles, frequency tables per year.

The headline names are imported here; every other public name of the modules
(readers, sources, stability, profiles, classes) and of the former flat module resolves on first use.
"""

# isort: skip_file
# fmt: off
from trajectoire import _legacy
from trajectoire.meteo.readers import read_hourly, validate_hourly
from trajectoire.meteo.stability import add_stability, stability_class, turner_class
from trajectoire.meteo.profiles import wind_at_height
from trajectoire.meteo.classes import met_classes, select_years
from trajectoire.meteo.sources import read_era5, read_isd_lite, read_meteo, read_meteo_france

__all__ = "add_stability met_classes read_era5 read_hourly read_isd_lite read_meteo read_meteo_france select_years stability_class turner_class validate_hourly wind_at_height".split()
__getattr__, __dir__ = _legacy.package_names(__name__, ("readers", "stability", "profiles", "classes", "sources"))
# fmt: on
