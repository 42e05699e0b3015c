"""Numeric kernels: numpy arrays in, numpy arrays out, SI units, compiled with numba.

Nothing here imports xarray, pandas or anything that does I/O (enforced by
``tests/test_layout.py``). Every kernel has a plain-numpy reference in the tests.
"""

from ._config import CACHE, cache_setting

__all__ = ["CACHE", "cache_setting"]
