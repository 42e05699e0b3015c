"""Scaling of a batch run on a local Dask cluster: 1, 2 and 4 workers, threads pinned.

Runs ``trajectoire run CONFIG --years ... --workers N`` for each N that fits the machine's
cores (those skipped are said, with the reason), each worker one Dask thread and ``--threads``
numba/FFT threads (default 1: ``TRAJECTOIRE_WORKER_THREADS``), so that the speed-up measures
the workers, not the threads inside them. The context each worker reads is shared through
read-only memory-mapped files (:mod:`trajectoire.batch.shared`). For each N it prints:

* the wall time, the CPU time of the process tree (``getrusage`` of the children) and the
  peak memory of the tree, both resident (RSS: pages shared by the workers counted once per
  worker) and proportional (PSS: each shared page split between the processes mapping it;
  their sum is what the machine really holds): RSS sampled every 0.2 s, PSS every 2 s
  (its reading walks the page tables: read every 0.2 s it took a sixth of a core from the
  workers), and the CPU this benchmark spent sampling;
* the speed-up against one worker, and whether the output is identical to the 1-worker one
  (every variable, values and attributes: ``bench_run._same_content``);
* the time of the serial phases, measured inside the run: the prepare step, the static part
  and the assembly; their share of the 1-worker run is the *serial fraction* s, and
  ``1 / (s + (1 - s) / N)`` the speed-up Amdahl's law allows;
* the load average before and after each case: on a shared machine the speed-up is bounded
  by the free cores, not by the run;
* the machine's own ceiling, measured after the cases: the speed-up N processes get over
  one on reference workloads bound by the core (a scalar loop), by the memory bandwidth
  the cores share (numpy streamed over grid-sized arrays) and by page faults (new grids
  written once), each the median of three alone/together pairs. On a virtual machine
  whose host runs other jobs these move from minute to minute (on the 2-core machine of
  docs/performance.md: 0.8-2.1x for the scalar loop, 1.1-1.7x for the streamed arrays);
  a run's years, a mix of the three, cannot scale better than they do.

``--repeat N`` runs the cases N times in turn (1 worker, 2 workers, 1 worker, ...), each
round with its own table and ceiling, and ends with each worker count's speed-ups and their
median, on which the verdict is given: on a shared machine one round can meet or miss the
target by a burst of the host's other jobs.

Issue 18 targets: on a 2-core machine 2 workers >= 1.6x one on a CPU-bound case; on 4 cores
or more, 4 workers >= 3x one. The default case (the bundled sample at 200 m, 2015-2022:
8 years, so 1, 2 and 4 workers get equal numbers of years) takes about 1 minute with one
worker on a quiet machine; its serial phases are 13-15 % of it. ``--years 1990:2023`` is
the whole sample, the run of the quick start (about 4 minutes with one worker, serial
phases 6 %): see docs/performance.md, runs F.

Usage::

    python benchmarks/bench_scaling.py [--config data/sample/config.toml]
                                       [--years 2015:2022] [--workers 1,2,4] [--threads 1]
                                       [--serial] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_run import _children_cpu, _same_content  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
TARGETS = {2: 1.6, 4: 3.0}  # issue 18: workers -> speed-up against one worker


# ------------------------------------------------------------------------------ child side
def _child(record: Path, argv: list[str]) -> int:
    """Run the CLI with `argv`, timing its serial phases; write them to `record` (JSON)."""
    from trajectoire.batch import pipeline, runner
    from trajectoire.cli import main

    phases: dict[str, float] = {}

    def timed(name: str, fn: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                phases[name] = phases.get(name, 0.0) + time.perf_counter() - t0

        return wrapper

    pipeline.prepare = timed("prepare", pipeline.prepare)  # type: ignore[assignment]
    runner.assemble = timed("assemble", runner.assemble)  # type: ignore[assignment]
    if hasattr(runner, "share_context"):  # absent before issue 18: the bench runs there too
        runner.share_context = timed("share", runner.share_context)  # type: ignore[assignment]
    runner._compute_dask = timed("years", runner._compute_dask)  # type: ignore[assignment]
    runner._compute_serial = timed("years", runner._compute_serial)  # type: ignore[assignment]
    write_part = runner._write_part

    def static_part(year: Any, **kwargs: Any) -> str:
        if year is not None:
            return write_part(year, **kwargs)
        return timed("static", write_part)(year, **kwargs)

    runner._write_part = static_part  # type: ignore[assignment]
    try:
        code = main(argv)
    finally:
        record.write_text(json.dumps(phases))
    return int(code or 0)


# ----------------------------------------------------------------------------- parent side
#: Seconds between two readings of the tree's RSS (``/proc/PID/statm``: a few microseconds
#: a process), between two listings of its processes, and between two readings of its PSS
#: (``/proc/PID/smaps_rollup``, which walks the page tables: 10-20 ms of this process's CPU
#: for a worker of 2 GiB, and it holds the worker's memory map while it reads). Read every
#: 0.2 s, the PSS took 12-15 s of CPU during an 80 s run on 2 workers, a sixth of a core
#: taken from the workers it measured (2026-12-05): the 2-worker case, which needs both
#: cores, paid for it and the 1-worker case, with a core to spare, did not.
RSS_EVERY, TREE_EVERY, PSS_EVERY = 0.2, 1.0, 2.0


class _TreeMemory:
    """Peak RSS and PSS [bytes] of a process and its descendants, sampled cheaply: RSS every
    :data:`RSS_EVERY` s, the process list every :data:`TREE_EVERY` s and PSS (RSS where
    the system gives none) every :data:`PSS_EVERY` s. The PSS peak is a lower bound: a
    peak shorter than :data:`PSS_EVERY` s may fall between two readings."""

    def __init__(self, proc: Any) -> None:
        self.proc = proc
        self.procs: list[Any] = [proc]
        self.rss = self.pss = 0
        self._listed = self._pss_read = -float("inf")

    def sample(self, now: float) -> None:
        """Read the tree's memory at time `now` [s, ``time.perf_counter``]."""
        import psutil

        gone = (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess)
        if now - self._listed >= TREE_EVERY:
            try:
                self.procs = [self.proc, *self.proc.children(recursive=True)]
            except gone:
                return
            self._listed = now
        read_pss = now - self._pss_read >= PSS_EVERY
        rss = pss = 0
        for p in self.procs:
            try:
                if read_pss:
                    info = p.memory_full_info()
                    pss += getattr(info, "pss", info.rss)
                else:
                    info = p.memory_info()
                rss += info.rss
            except gone:
                continue
        self.rss = max(self.rss, rss)
        if read_pss:
            self.pss = max(self.pss, pss)
            self._pss_read = now


def measure(cmd: list[str], env: dict[str, str]) -> dict[str, float]:
    """Run `cmd`: wall [s], CPU of the tree [s], peak tree RSS and PSS [bytes], and the CPU
    [s] this process spent sampling them (:class:`_TreeMemory`), taken from the cores the
    run had."""
    import psutil

    cpu0 = _children_cpu()
    own0 = time.process_time()
    start = time.perf_counter()
    popen = subprocess.Popen(cmd, env=env)
    memory = _TreeMemory(psutil.Process(popen.pid))
    while popen.poll() is None:
        memory.sample(time.perf_counter())
        time.sleep(RSS_EVERY)
    popen.wait()
    wall = time.perf_counter() - start
    if popen.returncode != 0:
        raise SystemExit(f"command failed with exit code {popen.returncode}: {' '.join(cmd)}")
    return {
        "wall": wall,
        "cpu": _children_cpu() - cpu0,
        "rss": float(memory.rss),
        "pss": float(memory.pss),
        "sampling": time.process_time() - own0,
    }


def _load() -> tuple[float, float, float]:
    return os.getloadavg()


#: Work of the machine's own ceiling (:func:`_ceiling`): cells of each streamed array (a
#: 100 m grid of the sample, float64: 22 MB, beyond a core's caches) and passes.
_CEILING_CELLS = 2222 * 1227
_CEILING_PASSES = 60


def _ceiling_work(kind: str) -> float:
    """One process's share of a reference workload; returns its wall time [s].

    ``compute``: a scalar loop that lives in the core's registers (bound by the core);
    ``memory``: numpy sums and products streamed over three grid-sized arrays (bound by
    the memory bandwidth the cores share); ``pages``: new grid-sized arrays written once
    (bound by the kernel's page faults, as fresh grids of a year are).
    """
    import numpy as np

    t0 = time.perf_counter()
    if kind == "compute":
        acc = 0
        for i in range(8_000_000):
            acc += i * i % 7
    elif kind == "memory":
        a = np.full(_CEILING_CELLS, 1.5)
        b = np.full(_CEILING_CELLS, 0.5)
        c = np.empty_like(a)
        t0 = time.perf_counter()
        for _ in range(_CEILING_PASSES):
            np.add(a, b, out=c)
            np.multiply(c, 0.5, out=b)
    else:
        for _ in range(_CEILING_PASSES // 2):
            a = np.empty(_CEILING_CELLS)
            a.fill(1.0)
            del a
    return time.perf_counter() - t0


def _ceiling(n: int) -> dict[str, float]:
    """The speed-up this machine itself allows `n` processes over one, per reference
    workload (:func:`_ceiling_work`), measured now: ``n * t1 / t_n``, with ``t_n`` the
    slowest of `n` processes running the same work side by side. A run's years cannot
    scale better than the mix of these its work is made of."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    found = {}
    with ctx.Pool(n) as pool:
        pool.map(_ceiling_work, ["compute"] * n)  # the processes started and warm
        for kind in ("compute", "memory", "pages"):
            # alone and together in turn, three times: the median of the ratios, so that
            # a burst of the host's other jobs in one measurement does not decide it
            ratios = []
            for _ in range(3):
                alone = pool.apply(_ceiling_work, (kind,))
                together = max(pool.map(_ceiling_work, [kind] * n))
                ratios.append(n * alone / together)
            found[kind] = sorted(ratios)[1]
    return found


def main() -> None:
    """Run the cases and print the table."""
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        raise SystemExit(_child(Path(sys.argv[2]), sys.argv[3:]))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, default=REPO / "data" / "sample" / "config.toml")
    ap.add_argument("--years", default="2015:2022", help="years of the run (default 2015:2022)")
    ap.add_argument("--workers", default="1,2,4", help="worker counts (default 1,2,4)")
    ap.add_argument(
        "--threads", type=int, default=1, help="numba/FFT threads per worker (default 1)"
    )
    ap.add_argument("--serial", action="store_true", help="also time the run without Dask")
    ap.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="rounds of the cases, run in turn (default 1): each round's table, then the "
        "median of the rounds' speed-ups",
    )
    args = ap.parse_args()
    if args.repeat < 1:
        ap.error(f"--repeat {args.repeat}: give 1 or more rounds")
    cores = os.cpu_count() or 1
    wanted = [int(v) for v in args.workers.split(",")]
    counts = [n for n in wanted if n * args.threads <= cores]
    skipped = [n for n in wanted if n * args.threads > cores]
    print(f"machine: {cores} cores; years {args.years}; {args.config}")
    print(f"each worker: 1 Dask thread, {args.threads} numba/FFT thread(s) (pinned)")
    for n in skipped:
        print(
            f"skipped: {n} workers x {args.threads} thread(s) need {n * args.threads} cores, "
            f"this machine has {cores}"
        )
    env = {**os.environ, "TRAJECTOIRE_WORKER_THREADS": str(args.threads)}
    env.setdefault("PYTHONPATH", str(REPO / "src"))
    start_load = _load()
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*start_load))
    workdir = Path(tempfile.mkdtemp(prefix="bench_scaling_"))
    cases: list[tuple[str, int]] = [("serial", 0)] if args.serial else []
    cases += [(f"{n} worker{'s' if n > 1 else ''}", n) for n in counts]
    try:
        speeds: dict[int, list[float]] = {}
        for rnd in range(args.repeat):
            if args.repeat > 1:
                print(f"round {rnd + 1} of {args.repeat}", flush=True)
            rows = []
            for label, n in cases:
                out = workdir / f"r{rnd}w{n}.nc"
                record = workdir / f"r{rnd}w{n}.json"
                cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(record)]
                cmd += ["run", str(args.config), "--years", args.years, "--out", str(out), "-q"]
                if n:
                    cmd += ["--workers", str(n)]
                load0 = _load()[0]
                r = measure(cmd, env)
                phases = json.loads(record.read_text())
                rows.append((label, n, r, phases, load0, _load()[0], out))
                print(f"  done: {label} ({r['wall']:.1f} s)", flush=True)
            ref = workdir / f"r0w{counts[0]}.nc" if counts else None
            for n, speed in _report(rows, ref).items():
                speeds.setdefault(n, []).append(speed)
            for *_, out in rows:  # compared: only the reference is kept
                if out != ref:
                    out.unlink(missing_ok=True)
            for n in counts:
                if n > 1:
                    found = _ceiling(n)
                    print(
                        f"this machine's own ceiling for {n} processes (reference workloads, "
                        "measured now): "
                        + ", ".join(f"{k} {v:.2f}x" for k, v in found.items())
                        + f" (load {_load()[0]:.2f})"
                    )
        if args.repeat > 1:
            _summary(speeds)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("load average after: {:.2f} {:.2f} {:.2f}".format(*_load()))


def _report(rows: list[Any], ref: Path | None) -> dict[int, float]:
    """Print one round's table, its serial fraction and the targets; return the speed-up
    of each worker count over one worker (none without a 1-worker case). `ref` is the
    output the others are compared with (the first round's first case)."""
    base = next((r for r in rows if r[1] == 1), None)
    print(
        f"\n{'case':>10} {'wall [s]':>9} {'CPU [s]':>8} {'RSS [GiB]':>9} {'PSS [GiB]':>9} "
        f"{'speed-up':>8} {'serial [s]':>10} {'identical':>9} {'load before/after':>18}"
    )
    for label, _, r, ph, l0, l1, out in rows:
        speed = base[2]["wall"] / r["wall"] if base else float("nan")
        serial = ph.get("prepare", 0) + ph.get("static", 0) + ph.get("assemble", 0)
        same = "-" if ref is None or out == ref else str(_same_content(ref, out))
        print(
            f"{label:>10} {r['wall']:>9.1f} {r['cpu']:>8.1f} {r['rss'] / 2**30:>9.2f} "
            f"{r['pss'] / 2**30:>9.2f} {speed:>8.2f} {serial:>10.1f} {same:>9} "
            f"{l0:>8.2f} / {l1:<8.2f}"
        )
    own = [(label, r["sampling"]) for label, _, r, *_ in rows if "sampling" in r]
    if own:
        print(
            "this benchmark's own sampling of the memory (CPU taken from the run's cores): "
            + ", ".join(f"{label} {cpu:.1f} s" for label, cpu in own)
        )
    if base is None:
        return {}
    ph, wall = base[3], base[2]["wall"]
    serial = ph.get("prepare", 0) + ph.get("static", 0) + ph.get("assemble", 0)
    s = serial / wall
    print(
        f"\n1 worker: prepare {ph.get('prepare', 0):.1f} s, static part "
        f"{ph.get('static', 0):.1f} s, assembly {ph.get('assemble', 0):.1f} s, years "
        f"{ph.get('years', 0):.1f} s (of which sharing the context "
        f"{ph.get('share', 0):.1f} s and starting the cluster): serial fraction s = {s:.1%}"
    )
    speeds = {}
    for label, n, r, *_ in rows:
        if n > 1:
            speeds[n] = speed = wall / r["wall"]
            bound = 1 / (s + (1 - s) / n)
            print(f"{label}: speed-up {speed:.2f} (Amdahl bound {bound:.2f}){_verdict(n, speed)}")
    return speeds


def _verdict(n: int, speed: float) -> str:
    goal = TARGETS.get(n)
    return "" if goal is None else f"; target >= {goal}: " + ("met" if speed >= goal else "not met")


def _summary(speeds: dict[int, list[float]]) -> None:
    """The rounds' speed-ups of each worker count and their median, which the verdict is on
    (the machine is shared: one round's figure can be a burst of the host's other jobs)."""
    import statistics

    print()
    for n, found in speeds.items():
        med = statistics.median(found)
        rounds = ", ".join(f"{v:.2f}" for v in found)
        print(f"{n} workers over {len(found)} rounds: {rounds}; median {med:.2f}{_verdict(n, med)}")


if __name__ == "__main__":
    main()
