"""CPU of the run's hottest kernels, this tree against a git revision, in one process.

For a refactoring of ``trajectoire._kernels`` that must be bit for bit and not slower: the
kernels of ``--base`` (default ``HEAD``) are copied from git into a temporary package and
imported beside this tree's. The arguments of one call of each kernel are captured from
this tree's public functions, on the sample's 2019 meteorology, cells of 100 m, radius
``--radius`` (default 20 km), urban Briggs coefficients:

* :func:`trajectoire._kernels.stacks.footprints_aligned`, the footprints of the sample's
  stacks (:func:`trajectoire.dispersion.stack_footprints`);
* :func:`trajectoire._kernels.plume_longterm.annual_kernel_grids`, the ground-level kernel
  with a decay rate (``1e-4 s-1``, 22 met groups) and inert (6 groups)
  (:func:`trajectoire.dispersion.annual_kernel`), and the 9 kernels of a sample year built
  together (:func:`trajectoire.dispersion.longterm.annual_kernels`, the sets of
  ``bench_kernel_sharing.py --parts joint``: the run's call).

* :func:`trajectoire._kernels.aggregate.aggregate_stack_by_origin`, the window sums of a
  100 m year on a synthetic grid shaped as the sample's (2222 x 1227 cells, 8 origins, 0.25
  % of the cells shared by two origins, 0.001 % by three; 18 windows of 275-720 rows, 1 or
  2 weightings, 4 height classes, 9 of 13 sectors): each window one call, the calls of a
  window summed (a base before the cells shared were listed once scans the layers itself).

Each is then run on those arguments, base and tree alternately (``ABAB``, then ``BABA``),
and the best CPU time (``time.process_time``, all threads) of ``--repeat`` runs of each is
printed with the ratio tree / base and whether the outputs are identical (they must be).
Set ``NUMBA_NUM_THREADS=1`` for the serial code alone. Report the load average (printed)
beside the figures: on a shared machine, repeat and give the spread.

Usage::

    python benchmarks/bench_kernel_ab.py [--base REV] [--repeat 7] [--radius 20000]
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_wind_sectors import load_meteo  # noqa: E402

import trajectoire.dispersion as disp  # noqa: E402
import trajectoire.meteo as tm  # noqa: E402
from trajectoire import Grid  # noqa: E402
from trajectoire._kernels import aggregate, plume_longterm, stacks  # noqa: E402
from trajectoire.dispersion import concentration, longterm  # noqa: E402

KERNELS = "src/trajectoire/_kernels"


def base_kernels(rev: str, folder: Path) -> Any:
    """The ``_kernels`` package of git revision `rev`, imported as ``_kernels_base``."""
    pkg = folder / "_kernels_base"
    pkg.mkdir()
    names = subprocess.run(["git", "-C", str(REPO), "ls-tree", "--name-only", f"{rev}:{KERNELS}"],
                           check=True, capture_output=True, text=True).stdout.split()  # fmt: skip
    for name in names:
        text = subprocess.run(["git", "-C", str(REPO), "show", f"{rev}:{KERNELS}/{name}"],
                              check=True, capture_output=True, text=True).stdout  # fmt: skip
        (pkg / name).write_text(text, encoding="utf-8")
    sys.path.insert(0, str(folder))
    return importlib.import_module("_kernels_base")


def captured_calls(table: Any, other: Any, radius: float) -> list[tuple[str, str, tuple]]:
    """``(label, kernel name, arguments)`` of one call of each kernel by this tree."""
    calls: list[tuple[str, str, tuple]] = []

    def spy(label: str, name: str, fn: Any) -> Any:
        def wrapped(*args: Any) -> Any:
            calls.append((label, name, args))
            return fn(*args)

        return wrapped

    pts = pd.read_csv(REPO / "data/sample/point_sources.csv")
    pad = radius + 1000.0
    grid = Grid.from_bounds(pts.x.min() - pad, pts.y.min() - pad, pts.x.max() + pad,
                            pts.y.max() + pad, 100.0, snap=True)  # fmt: skip
    concentration.footprints_aligned = spy(f"stack footprints ({len(pts)} stacks)",
                                           "footprints_aligned", stacks.footprints_aligned)  # fmt: skip
    disp.stack_footprints(table, grid=grid, radius=radius, sigma="briggs-urban", x=pts.x.values,
                          y=pts.y.values, stack_height=pts.height.values,
                          stack_diameter=pts.diameter.values,
                          exit_temperature=pts.temperature.values,
                          exit_velocity=pts.velocity.values)  # fmt: skip
    concentration.footprints_aligned = stacks.footprints_aligned
    # the sets of a sample year (inert at 4 heights, seasonal, UFP at 3, TRWP), as
    # bench_kernel_sharing.py --parts joint
    sets = [dict(freq_year=table, release_height=h) for h in (1.0, 4.0, 10.0, 25.0)]
    sets += [dict(freq_year=other, release_height=1.0)]
    sets += [dict(freq_year=table, release_height=h, decay_rate=6.4e-5, deposition_velocity=0.002)
             for h in (1.0, 10.0, 25.0)]  # fmt: skip
    sets += [dict(freq_year=table, release_height=1.0, deposition_velocity=0.004)]
    kw = dict(resolution=100.0, radius=radius, sigma="briggs-urban")
    cases: list[tuple[str, Any]] = [
        ("kernel, decay", lambda: disp.annual_kernel(table, **kw, decay_rate=1e-4)),
        ("kernel, inert", lambda: disp.annual_kernel(table, **kw)),
        (f"kernel sets of a year ({len(sets)})", lambda: longterm.annual_kernels(sets, **kw)),
    ]
    for label, build in cases:
        lt = type(sys)("spy")
        lt.__dict__.update(plume_longterm.__dict__)
        lt.annual_kernel_grids = spy(
            label, "annual_kernel_grids", plume_longterm.annual_kernel_grids
        )
        longterm._lt = lt
        build()
    longterm._lt = plume_longterm
    calls.append(("window sums (18 windows)", "aggregate_stack_by_origin", window_sums_case()))
    return calls


def window_sums_case(seed: int = 0) -> tuple:
    """Arguments of the year's window sums on a synthetic grid shaped as the sample's at 100 m:
    ``(windows, emission, pollutant, sectors, heights, origin_index, origin_fraction,
    shared_ptr, shared_col, out)``, ``windows`` a list of ``(adjoint, row0, col0)``."""
    rng = np.random.default_rng(seed)
    ny, nx, n_o = 2222, 1227, 8
    seeds = rng.random((n_o, 2)) * (ny, nx)
    yy, xx = np.mgrid[:ny, :nx]
    dist = (yy[None] - seeds[:, 0, None, None]) ** 2 + (xx[None] - seeds[:, 1, None, None]) ** 2
    order = np.argsort(dist, axis=0)
    index = np.full((3, ny, nx), -1, dtype=np.int64)
    fraction = np.zeros((3, ny, nx))
    index[0], fraction[0] = order[0], 1.0
    for q, share in ((1, 0.0025), (2, 0.00001)):  # cells shared with the next nearest origins
        cells = rng.random((ny, nx)) < share
        if q == 2:
            cells &= index[1] >= 0
        index[q][cells] = order[q][cells]
        fraction[q][cells] = 0.5 / q
        fraction[0][cells] -= 0.5 / q
    emission = (rng.random((13, 1, ny, nx)) * (rng.random((13, 1, ny, nx)) < 0.6)).astype(
        np.float32
    )
    windows = []
    for _ in range(18):
        wy, wx = int(rng.integers(275, 721)), int(rng.integers(300, 711))
        r0, c0 = int(rng.integers(0, ny - wy)), int(rng.integers(0, nx - wx))
        windows.append((rng.random((int(rng.integers(1, 3)), 4, wy, wx)), r0, c0))
    sectors = np.sort(rng.choice(13, 9, replace=False)).astype(np.int64)
    heights = rng.integers(0, 4, 13).astype(np.int64)
    ptr, col = aggregate.shared_cells(index)
    out = np.zeros((2, 13, n_o, 1))
    return (windows, emission, np.array([0], dtype=np.int64), sectors, heights, index, fraction,
            ptr, col, out)  # fmt: skip


def run_window_sums(fn: Any, args: tuple, out: np.ndarray) -> None:
    """Every window of :func:`window_sums_case` with the kernel `fn`, into `out`; a kernel
    without the shared cells' arguments (a base before them) is given the rest."""
    windows, emission, pol, sectors, heights, index, fraction, ptr, col, _ = args
    listed = "shared_ptr" in inspect.signature(fn.py_func).parameters
    for a, r0, c0 in windows:
        part = np.zeros((a.shape[0], *out.shape[1:]))
        rest = (ptr, col) if listed else ()
        fn(a, emission, pol, sectors, r0, c0, heights, index, fraction, *rest, part)
        out[: a.shape[0]] += part


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default="HEAD")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--radius", type=float, default=20_000.0)
    args = ap.parse_args()
    table = tm.met_classes(load_meteo(2019)).isel(year=0)
    with tempfile.TemporaryDirectory() as tmp:
        base = base_kernels(args.base, Path(tmp))
        mods = {
            "footprints_aligned": "stacks",
            "annual_kernel_grids": "plume_longterm",
            "aggregate_stack_by_origin": "aggregate",
        }
        tree = {"stacks": stacks, "plume_longterm": plume_longterm, "aggregate": aggregate}
        other = tm.met_classes(load_meteo(2020)).isel(year=0)
        calls = captured_calls(table, other, args.radius)
        print(f"machine: {os.cpu_count()} cores, NUMBA_NUM_THREADS="
              f"{os.environ.get('NUMBA_NUM_THREADS', 'default')}; load average "
              f"{os.getloadavg()}")  # fmt: skip
        for label, name, captured in calls:
            base_mod = importlib.import_module(f"_kernels_base.{mods[name]}")
            old = getattr(base_mod, name)
            new = getattr(tree[mods[name]], name)
            base_args = captured
            if name == "footprints_aligned" and not hasattr(base_mod, "ALIGNED_LAYOUT"):
                # a base before the stacks-last profiles: (stack, class, node, sector)
                base_args = (np.ascontiguousarray(captured[0].transpose(3, 0, 1, 2)),
                             *captured[1:])  # fmt: skip

            def run(fn: Any, captured: tuple = captured, base_args: tuple = base_args,
                    old: Any = old) -> np.ndarray:  # fmt: skip
                args = base_args if fn is old else captured
                out = np.zeros_like(args[-1])  # both kernels write their last argument
                if fn.py_func.__name__ == "aggregate_stack_by_origin":
                    run_window_sums(fn, args, out)
                else:
                    fn(*args[:-1], out)
                return out

            same = np.array_equal(run(old), run(new))  # also compiles both
            best = {"base": float("inf"), "tree": float("inf")}
            for rep in range(args.repeat):
                for key in ("base", "tree") if rep % 2 == 0 else ("tree", "base"):
                    t0 = time.process_time()
                    run(old if key == "base" else new)
                    best[key] = min(best[key], time.process_time() - t0)
            print(f"{label:<28} {args.base} {best['base']:7.3f} s  tree {best['tree']:7.3f} s  "
                  f"tree/base {best['tree'] / best['base']:5.3f}  identical {same}")  # fmt: skip
        del base
    print(f"load average at end {os.getloadavg()}")


if __name__ == "__main__":
    main()
