"""trajectoire._memory.heap_kept: grids freed during the years are reused without page faults
(glibc), and the batch runner computes its years inside it."""

from __future__ import annotations

import resource
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import fake_pipeline
from fake_pipeline import write_config
from trajectoire import _memory
from trajectoire._memory import HEAP_ARRAY_MAX, heap_kept, trim_heap
from trajectoire.batch import runner
from trajectoire.config import load_config

glibc = pytest.mark.skipif(
    not sys.platform.startswith("linux") or _memory._mallopt is None, reason="glibc mallopt"
)


_CHILD = """
import sys, numpy as np
from contextlib import nullcontext
from trajectoire._memory import heap_kept

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * {page}

growth = []
with (heap_kept() if sys.argv[1] == "1" else nullcontext()):
    for _ in range(4):  # a "year": 8 grids alive together, then all freed
        before = rss()
        grids = [np.empty({size} // 8) for _ in range(8)]
        for a in grids:
            a.fill(1.0)  # every page written
        growth.append(rss() - before)
        del grids, a
print(growth)
"""


def _rss_growth(kept: bool, size: int) -> list[int]:
    """In a fresh interpreter (glibc's default, dynamic thresholds), the resident memory
    gained by each of 4 rounds that allocate 8 arrays of `size` bytes, write them and free
    them (as a year of the run does with its grids)."""
    code = _CHILD.format(page=resource.getpagesize(), size=size)
    out = subprocess.run(
        [sys.executable, "-c", code, "1" if kept else "0"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [int(v) for v in out.strip().strip("[]").split(",")]


@glibc
@pytest.mark.parametrize("mib", [12, 24])
def test_grids_freed_inside_are_reused_not_mapped_again(mib: int) -> None:
    size = mib * 2**20  # a 100 m grid: ~11 MB in float32, ~22 MB in float64
    plain = _rss_growth(False, size)
    kept = _rss_growth(True, size)
    # glibc's default gives the heap's free top back beyond 2 thresholds: every round maps
    # its grids afresh; kept, the later rounds reuse the first round's pages
    assert min(plain) > 0.9 * 8 * size, plain
    assert kept[0] > 0.9 * 8 * size and max(kept[1:]) < 0.05 * 8 * size, kept


@glibc
def test_thresholds_are_left_fixed_and_the_heap_trimmed_after() -> None:
    calls: list[tuple[int, int]] = []
    real = _memory._mallopt
    assert real is not None

    def recording(param: int, value: int) -> int:
        calls.append((param, value))
        return int(real(param, value))

    try:
        _memory._mallopt = recording
        with heap_kept():
            pass
    finally:
        _memory._mallopt = real
    assert calls == [
        (_memory._M_MMAP_THRESHOLD, HEAP_ARRAY_MAX),
        (_memory._M_TRIM_THRESHOLD, _memory._KEEP),
        (_memory._M_TRIM_THRESHOLD, 2 * HEAP_ARRAY_MAX),
    ]
    assert trim_heap()


def test_without_mallopt_nothing_is_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_memory, "_mallopt", None)
    monkeypatch.setattr(_memory, "_malloc_trim", None)
    with heap_kept() as done:
        assert done is False
    assert trim_heap() is False


def test_refused_thresholds_are_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_memory, "_mallopt", lambda param, value: 0)  # glibc refuses
    with heap_kept() as done:
        assert done is False


def test_serial_runner_computes_its_years_inside(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    depth = {"now": 0, "years_inside": 0, "years_outside": 0}

    @contextmanager
    def counting() -> Any:
        depth["now"] += 1
        try:
            yield True
        finally:
            depth["now"] -= 1

    real_compute = fake_pipeline.compute_year

    def compute_year(ctx: Any, year: int) -> Any:
        depth["years_inside" if depth["now"] else "years_outside"] += 1
        return real_compute(ctx, year)

    monkeypatch.setattr(runner, "_years_resources", counting)
    monkeypatch.setattr(fake_pipeline, "compute_year", compute_year)
    config = load_config(write_config(tmp_path / "in"))
    runner.run(config, tmp_path / "out.nc", pipeline=fake_pipeline, progress=False)
    assert depth["years_inside"] == 6 and depth["years_outside"] == 0
    assert depth["now"] == 0


def test_years_run_with_blas_on_one_thread() -> None:
    threadpoolctl = pytest.importorskip("threadpoolctl")
    import scipy.linalg  # noqa: F401  (loads scipy's BLAS too)

    blas = [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
    if not blas:
        pytest.skip("no BLAS library that threadpoolctl can see")
    with runner._years_resources():
        inside = [
            i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"
        ]
    after = [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
    assert inside == [1] * len(blas)
    assert after == [i["num_threads"] for i in blas]


def test_heap_trimmed_after_large_years_only_once_grown(monkeypatch: pytest.MonkeyPatch) -> None:
    """After each large year the serial run and the workers keep the heap for the next one
    (trimming it made every year fault its grids in again) until the resident memory has
    crept up by more than the margin over the first year since the last trim."""
    rss = {"now": 0}
    trims: list[int] = []
    monkeypatch.setattr(_memory, "resident_bytes", lambda: rss["now"])
    monkeypatch.setattr(_memory, "_malloc_trim", lambda pad: trims.append(rss["now"]) or 1)
    monkeypatch.setattr(_memory, "_reference_rss", None)
    mib = 2**20
    seen = []
    for now in (1000, 1100, 1256, 1257, 900, 1100, 1156, 1157, 1000):  # MiB after each year
        rss["now"] = now * mib
        seen.append(_memory.trim_heap_if_grown(256 * mib))
    # 1000 is the reference: 1256 is within 256 MiB of it, 1257 beyond (trimmed); 900 is the
    # next reference, 1157 beyond it (trimmed), 1000 the next
    assert seen == [False, False, False, True, False, False, False, True, False]
    assert trims == [1257 * mib, 1157 * mib]
    # any other trim (the run's own, at the end of heap_kept) resets the reference
    assert _memory.trim_heap() and _memory._reference_rss is None


def test_heap_trimmed_every_time_where_memory_cannot_be_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    trims: list[int] = []
    monkeypatch.setattr(_memory, "resident_bytes", lambda: None)
    monkeypatch.setattr(_memory, "_malloc_trim", lambda pad: trims.append(pad) or 1)
    assert _memory.trim_heap_if_grown() and _memory.trim_heap_if_grown()
    assert trims == [0, 0]


def test_resident_bytes_is_this_process() -> None:
    rss = _memory.resident_bytes()
    if not sys.platform.startswith("linux"):
        assert rss is None
        return
    assert rss is not None and rss > 10 * 2**20  # an interpreter with numpy loaded
    grid = np.ones(64 * 2**20 // 8)  # 64 MiB written
    after = _memory.resident_bytes()
    assert after is not None and after - rss > 0.9 * grid.nbytes
