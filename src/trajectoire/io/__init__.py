"""Input/output: the run configuration, chunk I/O, CF NetCDF and GeoTIFF, the run's output variables.

The headline names are imported here; every other public name of the modules
(config, formats, chunks, netcdf, outputs) and of the former flat module resolves on first use.
"""

# isort: skip_file
# fmt: off
from trajectoire import _legacy
from trajectoire.io.config import RunConfig, load_config
from trajectoire.io.netcdf import check_output, export_geotiff, open_output, summary, write_netcdf
from trajectoire.io.formats import read_input

__all__ = "RunConfig check_output export_geotiff load_config open_output read_input summary write_netcdf".split()
__getattr__, __dir__ = _legacy.package_names(__name__, ("config", "formats", "chunks", "netcdf", "outputs"))
# fmt: on
