"""Memory given back to the system early, or kept for reuse.

**Giving back.**
A large intermediate is sometimes read piece by piece into another array (the area part of
the reference inventory added field by field into the inventory, :func:`build_inventory
<trajectoire.inventory.build.build_inventory>`): without help, both are whole in memory at
the end. :func:`release_pages` tells the kernel that the pages under one piece are no
longer needed (Linux ``madvise(MADV_DONTNEED)``), so that the intermediate shrinks as the
other array grows.

**Keeping.** A year of the run allocates and frees about 1 GB of grids of 10-30 MB at 100 m
(transform outputs, sums, masks). glibc serves such arrays from its heap once its dynamic
mmap threshold has risen, but gives the top of the heap back as soon as 64 MiB of it are
free, so the next grids are mapped and zeroed by the kernel again: measured on the sample at
100 m (``benchmarks/bench_heap.py``, 2 shared cores, load 0.9-1.5), 1.0-1.1 GiB of page
faults and 1.5-2.9 s of system time a year, 12.9-17.2 s of CPU in all. :func:`heap_kept`
fixes the thresholds for the span of the years (arrays up to 32 MiB from the heap, free
pages kept until :func:`trim_heap`): 0.1 GiB of faults, 0.2-0.6 s of system time and
11.1-12.3 s of CPU a year (0.80 times), for 0.1 GiB more resident memory. A Dask worker,
whose years are separate tasks, holds the same thresholds from its first year to the end of
the run (:func:`hold_heap`, :func:`release_heap`): a block per task trimmed the heap at each
end, and each year faulted its grids in again (measured at 200 m, 6 years on one thread:
1.3 s of system time and 141,000 faults against 0.4 s and 19,000 held; two such processes
side by side 5 % faster held, on a machine where page faults do not scale with the cores).

**Small pages.** NumPy asks the kernel for transparent huge pages (2 MiB) for every array of
4 MiB or more (``madvise(MADV_HUGEPAGE)``, on by default on Linux). Where the kernel's
``transparent_hugepage/defrag`` setting is ``madvise`` (a common default), a page fault in
such an array compacts memory there and then when no free huge page is at hand: on a
machine whose memory is fragmented (long uptime, other jobs), that costs more than the
faults it saves. ``prepare`` maps and frees about 10 GB of short-lived grids at 100 m on the
sample (the area inventory spread sector by sector, then added into one array):
measured there (``benchmarks/bench_pages.py``, 2 shared cores, load 3.2-3.7), 15.6 s of CPU
with huge pages (9.7 s of it system time) and 11.9 s without (4.6 s system; the user time
rises from 5.9 to 7.3 s, the faults being 12 times as many). :func:`small_pages` turns
NumPy's advice off for the span of a block. The years, which reuse the heap (above), gain
nothing either way (within 3 %, 4 years of 100 m each way) and keep NumPy's default.

References
----------
Linux man-pages, ``madvise(2)``: "MADV_DONTNEED ... subsequent accesses of pages in the
range will succeed, but will result in ... zero-fill-on-demand pages for anonymous private
mappings". https://man7.org/linux/man-pages/man2/madvise.2.html

glibc manual, "Malloc Tunable Parameters", and ``mallopt(3)``: ``M_MMAP_THRESHOLD``
(dynamic by default, from 128 KiB up to 32 MiB on 64-bit systems; setting it or
``M_TRIM_THRESHOLD`` fixes both), ``M_TRIM_THRESHOLD``, ``malloc_trim(3)``.
https://www.gnu.org/software/libc/manual/html_node/Malloc-Tunable-Parameters.html

Linux kernel documentation, "Transparent Hugepage Support"
(``/sys/kernel/mm/transparent_hugepage/defrag``: "madvise will enter direct reclaim like
always but only for regions that have used madvise(MADV_HUGEPAGE)").
https://docs.kernel.org/admin-guide/mm/transhuge.html

NumPy reference, "Global state": "Madvise hugepage on Linux" and the
``NUMPY_MADVISE_HUGEPAGE`` environment variable.
https://numpy.org/doc/stable/reference/global_state.html
"""

from __future__ import annotations

import ctypes
import importlib
import logging
import mmap
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

__all__ = [
    "HEAP_ARRAY_MAX",
    "heap_kept",
    "hold_heap",
    "release_heap",
    "release_pages",
    "resident_bytes",
    "small_pages",
    "trim_heap",
    "trim_heap_if_grown",
]

log = logging.getLogger(__name__)

_libc: Any = None
try:  # the process's C library (not on Windows)
    _libc = ctypes.CDLL(None, use_errno=True)
except (OSError, TypeError):  # pragma: no cover - Windows
    _libc = None


def _function(name: str, argtypes: tuple[Any, ...], restype: Any) -> Any:
    """The C library's function `name` with its signature, or None where it has none."""
    f = getattr(_libc, name, None) if _libc is not None else None
    if f is not None:
        f.argtypes, f.restype = argtypes, restype
    return f


_MADV_DONTNEED = 4  # Linux, asm-generic/mman-common.h
_madvise: Any = None
if sys.platform.startswith("linux"):  # elsewhere MADV_DONTNEED does not zero the pages
    _madvise = _function("madvise", (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int), ctypes.c_int)

_M_TRIM_THRESHOLD = -1  # glibc malloc.h
_M_MMAP_THRESHOLD = -3
# glibc only (not musl, macOS or Windows)
_mallopt: Any = _function("mallopt", (ctypes.c_int, ctypes.c_int), ctypes.c_int)
_malloc_trim: Any = _function("malloc_trim", (ctypes.c_size_t,), ctypes.c_int)

HEAP_ARRAY_MAX = 32 * 2**20
"""Largest allocation [bytes] that :func:`heap_kept` serves from the heap: glibc's largest
mmap threshold on 64-bit systems (``HEAP_MAX_SIZE / 2``; a larger value is refused)."""

_KEEP = 2**31 - 1  # bytes of free heap top kept (mallopt takes an int): never trimmed


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


_reference_rss: int | None = None  # trim_heap_if_grown's reference [bytes]


def trim_heap() -> bool:
    """Give the free pages of the C heap back to the system (glibc ``malloc_trim(0)``).

    Returns
    -------
    bool
        True where it was done; False where the C library has none (macOS, musl, Windows).
    """
    global _reference_rss
    if _malloc_trim is None:
        return False
    _malloc_trim(0)
    _reference_rss = None  # trim_heap_if_grown measures its reference again
    return True


CREEP_BYTES = 256 * 2**20
"""Growth of the resident memory [bytes] after a large year, over the first such year since
the last trim, beyond which :func:`trim_heap_if_grown` trims the heap."""


def resident_bytes() -> int | None:
    """The process's resident memory [bytes] (Linux ``/proc/self/statm``), None elsewhere."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * mmap.PAGESIZE
    except (OSError, ValueError, IndexError):
        return None


def trim_heap_if_grown(margin: int = CREEP_BYTES) -> bool:
    """After a large year: give the heap's free pages back only when the resident memory has
    crept up by more than `margin` bytes since the first large year after the last trim.

    A year at 100 m frees about 1 GB of grids, which :func:`heap_kept` keeps mapped for the
    next year; trimming after every year gave them back and the next year faulted them in
    again (0.2-1.2 GB of faults, 0.3-0.7 s of CPU a year on the sample). Without any trim
    the holes the years leave in the heap add up (about 0.6 GB over 34 years at 100 m); this
    bounds that growth to `margin` while the years in between reuse the heap. Where the
    resident memory cannot be read (not Linux), the heap is trimmed every time.

    Parameters
    ----------
    margin : int, default :data:`CREEP_BYTES`
        Bytes of growth allowed between trims.

    Returns
    -------
    bool
        Whether the heap was trimmed.
    """
    global _reference_rss
    rss = resident_bytes()
    if rss is None:
        return trim_heap()
    if _reference_rss is None:
        _reference_rss = rss  # the heap as a year leaves it: the reference
        return False
    if rss <= _reference_rss + margin:
        return False
    return trim_heap()  # which forgets the reference: measured after the next large year


@contextmanager
def heap_kept() -> Iterator[bool]:
    """Within the block, arrays up to :data:`HEAP_ARRAY_MAX` come from the C heap and its
    free pages stay mapped for the next ones, instead of being given back and zeroed again.

    glibc only (``mallopt``); elsewhere nothing changes. Memory freed in the block is given
    back only by :func:`trim_heap` (the batch runner's :func:`trim_heap_if_grown` after a
    large year); at the end the heap is trimmed and the process keeps fixed thresholds equal
    to the ones glibc's dynamic rule reaches after a free of 32 MiB (mmap above 32 MiB, top
    trimmed beyond 64 MiB): that rule cannot be switched back on.

    Yields
    ------
    bool
        Whether the thresholds were set.
    """
    done = _keep_thresholds()
    try:
        yield done
    finally:
        if done:
            _after_thresholds()


_held = False
_held_lock = threading.Lock()


def hold_heap() -> bool:
    """:func:`heap_kept`'s thresholds from now until :func:`release_heap`, for the process.

    For code that computes years in calls that do not nest in one block, such as the tasks a
    Dask worker runs one after the other: each year then reuses the pages the previous one
    freed, where a :func:`heap_kept` block per task trims the heap at its end and the next
    year faults its grids in again (about 1 GB a year at 100 m). Calling it again while held
    does nothing. Memory is given back by :func:`trim_heap_if_grown` (after a large year)
    and by :func:`release_heap`.

    Returns
    -------
    bool
        Whether the heap is held (False where the C library has no ``mallopt``).
    """
    global _held
    with _held_lock:
        if not _held:
            _held = _keep_thresholds()
        return _held


def release_heap() -> bool:
    """End :func:`hold_heap`: :func:`heap_kept`'s thresholds after its block, and the heap
    trimmed. Nothing is done where the heap is not held.

    Returns
    -------
    bool
        Whether a held heap was released.
    """
    global _held
    with _held_lock:
        was, _held = _held, False
    if was:
        _after_thresholds()
    return was


def _keep_thresholds() -> bool:
    """Set the thresholds of :func:`heap_kept` (False where refused or not glibc)."""
    if _mallopt is None:
        return False
    return bool(_mallopt(_M_MMAP_THRESHOLD, HEAP_ARRAY_MAX)) and bool(
        _mallopt(_M_TRIM_THRESHOLD, _KEEP)
    )


def _after_thresholds() -> None:
    """The thresholds after :func:`heap_kept`'s block, and the heap trimmed."""
    if _mallopt is not None:
        _mallopt(_M_TRIM_THRESHOLD, 2 * HEAP_ARRAY_MAX)
        trim_heap()


def _hugepage_switch() -> Any:
    """NumPy's ``_set_madvise_hugepage`` (``numpy._core.multiarray`` from NumPy 2,
    ``numpy.core.multiarray`` before), or None where this NumPy has none."""
    for name in ("numpy._core.multiarray", "numpy.core.multiarray"):
        try:
            module = importlib.import_module(name)
        except ImportError:  # pragma: no cover - the other NumPy major version
            continue
        switch = getattr(module, "_set_madvise_hugepage", None)
        if callable(switch):
            return switch
    return None  # pragma: no cover - a NumPy without the switch


_HUGEPAGE_ENV = "NUMPY_MADVISE_HUGEPAGE"


@contextmanager
def small_pages() -> Iterator[bool]:
    """Within the block, NumPy does not ask for transparent huge pages for its arrays.

    For work that maps and frees many large short-lived arrays (the run's ``prepare``):
    their page faults then cost no memory compaction (see the module's notes). Values are
    not affected, only how the kernel maps the memory. The setting is NumPy's, for the
    whole process: it is restored at the end of the block.

    Nothing changes where ``NUMPY_MADVISE_HUGEPAGE`` is set in the environment (the
    user's choice stands), off Linux, or with a NumPy that has no such switch.

    Yields
    ------
    bool
        Whether NumPy's advice was turned off here.
    """
    switch = _hugepage_switch() if sys.platform.startswith("linux") else None
    if switch is None or _HUGEPAGE_ENV in os.environ:
        yield False
        return
    before = bool(switch(False))
    try:
        yield True
    finally:
        switch(before)
