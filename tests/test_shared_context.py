"""The context shared with Dask workers through memory-mapped files (issue 18).

:mod:`trajectoire.batch.shared` unit tests (round trip, read-only maps, damaged files, stale
folders) and the runner's Dask path with a context holding a large array: identical to the
serial run, the arrays mapped read-only in the workers, nothing left behind, and a resumed
run still verifies the parts it reuses.
"""

from __future__ import annotations

import os
import pickle
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

import fake_pipeline
from fake_pipeline import assert_same_content, write_config
from trajectoire.batch.shared import (
    CONTEXT_PREFIX,
    SharedContext,
    forget_context,
    new_context_folder,
    remove_stale,
    share_context,
)
from trajectoire.config import RunConfig, load_config
from trajectoire.errors import ConfigError, InputError
from trajectoire.runner import parts_dir_of, run

BIG = 2**18  # float64 values: 2 MiB, above MIN_SHARED_BYTES


@dataclass(frozen=True)
class Frozen:
    big: np.ndarray
    small: np.ndarray
    label: str
    extra: dict[str, Any] = field(default_factory=dict)


def _reopened(shared: SharedContext) -> Any:
    """`shared` as a worker process gets it: unpickled, opened with an empty cache."""
    copy = pickle.loads(pickle.dumps(shared))
    forget_context(copy.token)
    try:
        return copy.open()
    finally:
        forget_context(copy.token)


def test_round_trip_maps_large_arrays_read_only(tmp_path: Path) -> None:
    big = np.random.default_rng(1).random(BIG)
    ctx = Frozen(big=big, small=np.arange(5.0), label="x", extra={"k": 1})
    shared = share_context(ctx, new_context_folder(tmp_path))
    assert list(shared.arrays) == ["big"]
    assert ctx.big is big  # the original context is not changed
    # what travels to the workers is small: the big array is not in the pickle
    assert len(pickle.dumps(shared)) < big.nbytes // 20
    got = _reopened(shared)
    assert isinstance(got.big, np.memmap) and not got.big.flags.writeable
    np.testing.assert_array_equal(got.big, big)
    assert got.big.dtype == big.dtype
    assert got.small is not None and got.label == "x" and got.extra == {"k": 1}
    with pytest.raises(ValueError, match="read-only"):
        got.big[0] = 1.0


def test_open_once_per_process(tmp_path: Path) -> None:
    ctx = {"big": np.ones(BIG), "n": 3}
    shared = share_context(ctx, new_context_folder(tmp_path))
    try:
        assert shared.open() is shared.open()
        assert isinstance(ctx["big"], np.ndarray) and not isinstance(ctx["big"], np.memmap)
    finally:
        forget_context(shared.token)


def test_context_without_large_arrays_is_sent_whole(tmp_path: Path) -> None:
    folder = new_context_folder(tmp_path)
    ctx = {"small": np.ones(10)}
    shared = share_context(ctx, folder)
    assert shared.arrays == {} and shared.skeleton is ctx
    assert not folder.exists()


@pytest.mark.parametrize("damage", ["truncate", "replace", "remove"])
def test_damaged_file_is_one_clear_error(tmp_path: Path, damage: str) -> None:
    shared = share_context({"big": np.ones(BIG)}, new_context_folder(tmp_path))
    path = Path(shared.arrays["big"][0])
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:1000])
    elif damage == "replace":
        np.save(path, np.ones(BIG, dtype=np.float32))
    else:
        path.unlink()
    with pytest.raises(InputError, match=rf"{path.name}.*run again \(with --resume"):
        _reopened(shared)


def test_remove_stale_removes_only_context_folders(tmp_path: Path) -> None:
    (tmp_path / f"{CONTEXT_PREFIX}dead").mkdir()
    (tmp_path / f"{CONTEXT_PREFIX}dead" / "000.npy").write_bytes(b"x")
    (tmp_path / "year-1990.nc").write_bytes(b"part")
    (tmp_path / "mine").mkdir()
    remove_stale(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine", "year-1990.nc"]


# ------------------------------------------------------------------ the runner's Dask path
_SEEN: list[tuple[int, bool]] = []
_SEEN_LOCK = threading.Lock()


class WithField:
    """The fake pipeline with a large array in its context that every year reads."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.fail_at = fail_at

    def prepare(self, config: RunConfig) -> dict[str, Any]:
        inner = fake_pipeline.prepare(config)
        scale = np.linspace(1.0, 2.0, BIG)
        return {"inner": inner, "scale": scale}

    def years(self, ctx: dict[str, Any]) -> list[int]:
        return fake_pipeline.years(ctx["inner"])

    def compute_year(self, ctx: dict[str, Any], year: int) -> xr.Dataset:
        if year == self.fail_at:
            raise RuntimeError(f"simulated crash in {year}")
        scale = ctx["scale"]
        with _SEEN_LOCK:
            _SEEN.append((year, isinstance(scale, np.memmap) and not scale.flags.writeable))
        ds = fake_pipeline.compute_year(ctx["inner"], year)
        factor = float(scale[year % scale.size])
        return ds.assign(concentration=ds["concentration"] * factor)

    def static_variables(self, ctx: dict[str, Any]) -> xr.Dataset:
        return fake_pipeline.static_variables(ctx["inner"])

    def global_attributes(self, ctx: dict[str, Any]) -> dict[str, Any]:
        return fake_pipeline.global_attributes(ctx["inner"])


@pytest.fixture
def config(tmp_path: Path) -> RunConfig:
    return load_config(write_config(tmp_path / "in"))


@pytest.fixture
def cluster() -> Any:
    """A light in-process cluster (threads): the workers share this process's memory."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as c:
        yield c


def test_dask_with_shared_context_identical_to_serial(
    config: RunConfig, cluster: Any, tmp_path: Path
) -> None:
    serial = run(config, tmp_path / "serial.nc", pipeline=WithField(), progress=False)
    _SEEN.clear()
    out = tmp_path / "dask.nc"
    run(config, out, pipeline=WithField(), scheduler=cluster.scheduler_address, progress=False)
    assert_same_content(out, serial)
    # every year read the large array through a read-only map
    assert sorted(_SEEN) == [(y, True) for y in range(1990, 1996)]
    assert not parts_dir_of(out).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dask.nc", "in", "serial.nc"]


_HEAP_EVENTS: list[str] = []  # module-level: the pipeline is pickled to the workers
_HEAP_HELD = {"now": False}


class _RecordingHeap(WithField):
    """:class:`WithField` noting whether the worker's heap was held at each year."""

    def compute_year(self, ctx: dict[str, Any], year: int) -> xr.Dataset:
        with _SEEN_LOCK:
            _HEAP_EVENTS.append("year held" if _HEAP_HELD["now"] else "year")
        return super().compute_year(ctx, year)


@pytest.mark.parametrize("large", [False, True])
def test_dask_workers_keep_one_heap_for_their_years(
    config: RunConfig, cluster: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, large: bool
) -> None:
    """Each year of a worker runs on the heap held since its first task (not a heap trimmed
    at each task's end, whose grids the next year faults in again); a year larger than
    ``OVERLAP_BYTES`` is given back after it, as in the serial run; the run releases the
    heap when it lets the workers go."""
    from trajectoire.batch import runner

    events = _HEAP_EVENTS
    events.clear()
    monkeypatch.setitem(_HEAP_HELD, "now", False)

    def note(event: str) -> None:
        with _SEEN_LOCK:
            events.append(event)

    def hold() -> bool:
        note("hold")
        _HEAP_HELD["now"] = True
        return True

    def release() -> bool:
        note("release")
        was, _HEAP_HELD["now"] = _HEAP_HELD["now"], False
        return was

    real_store = runner._store_part

    def store(ds: xr.Dataset, path: Path, **kwargs: Any) -> str:
        note("store" if path.name.startswith("year-") else "store static")
        return real_store(ds, path, **kwargs)

    monkeypatch.setattr(runner, "hold_heap", hold)
    monkeypatch.setattr(runner, "release_heap", release)
    monkeypatch.setattr(runner, "_store_part", store)
    monkeypatch.setattr(runner, "trim_heap_if_grown", lambda: note("trim") or True)
    if large:
        monkeypatch.setattr(runner, "OVERLAP_BYTES", 0)
    out = tmp_path / "dask.nc"
    run(config, out, pipeline=_RecordingHeap(), scheduler=cluster.scheduler_address,
        progress=False)  # fmt: skip
    years = [e for e in events if e.startswith("year")]
    assert years == ["year held"] * 6
    last_store = len(events) - 1 - events[::-1].index("store")
    assert "release" not in events[:last_store]  # not between the years
    assert events[-1] == "release" and not _HEAP_HELD["now"]
    # from the first year on, the heap is looked at (trimmed if grown) after each large
    # year's part, not otherwise
    assert events[events.index("year held") :].count("trim") == (6 if large else 0)
    assert events.count("store") == 6


def test_hold_heap_until_released(monkeypatch: pytest.MonkeyPatch) -> None:
    from trajectoire import _memory

    calls: list[tuple[int, int]] = []
    trims: list[int] = []
    monkeypatch.setattr(_memory, "_mallopt", lambda p, v: calls.append((p, v)) or 1)
    monkeypatch.setattr(_memory, "_malloc_trim", lambda pad: trims.append(pad) or 1)
    monkeypatch.setattr(_memory, "_held", False)
    assert _memory.hold_heap() and _memory.hold_heap()  # the second call changes nothing
    keep = [(_memory._M_MMAP_THRESHOLD, _memory.HEAP_ARRAY_MAX),
            (_memory._M_TRIM_THRESHOLD, _memory._KEEP)]  # fmt: skip
    assert calls == keep and trims == []
    assert _memory.release_heap() is True
    assert calls == [*keep, (_memory._M_TRIM_THRESHOLD, 2 * _memory.HEAP_ARRAY_MAX)]
    assert trims == [0]
    assert _memory.release_heap() is False and len(calls) == 3 and trims == [0]
    monkeypatch.setattr(_memory, "_mallopt", None)  # not glibc: nothing held
    assert _memory.hold_heap() is False and _memory.release_heap() is False


def _wait_idle(cluster: Any, timeout: float = 30.0) -> None:
    """Wait until no worker of the in-process `cluster` executes a task: HDF5 is not
    thread-safe, and a task of the failed run may still be writing its part."""
    import time

    end = time.monotonic() + timeout
    while any(w.state.executing_count for w in cluster.workers.values()):
        assert time.monotonic() < end, "the cluster stayed busy"
        time.sleep(0.05)


def test_failed_dask_run_removes_shared_files_and_resume_verifies(
    config: RunConfig, cluster: Any, tmp_path: Path
) -> None:
    serial = run(config, tmp_path / "serial.nc", pipeline=WithField(), progress=False)
    out = tmp_path / "dask.nc"
    address = cluster.scheduler_address
    with pytest.raises(RuntimeError, match="simulated crash in 1992"):
        run(config, out, pipeline=WithField(fail_at=1992), scheduler=address, progress=False)
    _wait_idle(cluster)  # the years in flight when 1992 failed end in the worker threads
    parts = parts_dir_of(out)
    # the finished years are kept for --resume, the shared arrays are gone
    assert not [p for p in parts.iterdir() if p.name.startswith(CONTEXT_PREFIX)]
    done = sorted(p.name for p in parts.glob("year-*.nc"))
    assert done and "year-1992.nc" not in done
    # a killed run's shared folder and a damaged finished part
    stale = parts / f"{CONTEXT_PREFIX}killed"
    stale.mkdir()
    np.save(stale / "000.npy", np.zeros(3))
    damaged = parts / done[0]
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    _SEEN.clear()
    run(config, out, pipeline=WithField(), scheduler=address, resume=True, progress=False)
    recomputed = sorted(y for y, _ in _SEEN)
    assert int(done[0][5:9]) in recomputed  # the damaged part was not reused
    assert 1992 in recomputed
    assert_same_content(out, serial)
    assert not parts.exists()


@pytest.mark.slow
def test_local_cluster_processes_with_shared_context(config: RunConfig, tmp_path: Path) -> None:
    """Real worker processes (``workers=2``): the maps are opened in each of them."""
    pytest.importorskip("distributed")
    serial = run(config, tmp_path / "serial.nc", pipeline=WithField(), progress=False)
    out = tmp_path / "dask.nc"
    run(config, out, pipeline=WithField(), workers=2, progress=False)
    assert_same_content(out, serial)
    assert not parts_dir_of(out).exists()


def test_worker_threads_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from trajectoire.batch.runner import WORKER_THREADS_ENV, _worker_threads

    monkeypatch.delenv(WORKER_THREADS_ENV, raising=False)
    cores = os.cpu_count() or 1
    assert _worker_threads(1) == cores
    assert _worker_threads(cores * 2) == 1
    monkeypatch.setenv(WORKER_THREADS_ENV, "3")
    assert _worker_threads(2) == 3
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv(WORKER_THREADS_ENV, bad)
        with pytest.raises(ConfigError, match=rf"{WORKER_THREADS_ENV}='{bad}'.*integer >= 1"):
            _worker_threads(2)


class FailingPrepare(WithField):
    def prepare(self, config: RunConfig) -> dict[str, Any]:
        raise RuntimeError("simulated failure in prepare")


@pytest.mark.slow
def test_cluster_started_during_prepare_is_closed_when_prepare_fails(
    config: RunConfig, tmp_path: Path
) -> None:
    """The local cluster starts beside prepare; a failing prepare closes it, leaves nothing."""
    pytest.importorskip("distributed")
    import psutil

    before = {p.pid for p in psutil.Process().children(recursive=True)}
    out = tmp_path / "o.nc"
    with pytest.raises(RuntimeError, match="simulated failure in prepare"):
        run(config, out, pipeline=FailingPrepare(), workers=1, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]
    alive = [
        p
        for p in psutil.Process().children(recursive=True)
        if p.pid not in before and p.status() != psutil.STATUS_ZOMBIE
    ]
    assert all(not p.is_running() for p in psutil.wait_procs(alive, timeout=10)[1])


def test_bad_worker_threads_stops_before_prepare(
    config: RunConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("distributed")
    from trajectoire.batch.runner import WORKER_THREADS_ENV

    monkeypatch.setenv(WORKER_THREADS_ENV, "0")
    with pytest.raises(ConfigError, match=WORKER_THREADS_ENV):  # not prepare's RuntimeError
        run(config, tmp_path / "o.nc", pipeline=FailingPrepare(), workers=2, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


def test_the_runs_cluster_closes_behind_the_assembly(
    config: RunConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run's own cluster closes in a thread once the years are done (its client
    closed first), the assembly going on meanwhile; the run returns once it is closed."""
    pytest.importorskip("distributed")
    import time

    from distributed import LocalCluster

    from trajectoire.batch import runner

    events: list[tuple[str, float]] = []

    def local_cluster(workers: int, share: int, stack: Any) -> Any:
        cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                               dashboard_address=":0")  # fmt: skip

        def slow_close() -> None:  # a shutdown that takes a while
            events.append(("close start", time.monotonic()))
            time.sleep(1.0)
            cluster.close()
            events.append(("close end", time.monotonic()))

        stack.callback(slow_close)
        return cluster

    real_assemble = runner.assemble

    def assemble(*args: Any, **kwargs: Any) -> Path:
        events.append(("assemble start", time.monotonic()))
        return real_assemble(*args, **kwargs)

    monkeypatch.setattr(runner, "_local_cluster", local_cluster)
    monkeypatch.setattr(runner, "assemble", assemble)
    serial = run(config, tmp_path / "serial.nc", pipeline=WithField(), progress=False)
    events.clear()
    out = run(config, tmp_path / "dask.nc", pipeline=WithField(), workers=1, progress=False)
    done = time.monotonic()
    when = dict(events)
    assert set(when) == {"close start", "assemble start", "close end"}
    assert when["assemble start"] < when["close end"] <= done  # overlapped, then waited for
    assert_same_content(out, serial)


# ------------------------------------------- the workers' malloc and threads, the task order
def test_dask_tasks_start_with_the_map_years(tmp_path: Path) -> None:
    """One single-threaded worker runs the tasks in the order they are given: the map years
    (the longest) first, then the others in order (the LPT rule), not the years' order."""
    distributed = pytest.importorskip("distributed")
    config = load_config(write_config(tmp_path / "in", map_years=(1992, 1994)))
    _SEEN.clear()
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as one:
        run(config, tmp_path / "o.nc", pipeline=WithField(), scheduler=one.scheduler_address)
    assert [y for y, _ in _SEEN] == [1992, 1994, 1990, 1991, 1993, 1995]


class _MapYearsCtx(dict):  # type: ignore[type-arg]
    """A context that knows its map years, as the run's ``RunContext`` does."""

    map_years = {1995, 1991}


class WithDefaultMapYears(WithField):
    """The map years are the pipeline's (its default rule), not the configuration's."""

    def prepare(self, config: RunConfig) -> dict[str, Any]:
        return _MapYearsCtx(super().prepare(config))


def test_dask_tasks_start_with_the_pipelines_map_years(tmp_path: Path) -> None:
    """With ``[attribution] map_years`` empty the run's context applies its default rule:
    the tasks start with the years the context names, not with none."""
    distributed = pytest.importorskip("distributed")
    config = load_config(write_config(tmp_path / "in", map_years=()))
    assert config.attribution.map_years == []
    _SEEN.clear()
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as one:
        run(
            config,
            tmp_path / "o.nc",
            pipeline=WithDefaultMapYears(),
            scheduler=one.scheduler_address,
        )
    assert [y for y, _ in _SEEN] == [1991, 1995, 1990, 1992, 1993, 1994]


def test_longest_first_keeps_each_group_in_order() -> None:
    from trajectoire.batch.runner import _longest_first

    assert _longest_first([2015, 2016, 2017, 2020, 2022], [2020, 2016, 1990]) == [
        2016,
        2020,
        2015,
        2017,
        2022,
    ]
    assert _longest_first([3, 1, 2], []) == [3, 1, 2]


class _FakeClient:
    def __init__(self, found: dict[str, str | None] | Exception) -> None:
        self.found = found

    def run(self, fn: Any) -> dict[str, str | None]:
        if isinstance(self.found, Exception):
            raise self.found
        return self.found


def test_existing_workers_with_malloc_trim_get_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from trajectoire.batch.runner import _check_worker_malloc

    with caplog.at_level("WARNING", logger="trajectoire.batch.runner"):
        _check_worker_malloc(_FakeClient({"tcp://a": "65536", "tcp://b": None}))
    [record] = caplog.records
    msg = record.getMessage()
    assert "1 of 2 Dask worker(s)" in msg and "MALLOC_TRIM_THRESHOLD_=65536" in msg
    assert "pre-spawn-environ.MALLOC_TRIM_THRESHOLD_: null" in msg  # the fix
    caplog.clear()
    with caplog.at_level("WARNING", logger="trajectoire.batch.runner"):
        _check_worker_malloc(_FakeClient({"tcp://a": None}))
        _check_worker_malloc(_FakeClient(OSError("worker gone")))
    assert not caplog.records


@pytest.mark.slow
def test_local_workers_start_without_malloc_trim_and_with_their_share_of_threads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """distributed's nanny would set ``MALLOC_TRIM_THRESHOLD_=65536`` in each worker (which
    turns glibc's dynamic mmap threshold off: ~1.6x slower years); ours do not have it, and
    each has its share of threads for numba, the FFTs and the part writer."""
    pytest.importorskip("distributed")
    from contextlib import ExitStack

    from distributed import Client

    from trajectoire.batch.runner import MALLOC_TRIM_ENV, _local_cluster

    monkeypatch.delenv(MALLOC_TRIM_ENV, raising=False)

    def environment() -> dict[str, str | None]:
        import dask

        keys = (MALLOC_TRIM_ENV, "NUMBA_NUM_THREADS", "TRAJECTOIRE_FFT_THREADS")
        found: dict[str, str | None] = {
            k: os.environ.get(k) for k in (*keys, "TRAJECTOIRE_IO_THREADS")
        }
        found["profile"] = str(dask.config.get("distributed.worker.profile.enabled"))
        return found

    with ExitStack() as stack:
        cluster = _local_cluster(1, 1, stack)
        with Client(cluster) as client:
            [env] = client.run(environment).values()
    assert env == {
        MALLOC_TRIM_ENV: None,
        "NUMBA_NUM_THREADS": "1",
        "TRAJECTOIRE_FFT_THREADS": "1",
        "TRAJECTOIRE_IO_THREADS": "1",
        "profile": "False",  # no statistical profiler in the workers' event loop
    }
    assert MALLOC_TRIM_ENV not in os.environ  # the nanny did not set it here either


_NUMBA_THREADS_CHILD = """
import os, sys
os.environ.pop("NUMBA_NUM_THREADS", None)
os.environ["NUMBA_NUM_THREADS"] = "2"  # what numba reads at import (a core count)
import numba
from numba.np.ufunc import parallel
from trajectoire.batch.runner import _numba_threads_as_set
if sys.argv[1] == "launched":  # a kernel ran before (loaded from numba's cache)
    @numba.njit(parallel=True)
    def first(n):
        s = 0.0
        for i in numba.prange(n):
            s += i
        return s
    first(10)
os.environ["NUMBA_NUM_THREADS"] = "1"  # what the nanny sets afterwards
_numba_threads_as_set()
@numba.njit(parallel=True)
def kernel(n):  # compiled after: refused if the environment disagrees with the pool
    s = 0.0
    for i in numba.prange(n):
        s += i
    return s
kernel(1000)
print(numba.get_num_threads(), parallel.NUM_THREADS, numba.config.NUMBA_NUM_THREADS)
"""


@pytest.mark.parametrize("state", ["fresh", "launched"])
def test_numba_threads_as_set_in_a_worker_that_imported_numba_first(state: str) -> None:
    """A worker imports numba before the nanny sets ``NUMBA_NUM_THREADS=1``: the pool its
    kernels use must then be one thread (before the fix the threading layer launched the
    count read at import, 2 here, and ``get_num_threads()`` said 2), and compiling a new
    parallel kernel afterwards must not fail; where the pool was launched already, the work
    is limited to one thread."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _NUMBA_THREADS_CHILD, state],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    used, launched, configured = (int(v) for v in done.stdout.split())
    assert used == 1
    if state == "fresh":
        assert launched == configured == 1  # the pool is the size asked
    else:
        assert launched == configured == 2  # launched before: kept, the work limited
