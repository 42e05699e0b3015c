"""The bundled synthetic sample (everything synthetic lives here; no stage imports it)."""

from __future__ import annotations

from trajectoire.sample import write
from trajectoire.sample.write import (
    SAMPLE_FILES,
    write_sample,
)

__all__ = [
    "SAMPLE_FILES",
    "write",
    "write_sample",
]
