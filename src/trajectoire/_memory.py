"""Giving the memory of an array that is about to be discarded back to the system early.

A large intermediate is sometimes read piece by piece into another array (the area part of
the reference inventory added field by field into the inventory, :func:`build_inventory
<trajectoire.inventory.build.build_inventory>`): without help, both are whole in memory at
the end. :func:`release_pages` tells the kernel that the pages under one piece are no
longer needed (Linux ``madvise(MADV_DONTNEED)``), so that the intermediate shrinks as the
other array grows.

References
----------
Linux man-pages, ``madvise(2)``: "MADV_DONTNEED ... subsequent accesses of pages in the
range will succeed, but will result in ... zero-fill-on-demand pages for anonymous private
mappings". https://man7.org/linux/man-pages/man2/madvise.2.html
"""

from __future__ import annotations

import ctypes
import logging
import mmap
import sys

import numpy as np

__all__ = ["release_pages"]

log = logging.getLogger(__name__)

_MADV_DONTNEED = 4  # Linux, asm-generic/mman-common.h
_madvise = None
if sys.platform.startswith("linux"):
    try:
        _libc = ctypes.CDLL(None, use_errno=True)
        _madvise = _libc.madvise
        _madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
        _madvise.restype = ctypes.c_int
    except (OSError, AttributeError):  # pragma: no cover - a libc without madvise
        _madvise = None


def release_pages(a: np.ndarray) -> int:
    """Give the whole memory pages under `a` back to the system; their values are lost.

    Only for a contiguous piece of an array whose values will never be read again (and that
    no other object reads): on Linux its whole pages then read as 0 and are mapped again
    only if written; the partial pages at its two ends are kept. Elsewhere (macOS, Windows,
    where ``MADV_DONTNEED`` does not zero the pages) nothing is done.

    Parameters
    ----------
    a : numpy.ndarray
        C-contiguous array (or view) whose memory is private to this process (a NumPy
        allocation; not a memory-mapped file).

    Returns
    -------
    int
        Bytes released (0 when nothing was done).
    """
    if _madvise is None or a.nbytes == 0 or not a.flags.c_contiguous or not a.flags.writeable:
        return 0
    page = mmap.PAGESIZE
    start = a.__array_interface__["data"][0]
    first = -(-start // page) * page  # the first whole page
    end = (start + a.nbytes) // page * page
    if end <= first:
        return 0
    if _madvise(first, end - first, _MADV_DONTNEED) != 0:  # pragma: no cover - kernel refused
        log.debug("madvise(MADV_DONTNEED) failed: errno %d", ctypes.get_errno())
        return 0
    return end - first
