"""First-call cost of the dispersion kernels: numba compilation vs the on-disk cache.

Each measurement runs in a fresh Python process, calling every kernel once on tiny inputs:

* ``compile``: ``TRAJECTOIRE_NUMBA_CACHE=0`` (what a user pays on every start without cache),
* ``cache, cold``: cache on, empty cache directory (compile and write the cache),
* ``cache, warm``: cache on, second process (load from the cache).

Run: ``python benchmarks/bench_compile.py``. The cache goes to a temporary ``NUMBA_CACHE_DIR``.

``--run`` measures what a whole first run pays instead: ``trajectoire run`` on the bundled
sample on a 1000 m grid (one plain and one map year, ``--years``), in a fresh process with
an empty cache, then again with the cache it filled; it prints each run's CPU time, the
numba compilations each met (:func:`trajectoire._compile_notice.compile_notice`) and the
kernels that took longest to compile (with the functions they call).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def child() -> None:
    t0 = time.perf_counter()
    import numpy as np

    from trajectoire._kernels import plume, plume_longterm, rise
    from trajectoire._kernels.deposition import NO_DEPOSITION, NO_DEPOSITION_STACKS

    t_import = time.perf_counter() - t0
    times: dict[str, float] = {"import": t_import}

    def timed(name, fn):
        t = time.perf_counter()
        fn()
        times[name] = time.perf_counter() - t

    one = np.ones(3)
    out = np.empty(3)
    cls = np.full(3, 3, dtype=np.int64)
    timed("plume_array", lambda: plume.plume_array(one, one, one, one, one, one, one, cls, 0, out))
    gx, gw = np.polynomial.legendre.leggauss(4)
    timed(
        "line_source",
        lambda: plume.line_source(
            1.0, 0.0, 0.0, 10.0, 0.0, one, one, one, 2.0, 180.0, 0.0, 1e30, 0, 3, gx, gw, out
        ),
    )
    timed("effective_height", lambda: rise.effective_height(30.0, 2.0, 10.0, 400.0, 280.0, 4.0, 3))
    a = np.ones((1, 16))
    h1 = np.zeros(1)
    zi1 = np.full(1, 800.0)
    c1 = np.full(1, 3, dtype=np.int64)
    glx = np.zeros((5, 16))
    glw = np.zeros((5, 16))
    gln = np.ones(5, dtype=np.int64)
    glw[:, 0] = 1.0
    edges = np.array([1, 3, 8, 40], dtype=np.int64)
    breaks = np.array([0.0, 90.0, 180.0, 270.0, 360.0])
    k = np.zeros((3, 3))
    timed(
        "annual_kernel_grid",
        lambda: plume_longterm.annual_kernel_grid(
            1, 100.0, 1.5, a, h1, zi1, c1, h1 + 1, 1, 0.0, 0.0, True, 100.0, glx, glw, gln,
            edges, breaks, gx, gw, gx, gw, 2, NO_DEPOSITION, k,
        ),
    )  # fmt: skip
    fp = np.zeros((1, 3, 3))
    timed(
        "point_sources_footprint",
        lambda: plume_longterm.point_sources_footprint(
            h1, h1, np.ones((1, 1)), np.ones((1, 1)), np.ones((1, 1)), a, zi1, c1, h1 + 1, 0, 1.5,
            0.0, True, 500.0, np.arange(3.0) * 100, np.arange(3.0) * 100, NO_DEPOSITION_STACKS,
            fp,
        ),
    )  # fmt: skip
    ho = np.zeros((1, 3))
    timed(
        "hourly_points",
        lambda: plume_longterm.hourly_points(
            np.ones(1), np.ones(1), c1, zi1, np.full(1, 280.0), h1, h1, h1 + 1, h1 + 20, h1 + 1,
            h1 + 5, h1 + 400, np.zeros(6), 10.0, one, one, one, 0, 0.0, ho,
        ),
    )  # fmt: skip
    print(json.dumps(times))


def run(env_extra: dict[str, str]) -> dict[str, float]:
    env = dict(os.environ, **env_extra)
    res = subprocess.run(
        [sys.executable, __file__, "--child"], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(res.stdout.strip().splitlines()[-1])


def run_child(config: str, years: str, out: str) -> None:
    """A whole run in this process; print its CPU time and its compilations (JSON)."""
    import logging

    from trajectoire._compile_notice import compile_notice
    from trajectoire.batch.runner import run as run_chain
    from trajectoire.io.config import parse_years

    logging.getLogger("trajectoire").setLevel(logging.ERROR)
    t0 = time.process_time()
    with compile_notice() as seen:
        run_chain(config, out, years=parse_years(years), progress=False)
    cpu = time.process_time() - t0
    print(json.dumps({"cpu": cpu, "compile": seen.cpu, "count": seen.count, "of": seen.cpu_of}))


def whole_run(years: str, resolution: float, top: int) -> int:
    """The first run after an install against the next one, and the kernels that cost."""
    import warnings

    from bench_run import _config_at  # the same resolution copy of the config

    from trajectoire.sample import write_sample

    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        sample = Path(write_sample(Path(tmp) / "sample"))
        config = _config_at(sample, resolution, Path(tmp), "bench_compile")
        cache = str(Path(tmp) / "numba-cache")
        env = dict(os.environ, TRAJECTOIRE_NUMBA_CACHE="1", NUMBA_CACHE_DIR=cache)
        res = []
        for k in range(2):
            cmd = [sys.executable, __file__, "--run-child", str(config), years, f"{tmp}/o{k}.nc"]
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
            res.append(json.loads(done.stdout.strip().splitlines()[-1]))
    load = "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    print(f"trajectoire run, the sample at {resolution:g} m, years {years} ({load} after)")
    for name, r in zip(("empty cache (first run)", "filled cache (next runs)"), res, strict=True):
        print(
            f"  {name:26s} CPU {r['cpu']:6.1f} s, of which compiling {r['compile']:5.1f} s "
            f"({r['count']} kernels)"
        )
    print("kernels that took longest to compile (CPU [s], with the functions they call):")
    for name, cpu in sorted(res[0]["of"].items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {cpu:6.1f}  {name}")
    return 0


def main() -> int:
    if "--run" in sys.argv:
        import argparse

        ap = argparse.ArgumentParser(description="first-run cost of a whole run")
        ap.add_argument("--run", action="store_true")
        ap.add_argument("--years", default="2019:2020", help="e.g. 2019:2020 (the default)")
        ap.add_argument("--resolution", type=float, default=1000.0, help="grid [m]")
        ap.add_argument("--top", type=int, default=8, help="kernels listed")
        args = ap.parse_args()
        return whole_run(args.years, args.resolution, args.top)
    with tempfile.TemporaryDirectory() as cache_dir:
        nocache = run({"TRAJECTOIRE_NUMBA_CACHE": "0", "NUMBA_CACHE_DIR": cache_dir})
        cold = run({"TRAJECTOIRE_NUMBA_CACHE": "1", "NUMBA_CACHE_DIR": cache_dir})
        warm = run({"TRAJECTOIRE_NUMBA_CACHE": "1", "NUMBA_CACHE_DIR": cache_dir})
    print(f"{'first call [s]':28s} {'compile':>9s} {'cache,cold':>11s} {'cache,warm':>11s}")
    for name in nocache:
        print(f"{name:28s} {nocache[name]:9.3f} {cold[name]:11.3f} {warm[name]:11.3f}")
    tot = [sum(v for k, v in d.items() if k != "import") for d in (nocache, cold, warm)]
    print(f"{'kernels (without import)':28s} {tot[0]:9.3f} {tot[1]:11.3f} {tot[2]:11.3f}")
    print(f"compile / warm cache ratio: {tot[0] / tot[2]:.1f} x")
    print("(the first parallel kernel, plume_array, also pays for starting numba's thread pool)")
    return 0


if __name__ == "__main__":
    if "--run-child" in sys.argv:
        run_child(*sys.argv[sys.argv.index("--run-child") + 1 :][:3])
    elif "--child" in sys.argv:
        child()
    else:
        raise SystemExit(main())
