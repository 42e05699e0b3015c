"""Peak memory and CPU of a run, stage by stage: ``prepare``, then each stage of each year.

Runs :func:`trajectoire.batch.pipeline.prepare` and
:func:`~trajectoire.batch.pipeline.compute_year` for the years asked, in one process (as
the serial runner does, without writing the parts and without its heap trim between
years), on a copy of the sample's configuration with ``[grid] resolution`` set by
``--resolution``. The peak resident memory of each stage is the process's ``VmHWM``
(``/proc/self/status``), reset at the start of every stage by writing ``5`` to
``/proc/self/clear_refs`` (Linux only): each figure is the largest resident size reached
*during* that stage, the memory held before it included. It prints, in GiB:

* ``prepare``: its CPU time (``time.process_time``), its own peak, and the resident size
  after it (the context every year keeps), with the size of the basis;
* per year: the peak of each stage of ``compute_year`` (the names of its timing
  attribute: kernels, stacks, emission, adjoints, aggregates, dispersion, output, no2,
  zones, assemble), the year's CPU time and the size of its dataset;
* with ``--profile``, the 30 most expensive functions of each year (cProfile with
  ``time.process_time``).

Usage::

    python benchmarks/bench_stages.py [--config data/sample/config.toml] [--resolution 100]
                                      [--years 2019,2020] [--profile]

The figures of docs/performance.md ("With the emerging species") come from
``--resolution 100 --years 2019,2020``. Report the load average (printed) beside them.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import sys
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_run import _config_at as _copy_at  # noqa: E402  (one resolution copy of a config)
from bench_run import _load  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
GIB = 2**30


def _status() -> tuple[int, int]:
    """``VmHWM`` and ``VmRSS`` of this process [bytes]."""
    text = Path("/proc/self/status").read_text()

    def field(key: str) -> int:
        m = re.search(rf"{key}:\s+(\d+)", text)
        return int(m.group(1)) * 1024 if m else 0

    return field("VmHWM"), field("VmRSS")


def _reset_peak() -> None:
    """Reset ``VmHWM`` to the current resident size."""
    Path("/proc/self/clear_refs").write_text("5")


def _config_at(config: Path, resolution: float | None) -> Path:
    """`config`, or a copy beside it with ``[grid] resolution`` replaced
    (:func:`bench_run._config_at`, the copy named after this process)."""
    return _copy_at(config, resolution, Path(str(os.getpid())), "bench_stages")


def _watch_stages(pipeline: Any) -> dict[str, int]:
    """Make the pipeline's stage clock record the peak of each stage into the returned dict
    (the largest over the calls of a stage) and reset it for the next stage."""
    peaks: dict[str, int] = {}
    clock = pipeline._Clock
    original = clock.__call__

    def call(self: Any, name: str) -> None:
        original(self, name)
        peaks[name] = max(peaks.get(name, 0), _status()[0])
        _reset_peak()

    clock.__call__ = call
    return peaks


def main() -> None:
    """Run the benchmark and print the stages."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, default=REPO / "data" / "sample" / "config.toml")
    ap.add_argument("--resolution", type=float, default=100.0, help="[m]; 0: the config's")
    ap.add_argument("--years", default="2019,2020", help="comma-separated years")
    ap.add_argument("--profile", action="store_true", help="cProfile each year")
    args = ap.parse_args()
    if not Path("/proc/self/clear_refs").exists():
        raise SystemExit("this benchmark needs Linux (/proc/self/clear_refs).")
    from trajectoire.batch import pipeline
    from trajectoire.io.config import load_config

    years = [int(v) for v in args.years.split(",")]
    config = _config_at(args.config, args.resolution or None)
    print(f"machine: {os.cpu_count()} cores; {_load()}", flush=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cfg = load_config(config)
            _reset_peak()
            c0 = time.process_time()
            ctx = pipeline.prepare(cfg)
        peak, rss = _status()
        print(
            f"prepare: CPU {time.process_time() - c0:.1f} s, peak {peak / GIB:.2f} GiB, "
            f"after {rss / GIB:.2f} GiB (basis {ctx.basis.nbytes / GIB:.2f} GiB allocated, "
            f"shape {ctx.basis.shape[:3]})",
            flush=True,
        )
        peaks = _watch_stages(pipeline)
        for year in years:
            peaks.clear()
            _reset_peak()
            prof = cProfile.Profile(time.process_time) if args.profile else None
            c0 = time.process_time()
            if prof:
                prof.enable()
            ds = pipeline.compute_year(ctx, year)
            if prof:
                prof.disable()
            cpu = time.process_time() - c0
            stages = ", ".join(f"{k} {v / GIB:.2f}" for k, v in peaks.items())
            kind = "map year" if year in ctx.map_years else "plain year"
            print(f"{year} ({kind}): CPU {cpu:.1f} s, dataset {ds.nbytes / GIB:.2f} GiB")
            print(f"  peak per stage [GiB]: {stages}", flush=True)
            if prof:
                pstats.Stats(prof, stream=sys.stdout).sort_stats("tottime").print_stats(30)
            del ds
        print(_load())
    finally:
        if config != args.config:
            config.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
