"""Numeric kernels: numpy arrays in, numpy arrays out, SI units, compiled with numba.

Nothing here imports xarray, pandas or anything that does I/O (enforced by
``tests/test_kernels_boundary.py``). Every kernel has a plain-numpy reference in the tests.
"""
