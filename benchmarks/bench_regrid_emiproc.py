"""Remap a 1 km inventory (13 sectors x 6 pollutants, 60 x 60 km) onto the 100 m grid:
trajectoire against emiproc, in the same run.

Usage::

    python benchmarks/bench_regrid_emiproc.py [--size-km 60] [--repeat 3]

emiproc (2.10.0) is installed in this benchmark's own virtual environment,
``benchmarks/.venv-emiproc`` (no system site packages), together with the project; the
script creates it when missing and re-executes itself there. Nothing is installed in the
project's environment.

What is timed:

* emiproc's first remap: ``emiproc.regrid.remap_inventory`` on an ``Inventory`` built from
  the source grid's ``GeoDataFrame`` (weights computed by polygon intersection, then
  applied to the 78 columns);
* trajectoire's first remap: ``Regridder(source, target)`` (weights: exact separable 1-D
  overlaps) then its application to the ``(sector, pollutant, y, x)`` array, best of
  ``--repeat`` fresh plans (the median is printed too). numba kernels are compiled (or
  loaded from the on-disk cache) on a tiny grid first, so the figure is the remap itself;
  the one-off compilation time is printed separately. ``OMP_WAIT_POLICY`` defaults to
  ``passive`` in the benchmark's process (numba's OpenMP threads otherwise spin, which on
  a shared machine turns other users' load into stalls).

Printed: both times, their ratio, the relative difference of totals and the largest
cell-by-cell difference. Absolute times on a shared machine are noise; the ratio is the
figure to quote.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
VENV = HERE / ".venv-emiproc"
EMIPROC = "emiproc==2.10.0"
MARK = "TRAJECTOIRE_BENCH_IN_VENV"


def _venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_venv() -> None:
    """Create the benchmark venv with emiproc and the project, then re-exec inside it."""
    if os.environ.get(MARK) == "1":
        return
    py = _venv_python()
    if not py.exists():
        print(f"creating {VENV} (system site packages off) ...", flush=True)
        venv.EnvBuilder(with_pip=True, system_site_packages=False).create(VENV)
    probe = subprocess.run(
        [str(py), "-c", "import emiproc, trajectoire"], capture_output=True, text=True
    )
    if probe.returncode != 0:
        print(f"installing {EMIPROC} and the project into {VENV} ...", flush=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", EMIPROC], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", str(REPO)], check=True)
    # benchmark the working tree, not the copy pip installed (which only brings dependencies)
    path = os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env = dict(os.environ, **{MARK: "1", "PYTHONPATH": path})
    # numba's OpenMP threads spin while waiting by default; on a shared, oversubscribed
    # machine that turns other users' load into stalls of the whole parallel region.
    # Passive waiting measures the remap, not the neighbours (set it yourself to override).
    env.setdefault("OMP_WAIT_POLICY", "passive")
    os.execve(str(py), [str(py), str(Path(__file__).resolve()), *sys.argv[1:]], env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-km", type=int, default=60, help="side of the square [km]")
    parser.add_argument("--repeat", type=int, default=3, help="repeats of trajectoire's remap")
    args = parser.parse_args(argv)
    ensure_venv()

    from importlib.metadata import version

    import geopandas as gpd
    import numpy as np
    import pandas as pd
    from emiproc.grids import RegularGrid
    from emiproc.inventories import Inventory
    from emiproc.regrid import remap_inventory

    import trajectoire
    from trajectoire import Grid

    print(f"trajectoire imported from {Path(trajectoire.__file__).parent}")
    from trajectoire.regrid import Regridder
    from trajectoire.sectors import GNFR

    pollutants = ["NOx", "PM10", "PM2.5", "SO2", "NH3", "NMVOC"]
    n = args.size_km
    x0, y0 = 680_000.0, 7_020_000.0
    src = Grid(x0, y0, 1000.0, 1000.0, n, n, "EPSG:2154")
    dst = Grid(x0, y0, 100.0, 100.0, 10 * n, 10 * n, "EPSG:2154")
    rng = np.random.default_rng(42)
    values = rng.gamma(0.5, 2.0, size=(len(GNFR), len(pollutants), n, n))  # t yr-1 per cell

    print(
        f"trajectoire {trajectoire.__version__}, emiproc {version('emiproc')}, "
        f"numpy {np.__version__}, geopandas {gpd.__version__}"
    )
    print(f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}, threads: numba default")
    print(
        f"remap {len(GNFR)} sectors x {len(pollutants)} pollutants, {n} x {n} cells of 1 km "
        f"-> {dst.nx} x {dst.ny} cells of 100 m (EPSG:2154)"
    )

    # ---- trajectoire: compile / load the kernels on a tiny case first
    t = time.perf_counter()
    tiny = Grid(x0, y0, 1000.0, 1000.0, 2, 2, "EPSG:2154")
    Regridder(tiny, Grid(x0, y0, 500.0, 500.0, 4, 4, "EPSG:2154")).apply_array(np.ones((2, 2)))
    t_jit = time.perf_counter() - t

    times = []
    for _ in range(max(1, args.repeat)):
        t = time.perf_counter()
        plan = Regridder(src, dst)
        ours = plan.apply_array(values)
        times.append(time.perf_counter() - t)
    t_ours = min(times)
    t = time.perf_counter()
    plan.apply_array(values)
    t_apply = time.perf_counter() - t

    # ---- emiproc: same source cells as a GeoDataFrame inventory, same target grid
    e_src = RegularGrid(xmin=x0, ymin=y0, nx=n, ny=n, dx=1000.0, dy=1000.0, crs=2154)
    e_dst = RegularGrid(xmin=x0, ymin=y0, nx=10 * n, ny=10 * n, dx=100.0, dy=100.0, crs=2154)

    def to_emiproc_order(a: np.ndarray) -> np.ndarray:
        # emiproc cell k = ix * ny + iy with iy counted from the south; ours are north-up rows
        return a[..., ::-1, :].swapaxes(-1, -2).reshape(*a.shape[:-2], -1)

    flat = to_emiproc_order(values)
    cols = pd.MultiIndex.from_product([list(GNFR), pollutants])
    data = {(s, p): flat[i, j] for i, s in enumerate(GNFR) for j, p in enumerate(pollutants)}
    gdf = gpd.GeoDataFrame(
        pd.DataFrame(data, columns=cols), geometry=e_src.gdf.geometry.values, crs=2154
    )
    inv = Inventory.from_gdf(gdf)
    t = time.perf_counter()
    remapped = remap_inventory(inv, e_dst)
    t_emiproc = time.perf_counter() - t

    theirs = np.stack(
        [
            np.stack([np.asarray(remapped.gdf[(s, p)], dtype=float) for p in pollutants])
            for s in GNFR
        ]
    )
    ours_flat = to_emiproc_order(ours)
    tot_src = values.sum()
    tot_ours = ours.sum()
    tot_theirs = theirs.sum()
    print(f"numba compile/load (once per install, cached): {t_jit:8.3f} s")
    print(f"trajectoire first remap (weights + apply)*   : {t_ours:8.4f} s")
    print(f"trajectoire apply only (weights reused)      : {t_apply:8.4f} s")
    print(f"emiproc first remap (remap_inventory)        : {t_emiproc:8.3f} s")
    print(f"speed-up vs emiproc's first remap            : {t_emiproc / t_ours:8.1f} x")
    print(
        f"  (* best of {len(times)} fresh plans; median {sorted(times)[len(times) // 2]:.4f} s, "
        f"speed-up at the median {t_emiproc / sorted(times)[len(times) // 2]:.1f} x)"
    )
    print(
        f"total source / trajectoire / emiproc [t yr-1]: {tot_src:.9f} / {tot_ours:.9f} / "
        f"{tot_theirs:.9f}"
    )
    print(
        f"relative difference of totals (traj - emiproc): {(tot_ours - tot_theirs) / tot_theirs:.3e}"
    )
    print(f"relative difference of totals (traj - source) : {(tot_ours - tot_src) / tot_src:.3e}")
    print(
        "largest cell difference (traj - emiproc)      : "
        f"{np.abs(ours_flat - theirs).max():.3e} t yr-1 "
        f"(largest cell value {theirs.max():.3e})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
