"""The batch run: the pipeline (year-independent preparation, one year) and the runner."""

from __future__ import annotations

from trajectoire.batch import pipeline, runner
from trajectoire.batch.pipeline import (
    RunContext,
    compute_year,
    global_attributes,
    prepare,
    static_variables,
    years,
)
from trajectoire.batch.runner import (
    PART_COMPLETE_ATTR,
    PART_HASH_ATTR,
    Pipeline,
    assemble,
    parts_dir_of,
    run,
)

__all__ = [
    "PART_COMPLETE_ATTR",
    "PART_HASH_ATTR",
    "Pipeline",
    "RunContext",
    "assemble",
    "compute_year",
    "global_attributes",
    "parts_dir_of",
    "pipeline",
    "prepare",
    "run",
    "runner",
    "static_variables",
    "years",
]
