"""Benchmark of prepare with and without NumPy's transparent-huge-page advice.

NumPy asks the kernel for transparent huge pages (``madvise(MADV_HUGEPAGE)``) for every
array of 4 MiB or more. Where ``/sys/kernel/mm/transparent_hugepage/defrag`` is
``madvise``, a fault in such an array compacts memory there and then when no free huge
page is at hand. :func:`trajectoire.batch.pipeline.prepare` maps and frees about 10 GB of
short-lived grids at 100 m on the sample, and runs with that advice off
(:func:`trajectoire._memory.small_pages`). This script measures what that changes.

Each case runs :func:`~trajectoire.batch.pipeline.prepare` in its own process on a copy of
the sample's configuration at ``--resolution``:

* ``huge``: ``NUMPY_MADVISE_HUGEPAGE=1`` in the environment, which ``small_pages``
  respects: NumPy's default advice all along, as before;
* ``small``: the variable unset, prepare's own setting (advice off).

Each prints its user and system CPU time (``getrusage``), minor page faults, wall time,
peak resident memory and a digest of the prepared basis fields (the values must be the
same bytes). The cases alternate ``--repeat`` times, so that a change of the machine's load
falls on both; the means and the ratio small / huge follow, with the load average and the
kernel's huge-page settings.

Usage::

    python benchmarks/bench_pages.py [--resolution 100] [--repeat 3]

Linux only (elsewhere NumPy gives no such advice).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GIB = 2**30
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_run import _config_at, _load  # noqa: E402  (the config's resolution copy, the load)

_ENV = "NUMPY_MADVISE_HUGEPAGE"
_THP = Path("/sys/kernel/mm/transparent_hugepage")


def _thp_settings() -> str:
    """The kernel's transparent-huge-page settings, as it shows them."""
    out = []
    for name in ("enabled", "defrag"):
        try:
            out.append(f"{name}: {(_THP / name).read_text().strip()}")
        except OSError:
            out.append(f"{name}: unknown")
    return "; ".join(out)


def _child(config: str) -> None:
    """Prepare once; print JSON with its CPU, faults, wall time, peak and basis digest."""
    from trajectoire.batch import pipeline
    from trajectoire.io.config import load_config

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cfg = load_config(config)
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        ctx = pipeline.prepare(cfg)
        wall = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_SELF)
    digest = hashlib.sha256(memoryview(ctx.basis).cast("B")).hexdigest()[:16]
    print(
        json.dumps(
            {
                "user": r1.ru_utime - r0.ru_utime,
                "sys": r1.ru_stime - r0.ru_stime,
                "faults": r1.ru_minflt - r0.ru_minflt,
                "wall": wall,
                "peak": r1.ru_maxrss * 1024,
                "digest": digest,
            }
        )
    )


def main() -> None:
    """Run the cases in alternation and print the comparison."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, default=REPO / "data" / "sample" / "config.toml")
    ap.add_argument("--resolution", type=float, default=100.0, help="[m]")
    ap.add_argument("--repeat", type=int, default=3, help="pairs of runs")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args.child)
        return
    if not sys.platform.startswith("linux"):
        raise SystemExit("this benchmark needs Linux (NumPy advises huge pages only there).")
    config = _config_at(args.config, args.resolution, Path(str(os.getpid())), tag="bench_pages")
    print(f"machine: {os.cpu_count()} cores; transparent huge pages: {_thp_settings()}")
    print(_load(), flush=True)
    cpu: dict[str, list[float]] = {"huge": [], "small": []}
    digests: set[str] = set()
    try:
        for _ in range(args.repeat):
            for case in ("huge", "small"):
                env = {k: v for k, v in os.environ.items() if k != _ENV}
                if case == "huge":
                    env[_ENV] = "1"
                out = subprocess.run(
                    [sys.executable, __file__, "--child", str(config)],
                    check=True,
                    capture_output=True,
                    text=True,
                    env=env,
                ).stdout
                r = json.loads(out.strip().splitlines()[-1])
                tot = r["user"] + r["sys"]
                cpu[case].append(tot)
                digests.add(r["digest"])
                print(
                    f"{case:5s} prepare: user {r['user']:6.2f} s, sys {r['sys']:5.2f} s, "
                    f"CPU {tot:6.2f} s, wall {r['wall']:6.2f} s, page faults {r['faults']:8d}, "
                    f"peak {r['peak'] / GIB:.2f} GiB, basis {r['digest']}; {_load()}",
                    flush=True,
                )
    finally:
        if config != args.config:
            config.unlink(missing_ok=True)
    mean = {k: sum(v) / len(v) for k, v in cpu.items()}
    same = "the same bytes" if len(digests) == 1 else f"DIFFERENT ({sorted(digests)})"
    print(
        f"mean CPU of prepare: huge pages {mean['huge']:.2f} s, small pages {mean['small']:.2f} s, "
        f"ratio small / huge {mean['small'] / mean['huge']:.3f}; basis fields: {same}"
    )
    if len(digests) != 1:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
