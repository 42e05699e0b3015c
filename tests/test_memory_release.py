"""trajectoire._memory.release_pages: the whole pages under an array given back (Linux)."""

from __future__ import annotations

import mmap
import sys

import numpy as np
import pytest

from trajectoire._memory import release_pages

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="MADV_DONTNEED: Linux")


@linux
def test_whole_pages_read_zero_and_the_partial_ends_are_kept():
    page = mmap.PAGESIZE
    whole = np.ones(8 * page // 8 + 3)  # float64: 8 pages and a bit
    piece = whole[5 : 5 + 5 * page // 8]  # starts and ends inside pages
    start = piece.__array_interface__["data"][0]
    first = -(-start // page) * page
    end = (start + piece.nbytes) // page * page
    done = release_pages(piece)
    assert done == end - first > 0
    addr = whole.__array_interface__["data"][0] + 8 * np.arange(whole.size)
    released = (addr >= first) & (addr + 8 <= end)
    assert (whole[released] == 0).all() and (whole[~released] == 1).all()
    whole[released] = 2.0  # the pages are mapped again when written
    assert (whole[released] == 2).all()


@linux
def test_large_release_lowers_the_resident_memory():
    psutil = pytest.importorskip("psutil")
    proc = psutil.Process()
    a = np.ones(64 * 2**20 // 8)  # 64 MiB, touched
    before = proc.memory_info().rss
    assert release_pages(a) > 60 * 2**20
    assert proc.memory_info().rss < before - 48 * 2**20
    assert np.count_nonzero(a) < 2 * mmap.PAGESIZE // 8  # the two partial end pages


def test_nothing_is_done_for_what_cannot_be_released():
    a = np.ones((64, 1024))
    assert release_pages(a[:, ::2]) == 0  # not contiguous
    ro = np.ones(4096)
    ro.flags.writeable = False
    assert release_pages(ro) == 0  # read-only (a memory-mapped file, a shared buffer)
    assert release_pages(np.ones(10)) == 0  # no whole page under it
    assert release_pages(np.ones(0)) == 0
    assert (a == 1).all() and (ro == 1).all()
