"""The batch run: the pipeline (year-independent preparation, one year), the runner and its safety.

The headline names are imported here; every other public name of the modules
(pipeline, runner, safety) resolves on first use.
"""

# isort: skip_file
# fmt: off
from trajectoire import _legacy
from trajectoire.batch.pipeline import RunContext, compute_year, prepare
from trajectoire.batch.runner import run

__all__ = "RunContext compute_year prepare run".split()
__getattr__, __dir__ = _legacy.package_names(__name__, ("pipeline", "runner", "safety"))
# fmt: on
