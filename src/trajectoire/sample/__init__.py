"""The bundled synthetic sample (everything synthetic lives here; no stage imports it)."""

from __future__ import annotations

from trajectoire.sample import synthetic, write
from trajectoire.sample.synthetic import synthetic_inventory
from trajectoire.sample.write import (
    SAMPLE_FILES,
    write_sample,
)

__all__ = [
    "SAMPLE_FILES",
    "synthetic",
    "synthetic_inventory",
    "write",
    "write_sample",
]
