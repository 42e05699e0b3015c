"""Tests of trajectoire.runner: parts, resume after SIGKILL, Dask, no partial output."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

import fake_pipeline
from fake_pipeline import assert_same_content, write_config
from trajectoire.config import RunConfig, load_config
from trajectoire.errors import ConfigError, InputError, TrajectoireError
from trajectoire.runner import Pipeline, parts_dir_of, run

TESTS = Path(__file__).resolve().parent


class Recording:
    """The fake pipeline, recording the years it computes; can fail at one year."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.computed: list[int] = []
        self.prepared = 0
        self.fail_at = fail_at

    def prepare(self, config: RunConfig) -> Any:
        self.prepared += 1
        return fake_pipeline.prepare(config)

    def years(self, ctx: Any) -> list[int]:
        return fake_pipeline.years(ctx)

    def compute_year(self, ctx: Any, year: int) -> xr.Dataset:
        if year == self.fail_at:
            raise RuntimeError(f"simulated crash in {year}")
        self.computed.append(year)
        return fake_pipeline.compute_year(ctx, year)

    def static_variables(self, ctx: Any) -> xr.Dataset:
        return fake_pipeline.static_variables(ctx)

    def global_attributes(self, ctx: Any) -> dict[str, Any]:
        return fake_pipeline.global_attributes(ctx)


@pytest.fixture
def config(tmp_path: Path) -> RunConfig:
    return load_config(write_config(tmp_path / "in"))


@pytest.fixture
def reference(config: RunConfig, tmp_path: Path) -> Path:
    """An uninterrupted serial run."""
    (tmp_path / "ref").mkdir()
    return run(config, tmp_path / "ref" / "out.nc", pipeline=fake_pipeline, progress=False)


def test_fake_pipeline_follows_protocol() -> None:
    assert isinstance(fake_pipeline, Pipeline)
    assert isinstance(Recording(), Pipeline)


def test_run_writes_output_and_removes_parts(reference: Path) -> None:
    assert reference.is_file()
    assert not parts_dir_of(reference).exists()
    assert sorted(p.name for p in reference.parent.iterdir()) == ["out.nc"]
    with xr.open_dataset(reference) as ds:
        assert list(ds["year"].values) == list(range(1990, 1996))


def test_failed_run_leaves_no_output_and_resume_computes_the_rest(
    config: RunConfig, reference: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.nc"
    with pytest.raises(RuntimeError, match="simulated crash in 1992"):
        run(config, out, pipeline=Recording(fail_at=1992), progress=False)
    assert not out.exists() and not Path(f"{out}.tmp").exists()
    parts = parts_dir_of(out)
    finished = ["static.nc", "year-1990.nc", "year-1991.nc"]
    # each finished part has its checksum beside it (issue 13), nothing else is left
    expected = sorted([*finished, *(f"{n}.sha256" for n in finished)])
    assert sorted(p.name for p in parts.iterdir()) == expected
    assert not Path(f"{out}.lock").exists()
    again = Recording()
    run(config, out, pipeline=again, resume=True, progress=False)
    assert again.computed == [1992, 1993, 1994, 1995]
    assert not parts.exists()
    assert_same_content(out, reference)


def test_finished_parts_that_years_leaves_out_are_said(
    config: RunConfig, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An interrupted run resumed over fewer years removed the other finished parts with
    the rest once the output was written, without a word: said before computing."""
    out = tmp_path / "out.nc"
    with pytest.raises(RuntimeError):
        run(config, out, pipeline=Recording(fail_at=1994), progress=False)
    with caplog.at_level("WARNING", logger="trajectoire"):
        run(config, out, pipeline=Recording(), years=[1990, 1991], resume=True, progress=False)
    said = [r.getMessage() for r in caplog.records if "which --years leaves out" in r.getMessage()]
    assert len(said) == 1 and "finished parts of 1992, 1993" in said[0], caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="trajectoire"):  # nothing left out: nothing said
        run(config, tmp_path / "b.nc", pipeline=Recording(), years=[1990], progress=False)
    assert "leaves out" not in caplog.text


def test_broken_part_is_recomputed(config: RunConfig, reference: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.nc"
    with pytest.raises(RuntimeError):
        run(config, out, pipeline=Recording(fail_at=1993), progress=False)
    parts = parts_dir_of(out)
    (parts / "year-1991.nc").write_bytes(b"truncated garbage")
    (parts / "year-1993.nc.tmp").write_bytes(b"left by a killed writer")
    again = Recording()
    run(config, out, pipeline=again, resume=True, progress=False)
    assert again.computed == [1991, 1993, 1994, 1995]
    assert_same_content(out, reference)


def test_all_parts_present_skips_prepare(config: RunConfig, tmp_path: Path) -> None:
    out = tmp_path / "out.nc"
    with pytest.raises(RuntimeError):
        run(config, out, pipeline=Recording(fail_at=1995), progress=False)
    rec = Recording()
    run(config, out, pipeline=rec, years=range(1990, 1995), resume=True, progress=False)
    assert rec.prepared == 0 and rec.computed == []
    with xr.open_dataset(out) as ds:
        assert list(ds["year"].values) == [1990, 1991, 1992, 1993, 1994]
        assert list(ds.attrs["map_years"].ravel()) == [1990]


def test_resume_of_a_finished_run_computes_nothing(
    config: RunConfig, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """--resume after a run that finished used to prepare and compute every year again;
    the output of the same configuration over the same years is kept as it is. Other years
    or another configuration are computed."""
    out = tmp_path / "out.nc"
    run(config, out, pipeline=fake_pipeline, progress=False)
    before = out.stat().st_mtime_ns
    rec = Recording()
    with caplog.at_level("WARNING", logger="trajectoire"):
        run(config, out, pipeline=rec, resume=True, progress=False)
    assert rec.prepared == 0 and rec.computed == []
    assert out.stat().st_mtime_ns == before
    assert "already complete for this configuration" in caplog.text
    fewer = Recording()
    run(config, out, pipeline=fewer, years=range(1990, 1992), resume=True, progress=False)
    assert fewer.computed == [1990, 1991]
    out.write_bytes(out.read_bytes()[:4096])  # a damaged (truncated) output: computed again
    broken = Recording()
    run(config, out, pipeline=broken, years=range(1990, 1992), resume=True, progress=False)
    assert broken.computed == [1990, 1991]


def test_resume_of_a_finished_but_damaged_output_computes_it_again(
    config: RunConfig, reference: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A byte flipped in a finished output (a chunk no longer decodes): --resume said
    'already complete, nothing to compute' and kept it, where `trajectoire info` calls it
    damaged. It is checked as info checks it, said, and computed again."""
    out = tmp_path / "out.nc"
    run(config, out, pipeline=fake_pipeline, progress=False)
    from trajectoire.io.netcdf import check_output

    data = bytearray(out.read_bytes())
    for at in range(len(data) // 2, len(data), 97):  # flip bytes until a chunk breaks
        data[at] ^= 0xFF
        out.write_bytes(bytes(data))
        try:
            check_output(out)
        except InputError:
            break
    else:  # pragma: no cover - the file has chunks past its middle
        pytest.fail("no flipped byte damaged a chunk")
    rec = Recording()
    with caplog.at_level("WARNING", logger="trajectoire"):
        run(config, out, pipeline=rec, resume=True, progress=False)
    assert rec.computed == list(range(1990, 1996))
    said = [r.getMessage() for r in caplog.records if "damaged" in r.getMessage()]
    assert len(said) == 1 and "computing it again" in said[0] and "\n" not in said[0]
    assert "already complete" not in caplog.text
    check_output(out)
    assert_same_content(out, reference)


def test_unusable_parts_are_said_before_they_are_recomputed(
    config: RunConfig, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A part that cannot be read (truncated), that holds another year, or a static part
    without its checksum was recomputed with an INFO line only: with -q nothing said that
    a file on disk was bad."""
    out = tmp_path / "out.nc"
    with pytest.raises(RuntimeError):
        run(config, out, pipeline=Recording(fail_at=1993), progress=False)
    parts = parts_dir_of(out)
    (parts / "year-1990.nc").write_bytes((parts / "year-1990.nc").read_bytes()[:300])
    (parts / "year-1991.nc").write_bytes((parts / "year-1992.nc").read_bytes())
    for checksum in parts.glob("static.nc*.sha256"):
        checksum.unlink()
    rec = Recording()
    with caplog.at_level("WARNING", logger="trajectoire"):
        run(config, out, pipeline=rec, resume=True, progress=False)
    assert rec.computed == [1990, 1991, 1993, 1994, 1995]
    said = [r.getMessage() for r in caplog.records]
    bad = [m for m in said if m.startswith("resume: the parts of 1990, 1991 and the static ")]
    assert len(bad) == 1 and "cannot be used" in bad[0] and "recomputing them" in bad[0], said


class DefaultMaps(Recording):
    """The fake pipeline with map years of its own rule, not listed in the configuration
    (as the run's pipeline does when ``[attribution] map_years`` is empty)."""

    def prepare(self, config: RunConfig) -> Any:
        ctx = super().prepare(config)
        ctx.map_years = [1991, 1995]
        return ctx


def test_map_years_attribute_is_the_years_with_maps(tmp_path: Path) -> None:
    """``map_years`` names the years of the file whose contribution maps the pipeline made,
    as integers, also when the configuration lists none; the accessor reads them back."""
    import trajectoire  # noqa: F401  (the accessor)

    config = load_config(write_config(tmp_path / "in", map_years=()))
    out = run(
        config, tmp_path / "a.nc", pipeline=DefaultMaps(), years=range(1990, 1995), progress=False
    )
    with xr.open_dataset(out) as ds:
        assert ds.attrs["map_years"].dtype.kind == "i"
        assert list(ds.attrs["map_years"].ravel()) == [1991]
        assert ds.trajectoire.map_years == [1991]
        maps = ds["contribution"].notnull().any(("sector", "pollutant", "y", "x"))
        assert [int(y) for y in ds["year"][maps.values].values] == [1991]
    out = run(config, tmp_path / "b.nc", pipeline=DefaultMaps(), progress=False)
    with xr.open_dataset(out) as ds:
        assert ds.trajectoire.map_years == [1991, 1995]


def test_parts_of_another_configuration(
    config: RunConfig, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "out.nc"
    with pytest.raises(RuntimeError):
        run(config, out, pipeline=Recording(fail_at=1992), progress=False)
    other = load_config(write_config(tmp_path / "other", pollutants=("NOx", "SO2")))
    with pytest.raises(ConfigError, match=r"another configuration.*--resume.*or remove"):
        run(other, out, pipeline=Recording(), progress=False)
    again = Recording()
    with caplog.at_level("WARNING", logger="trajectoire"):
        run(other, out, pipeline=again, resume=True, progress=False)
    assert again.computed == list(range(1990, 1996))
    said = [r.getMessage() for r in caplog.records if "another configuration" in r.getMessage()]
    assert len(said) == 1, said
    assert said[0].startswith("resume: the parts of 1990, 1991 and the static part in "), said
    with xr.open_dataset(out) as ds:
        assert list(ds["pollutant"].values) == ["NOx", "SO2"]


def test_years_outside_configuration(config: RunConfig, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"--years: 1980 outside.*1990..1995"):
        run(config, tmp_path / "o.nc", pipeline=Recording(), years=[1980, 1990])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


def test_unwritable_output_checked_before_computing(config: RunConfig, tmp_path: Path) -> None:
    rec = Recording()
    with pytest.raises(InputError, match="does not exist"):
        run(config, tmp_path / "nodir" / "o.nc", pipeline=rec)
    assert rec.prepared == 0
    assert not (tmp_path / "nodir").exists()


def test_workers_and_scheduler_exclusive(config: RunConfig, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="either --workers or --scheduler"):
        run(config, tmp_path / "o.nc", pipeline=Recording(), workers=2, scheduler="tcp://x:1")
    with pytest.raises(ConfigError, match="--workers must be an integer >= 1"):
        run(config, tmp_path / "o.nc", pipeline=Recording(), workers=0)


_CHILD = """
import sys
sys.path.insert(0, {tests!r})
import fake_pipeline
from trajectoire.runner import run
run({config!r}, {out!r}, pipeline=fake_pipeline, progress=False)
"""


_RNG = __import__("random").Random(2026)
#: (parts finished before the kill, then a random delay [s] into the next year's work)
_KILL_POINTS = [(0, 0.0), *((k, round(_RNG.uniform(0.0, 0.6), 3)) for k in (1, 2, 4))]


@pytest.mark.parametrize(("after", "delay"), _KILL_POINTS)
def test_sigkill_then_resume_gives_identical_content(
    config: RunConfig, reference: Path, tmp_path: Path, after: int, delay: float
) -> None:
    """A real subprocess killed with SIGKILL at seeded random points of the run (before the
    first part, or a random time after the k-th); --resume computes only the rest."""
    out = tmp_path / "killed" / "out.nc"
    out.parent.mkdir()
    parts = parts_dir_of(out)
    code = _CHILD.format(tests=str(TESTS), config=str(config.source_path), out=str(out))
    env = {**os.environ, "FAKE_PIPELINE_SLEEP": "0.6"}
    proc = subprocess.Popen([sys.executable, "-c", code], env=env)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            done = list(parts.glob("year-*.nc.sha256")) if parts.is_dir() else []
            if len(done) >= after or proc.poll() is not None:
                break
            time.sleep(0.02)
        time.sleep(delay)
        assert proc.poll() is None, "the run finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert not out.exists()
    # a part counts as finished once its checksum is written beside it (issue 13): one
    # killed between the two is recomputed
    finished = sorted(int(p.name[5:9]) for p in parts.glob("year-*.nc.sha256"))
    assert after <= len(finished) < 6
    again = Recording()
    run(config, out, pipeline=again, resume=True, progress=False)
    assert again.computed == [y for y in range(1990, 1996) if y not in finished]
    assert not parts.exists()
    assert_same_content(out, reference)


@pytest.mark.slow
def test_local_cluster_two_workers_identical_to_serial(
    config: RunConfig, reference: Path, tmp_path: Path
) -> None:
    pytest.importorskip("distributed")
    out = tmp_path / "dask.nc"
    run(config, out, pipeline=fake_pipeline, workers=2, progress=False)
    assert not parts_dir_of(out).exists()
    assert_same_content(out, reference)


def test_existing_scheduler_identical_to_serial(
    config: RunConfig, reference: Path, tmp_path: Path
) -> None:
    """``scheduler=ADDRESS`` path, on a light in-process cluster (threads)."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as cluster:
        out = tmp_path / "sched.nc"
        run(config, out, pipeline=fake_pipeline, scheduler=cluster.scheduler_address)
    assert_same_content(out, reference)


def test_unreachable_scheduler(config: RunConfig, tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    import dask

    with (
        dask.config.set({"distributed.comm.timeouts.connect": "1s"}),
        pytest.raises(InputError, match="cannot connect"),
    ):
        run(config, tmp_path / "o.nc", pipeline=Recording(), scheduler="tcp://127.0.0.1:9")


def test_quantised_run_copies_quantised_chunks(reference: Path, tmp_path: Path) -> None:
    """With significant_digits the parts are quantised once and copied as they are."""
    import h5py
    import netCDF4
    import numpy as np

    cfg = load_config(write_config(tmp_path / "q", extra="[output]\nsignificant_digits = 3\n"))
    out = run(cfg, tmp_path / "q" / "out.nc", pipeline=fake_pipeline, progress=False)
    with xr.open_dataset(out) as q, xr.open_dataset(reference) as ref:
        # emission is lossless; the other float maps within 3 significant digits
        np.testing.assert_array_equal(q["emission"].values, ref["emission"].values)
        for name in ("concentration", "contribution"):
            a, b = q[name].values, ref[name].values
            assert np.array_equal(np.isnan(a), np.isnan(b))
            ok = np.isfinite(b)
            assert not np.array_equal(a[ok], b[ok])  # really quantised
            np.testing.assert_allclose(a[ok], b[ok], rtol=5e-3)
    with netCDF4.Dataset(out) as nc:
        assert (
            nc["contribution"].getncattr("_QuantizeGranularBitRoundNumberOfSignificantDigits") == 3
        )
        assert "_QuantizeGranularBitRoundNumberOfSignificantDigits" not in nc["emission"].ncattrs()
    with h5py.File(out, "r") as f:
        contrib = f["contribution"]
        per_year = int(
            np.prod(
                [-(-n // c) for n, c in zip(contrib.shape[1:], contrib.chunks[1:], strict=True)]
            )
        )
        # every tile of the 2 map years, none for the other 4 years (they read as NaN)
        assert contrib.id.get_num_chunks() == 2 * per_year


# ------------------------------------------------------------------ run safety (issue 13)
def test_second_run_to_the_same_output_is_refused_naming_the_first(
    config: RunConfig, tmp_path: Path
) -> None:
    from trajectoire.batch.safety import output_lock

    out = tmp_path / "o.nc"
    rec = Recording()
    with (
        output_lock(out),
        pytest.raises(InputError, match=rf"pid {os.getpid()} on .*another --out"),
    ):
        run(config, out, pipeline=rec, progress=False)
    assert rec.prepared == 0
    # the lock is released with the run: the next run goes through
    run(config, out, pipeline=fake_pipeline, progress=False)
    assert not Path(f"{out}.lock").exists()


def test_concurrent_subprocess_run_is_refused_and_finishes_intact(
    config: RunConfig, reference: Path, tmp_path: Path
) -> None:
    """Two real processes on one --out: the second stops at once, the first is unharmed."""
    out = tmp_path / "busy" / "out.nc"
    out.parent.mkdir()
    code = _CHILD.format(tests=str(TESTS), config=str(config.source_path), out=str(out))
    env = {**os.environ, "FAKE_PIPELINE_SLEEP": "0.3"}
    proc = subprocess.Popen([sys.executable, "-c", code], env=env)
    try:
        deadline = time.monotonic() + 120
        while not Path(f"{out}.lock").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        with pytest.raises(InputError, match=rf"pid {proc.pid} on"):
            run(config, out, pipeline=fake_pipeline, progress=False)
        assert proc.wait(timeout=120) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert_same_content(out, reference)


def test_damaged_part_is_detected_and_recomputed(
    config: RunConfig, reference: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Flipped bytes in a finished part: --resume recomputes it (the log says so)."""
    out = tmp_path / "out.nc"
    with pytest.raises(RuntimeError):
        run(config, out, pipeline=Recording(fail_at=1993), progress=False)
    part = parts_dir_of(out) / "year-1991.nc"
    data = bytearray(part.read_bytes())
    for k in range(len(data) // 2, len(data) // 2 + 16):  # inside the data, not the header
        data[k] ^= 0xFF
    part.write_bytes(bytes(data))
    again = Recording()
    with caplog.at_level("WARNING", logger="trajectoire"):
        run(config, out, pipeline=again, resume=True, progress=False)
    assert again.computed == [1991, 1993, 1994, 1995]
    said = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("resume: the part of 1991 in ") and "is damaged" in m for m in said)
    assert_same_content(out, reference)


def test_part_without_checksum_is_recomputed(config: RunConfig, tmp_path: Path) -> None:
    out = tmp_path / "out.nc"
    with pytest.raises(RuntimeError):
        run(config, out, pipeline=Recording(fail_at=1992), progress=False)
    (parts_dir_of(out) / "year-1990.nc.sha256").unlink()
    again = Recording()
    run(config, out, pipeline=again, resume=True, progress=False)
    assert again.computed == [1990, 1992, 1993, 1994, 1995]


def test_run_failing_before_any_year_leaves_nothing(config: RunConfig, tmp_path: Path) -> None:
    out = tmp_path / "o.nc"
    with pytest.raises(RuntimeError, match="simulated crash in 1990"):
        run(config, out, pipeline=Recording(fail_at=1990), progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


_CLI_CHILD = """
import sys
sys.path.insert(0, {tests!r})
import fake_pipeline
from trajectoire.batch import runner
runner._default_pipeline = lambda: fake_pipeline
from trajectoire.cli import main
sys.exit(main(["run", {config!r}, "--out", {out!r}, "--quiet"]))
"""


@pytest.mark.parametrize("wait_for_years", [0, 2])
def test_sigterm_then_resume_gives_identical_content(
    config: RunConfig, reference: Path, tmp_path: Path, wait_for_years: int
) -> None:
    """SIGTERM to `trajectoire run`: one line, exit 143, the finished years kept (or nothing
    left when none had finished); --resume then gives the uninterrupted output."""
    out = tmp_path / "term" / "out.nc"
    out.parent.mkdir()
    parts = parts_dir_of(out)
    code = _CLI_CHILD.format(tests=str(TESTS), config=str(config.source_path), out=str(out))
    env = {**os.environ, "FAKE_PIPELINE_SLEEP": "0.6"}
    proc = subprocess.Popen(
        [sys.executable, "-c", code], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            done = list(parts.glob("year-*.nc")) if parts.is_dir() else []
            if len(done) >= wait_for_years and Path(f"{out}.lock").exists():
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the run finished before it could be stopped"
        os.kill(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, err
    lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith(("20", "INFO"))]
    assert lines[-1].startswith("trajectoire: terminated (SIGTERM)."), err
    assert "Traceback" not in err
    assert not out.exists() and not Path(f"{out}.lock").exists()
    finished = sorted(parts.glob("year-*.nc")) if parts.is_dir() else []
    if not finished:
        assert sorted(p.name for p in out.parent.iterdir()) == []
    run(config, out, pipeline=Recording(), resume=True, progress=False)
    assert_same_content(out, reference)


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("TRAJECTOIRE_DEFLATE", "lz4", "expected one of"),
        ("TRAJECTOIRE_IO_THREADS", "two", "expected an integer >= 1"),
        ("TRAJECTOIRE_IO_THREADS", "0", "expected an integer >= 1"),
        ("TRAJECTOIRE_FFT_THREADS", "-3", "expected a positive number of threads"),
        ("SOURCE_DATE_EPOCH", "yesterday", "expected whole seconds"),
        # numba read it at import, said so in a traceback's text and ran on (2026-12-05)
        ("NUMBA_NUM_THREADS", "abc", "expected an integer >= 1"),
        # read only by --workers N: a serial run took it without a word
        ("TRAJECTOIRE_WORKER_THREADS", "x", "expected an integer >= 1"),
    ],
)
def test_a_bad_environment_variable_stops_before_prepare(
    config: RunConfig,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
    expected: str,
) -> None:
    monkeypatch.setenv(variable, value)
    pipe = Recording()
    out = tmp_path / "o" / "out.nc"
    out.parent.mkdir()
    with pytest.raises(TrajectoireError) as info:
        run(config, out, pipeline=pipe, progress=False)
    msg = str(info.value)
    assert f"{variable}={value!r}" in msg and expected in msg and "\n" not in msg
    assert pipe.prepared == 0 and not any(out.parent.iterdir())


@pytest.mark.parametrize("value", ["yesterday", "1.5e9", ""])
def test_a_bad_source_date_epoch_does_not_break_the_import(value: str) -> None:
    """numpy's f2py reads SOURCE_DATE_EPOCH with int() when scipy imports it: the package
    still imports and the variable is as it was."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": value}
    probe = "import os, trajectoire, numpy.f2py; print(repr(os.environ['SOURCE_DATE_EPOCH']))"
    proc = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == repr(value)


def test_the_command_line_says_a_bad_source_date_epoch_in_one_line(tmp_path: Path) -> None:
    config = write_config(tmp_path / "in")
    out = tmp_path / "o" / "out.nc"
    out.parent.mkdir()
    env = {**os.environ, "SOURCE_DATE_EPOCH": "yesterday"}
    cmd = [sys.executable, "-m", "trajectoire.cli", "run", str(config), "--out", str(out)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "trajectoire: error: environment variable SOURCE_DATE_EPOCH='yesterday': expected "
        "whole seconds since 1970-01-01 UTC (for example 1735689600); unset it to stamp "
        "outputs with the current time."
    ]
    assert not any(out.parent.iterdir())


def test_zlib_and_isal_encoders_give_the_same_values(
    config: RunConfig, reference: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trajectoire.io import chunks

    for encoder in ["zlib"] + (["isal"] if chunks._isal_zlib is not None else []):
        monkeypatch.setenv("TRAJECTOIRE_DEFLATE", encoder)
        (tmp_path / encoder).mkdir()
        out = run(config, tmp_path / encoder / "out.nc", pipeline=fake_pipeline, progress=False)
        assert_same_content(out, reference)


def test_map_years_outside_the_years_asked_are_said(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--years`` that leave out the configured map years: the run says which have no
    contribution maps in this output (it was silent); years that keep them say nothing. The
    file's ``map_years`` names the map years it holds, and is absent when it holds none
    (it was the configured list, given by the pipeline as the real one does)."""
    cfg = load_config(write_config(tmp_path, last_year=1993, map_years=(1990, 1993)))
    attrs = fake_pipeline.global_attributes
    monkeypatch.setattr(
        fake_pipeline,
        "global_attributes",
        lambda ctx: {**attrs(ctx), "map_years": np.asarray(ctx.map_years, dtype="int32")},
    )
    with caplog.at_level("WARNING", logger="trajectoire"):
        run(cfg, tmp_path / "a.nc", years=[1991, 1992], pipeline=fake_pipeline, progress=False)
    said = [r.getMessage() for r in caplog.records if "map_years" in r.getMessage()]
    assert said == [
        "[attribution] map_years 1990, 1993: not among the years computed (--years 1991, "
        "1992); this output has no contribution maps of them."
    ]
    with xr.open_dataset(tmp_path / "a.nc") as ds:
        assert "map_years" not in ds.attrs and ds.trajectoire.map_years == []
    caplog.clear()
    with caplog.at_level("WARNING", logger="trajectoire"):
        run(cfg, tmp_path / "b.nc", years=[1990, 1993], pipeline=fake_pipeline, progress=False)
    assert not [r for r in caplog.records if "map_years" in r.getMessage()]
    run(cfg, tmp_path / "c.nc", years=[1991, 1993], pipeline=fake_pipeline, progress=False)
    with xr.open_dataset(tmp_path / "b.nc") as b, xr.open_dataset(tmp_path / "c.nc") as c:
        assert b.trajectoire.map_years == [1990, 1993] and c.trajectoire.map_years == [1993]
        assert b.attrs["history"].endswith("--years 1990,1993")
    run(cfg, tmp_path / "d.nc", years=[1992], pipeline=fake_pipeline, progress=False)
    with xr.open_dataset(tmp_path / "a.nc") as a, xr.open_dataset(tmp_path / "d.nc") as d:
        assert a.attrs["history"].endswith("--years 1991:1992")
        assert d.attrs["history"].endswith("--years 1992")  # it was "1992:1992"


@pytest.mark.parametrize("address", ["notanaddress", "tcp://host-without-port"])
def test_a_scheduler_address_without_port_is_said_before_computing(
    config: RunConfig, tmp_path: Path, address: str
) -> None:
    """``--scheduler`` that cannot be an address: one error before anything is prepared (it
    was a ValueError traceback, after prepare); nothing is left behind."""
    rec = Recording()
    with pytest.raises(InputError, match=r"not a scheduler address .* expected tcp://host:port"):
        run(config, tmp_path / "o.nc", pipeline=rec, scheduler=address, progress=False)
    assert rec.computed == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


def test_a_part_renamed_to_another_year_is_recomputed(
    config: RunConfig, reference: Path, tmp_path: Path
) -> None:
    """A part whose file name says another year than the one it holds (renamed with its
    checksum) is not reused by --resume: it gave an output with the year 1990 twice."""
    out = tmp_path / "out.nc"
    with pytest.raises(RuntimeError):
        run(config, out, pipeline=Recording(fail_at=1991), progress=False)
    parts = parts_dir_of(out)
    for suffix in ("", ".sha256"):
        (parts / f"year-1990.nc{suffix}").rename(parts / f"year-1991.nc{suffix}")
    again = Recording()
    run(config, out, pipeline=again, resume=True, progress=False)
    assert again.computed == [1990, 1991, 1992, 1993, 1994, 1995]
    assert_same_content(out, reference)


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (lambda out: Path(f"{out}.lock").mkdir(), r"out\.nc\.lock', the run's lock file, is a"),
        (lambda out: Path(f"{out}.parts").write_text("x"), r"out\.nc\.parts', the directory"),
        (lambda out: Path(f"{out}.tmp").mkdir(), r"out\.nc\.tmp', where the file is written"),
        (lambda out: os.mkfifo(out), r"out\.nc' is a FIFO \(named pipe\), not a regular file"),
    ],
)
def test_what_lies_where_the_run_writes_is_refused_before_computing(
    config: RunConfig, tmp_path: Path, make: Any, said: str
) -> None:
    """A directory where the lock or the temporary output goes, a file where the parts go,
    a FIFO (or a device such as /dev/null) as --out: one InputError before anything is
    prepared (they were Python errors, some after every year; a device was replaced by a
    file)."""
    out = tmp_path / "out.nc"
    make(out)
    rec = Recording()
    with pytest.raises(InputError, match=said):
        run(config, out, pipeline=rec, progress=False)
    assert rec.prepared == 0


def test_signals_in_a_held_block_are_delivered_when_it_ends() -> None:
    """SIGINT inside ``signals_held`` (xarray's file lock held) waits for the block's end,
    then raises KeyboardInterrupt as usual; the handlers are those of before."""
    import signal

    from trajectoire.io.netcdf import signals_held

    # Python's own handler, whatever an earlier test of the session left (a Dask cluster's
    # workers, the CLI's handlers): the test failed in the README's serial run after one
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    done = []

    def held() -> None:
        with signals_held():
            signal.raise_signal(signal.SIGINT)
            done.append("the block went on")

    try:
        with pytest.raises(KeyboardInterrupt):
            held()
        assert done == ["the block went on"]
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, previous)


class LaterVariables(Recording):
    """The fake pipeline whose later years add a small variable (`extra`, per pollutant)
    and whose first year lacks the gridded `contribution` (its map years are later)."""

    def compute_year(self, ctx: Any, year: int) -> xr.Dataset:
        ds = super().compute_year(ctx, year)
        if year == 1990:
            ds = ds.drop_vars("contribution", errors="ignore")
        else:
            ds["extra"] = ds["background"] * 2.0
            ds["extra"].attrs = {"units": "ug m-3", "long_name": "a later variable"}
        return ds


def test_assembly_orders_and_fills_variables_that_later_years_bring(
    config: RunConfig, tmp_path: Path
) -> None:
    """The output holds every variable a year brings, in a fixed order: the small ones,
    then the gridded ones (written chunk by chunk), each group in the first year's order
    followed by what later years bring; a small variable a year lacks is NaN there, a
    gridded one stores no chunk there (NaN); the gridded values are the parts' own."""
    import netCDF4

    out = tmp_path / "o.nc"
    run(config, out, pipeline=LaterVariables(), progress=False)
    with netCDF4.Dataset(out) as nc:
        names = [n for n in nc.variables if "year" in nc[n].dimensions]
    assert names == ["background", "extra", "year", "emission", "concentration", "contribution"]
    with xr.open_dataset(out) as ds:
        ref = LaterVariables()
        ctx = ref.prepare(config)
        for year in (1990, 1993):
            want = ref.compute_year(ctx, year)
            got = ds.sel(year=[year])
            stored = want["emission"].values.astype(got["emission"].dtype)  # float32 output
            np.testing.assert_array_equal(got["emission"].values, stored)
            if year == 1990:
                assert np.isnan(got["extra"].values).all()
                assert np.isnan(got["contribution"].values).all()
            else:
                stored = want["extra"].values.astype(got["extra"].dtype)
                np.testing.assert_array_equal(got["extra"].values, stored)
        assert ds["extra"].attrs["long_name"] == "a later variable"
        assert ds["contribution"].attrs["long_name"] == "contribution of local sources by sector"
