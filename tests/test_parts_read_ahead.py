"""A Dask run reads each year's part as its year ends, while its workers compute (issue 18):
the assembly then reads only the parts it lacks, and the output is the same."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

import fake_pipeline
from fake_pipeline import assert_same_content, write_config
from trajectoire.batch import runner
from trajectoire.config import RunConfig, load_config
from trajectoire.runner import parts_dir_of, run


@pytest.fixture
def config(tmp_path: Path) -> RunConfig:
    return load_config(write_config(tmp_path / "in"))


@pytest.fixture
def serial(config: RunConfig, tmp_path: Path) -> Path:
    (tmp_path / "ref").mkdir()
    return run(config, tmp_path / "ref" / "out.nc", pipeline=fake_pipeline, progress=False)


@pytest.fixture
def scheduler() -> Any:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as cluster:
        yield cluster.scheduler_address


def _spy(monkeypatch: pytest.MonkeyPatch, fail: set[str] | None = None) -> list[tuple[str, str]]:
    """Record each part read (who read it: ahead, or the assembly); the parts named in
    `fail` cannot be read ahead."""
    seen: list[tuple[str, str]] = []
    real = runner._read_part
    phase = {"now": "ahead"}

    def read_part(path: Path) -> Any:
        seen.append((phase["now"], Path(path).name))
        if phase["now"] == "ahead" and fail and Path(path).name in fail:
            raise OSError("simulated: the part cannot be read now")
        return real(path)

    real_assemble = runner.assemble

    def assemble(*args: Any, **kwargs: Any) -> Path:
        phase["now"] = "assembly"
        return real_assemble(*args, **kwargs)

    monkeypatch.setattr(runner, "_read_part", read_part)
    monkeypatch.setattr(runner, "assemble", assemble)
    return seen


def test_each_part_read_once_while_the_workers_compute(
    config: RunConfig, serial: Path, scheduler: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _spy(monkeypatch)
    out = run(config, tmp_path / "dask.nc", pipeline=fake_pipeline, scheduler=scheduler)
    years = [f"year-{y}.nc" for y in range(1990, 1996)]
    assert sorted(name for who, name in seen if who == "ahead") == years
    assert [name for who, name in seen if who == "assembly"] == []  # nothing read twice
    assert_same_content(out, serial)
    assert not parts_dir_of(out).exists()


def test_a_part_not_read_ahead_is_read_by_the_assembly(
    config: RunConfig, serial: Path, scheduler: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _spy(monkeypatch, fail={"year-1992.nc"})
    out = run(config, tmp_path / "dask.nc", pipeline=fake_pipeline, scheduler=scheduler)
    assert [name for who, name in seen if who == "assembly"] == ["year-1992.nc"]
    assert_same_content(out, serial)


def test_serial_runs_read_their_parts_at_the_assembly(
    config: RunConfig, serial: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _spy(monkeypatch)
    (tmp_path / "again").mkdir()
    out = run(config, tmp_path / "again" / "out.nc", pipeline=fake_pipeline, progress=False)
    assert sorted(who for who, _ in seen) == ["assembly"] * 6
    assert_same_content(out, serial)


def test_read_parts_takes_what_was_read_ahead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same datasets, descriptions and order from parts read ahead or now."""
    cfg = load_config(write_config(tmp_path / "kept"))
    out = tmp_path / "kept" / "out.nc"
    monkeypatch.setattr(runner, "_remove_parts", lambda parts: None)  # the parts kept
    run(cfg, out, pipeline=fake_pipeline, progress=False)
    parts = parts_dir_of(out)
    paths = [parts / f"year-{y}.nc" for y in range(1990, 1996)]
    ahead = runner._PartsRead()
    for p in paths[::2]:
        ahead.add(str(p))  # the workers give the path as text
    assert sorted(ahead) == paths[::2]
    now = runner._read_parts(paths)
    mixed = runner._read_parts(paths, ahead)
    assert mixed[2] == now[2]
    assert list(mixed[1]) == list(now[1])
    for a, b in zip(mixed[0], now[0], strict=True):
        assert a.identical(b)
    for name in now[1]:
        assert mixed[1][name].shape == now[1][name].shape
        assert mixed[1][name].attrs == now[1][name].attrs


def test_reading_ahead_waits_for_a_part_being_written_in_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker running in the client's process (``LocalCluster(processes=False)``) writes
    its parts under the process's HDF5 lock; the client's reading ahead takes the same lock
    (HDF5 is not thread-safe: a CI run crashed in a segmentation fault without it)."""
    import threading

    cfg = load_config(write_config(tmp_path / "kept"))
    out = tmp_path / "kept" / "out.nc"
    monkeypatch.setattr(runner, "_remove_parts", lambda parts: None)  # the parts kept
    run(cfg, out, pipeline=fake_pipeline, progress=False)
    part = parts_dir_of(out) / "year-1990.nc"
    # the writing side holds it while it writes
    held: list[bool] = []
    real_write = runner.write_netcdf
    monkeypatch.setattr(
        runner,
        "write_netcdf",
        lambda *a, **k: held.append(runner._HDF5_LOCK.locked()) or real_write(*a, **k),
    )
    ds = xr.Dataset({"v": ("x", np.arange(3.0))})
    runner._store_part(ds, tmp_path / "other" / "p.nc", dtype="float32", significant_digits=None)
    assert held == [True]
    # the reading side waits for it
    ahead = runner._PartsRead()
    with runner._HDF5_LOCK:  # a part being written by a worker thread
        reader = threading.Thread(target=ahead.add, args=(str(part),))
        reader.start()
        reader.join(0.5)
        assert reader.is_alive() and part not in ahead
    reader.join(30)
    assert not reader.is_alive() and part in ahead
