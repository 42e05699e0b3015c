"""CPU of the annual kernels and of the stack footprints at 100 m, with the shared work (#18).

The sample's 2019 meteorology (``data/sample/meteo.csv.gz``, table of
:func:`trajectoire.meteo.met_classes`), cells of 100 m, radius 20 km, receptors at 1.5 m,
urban Briggs coefficients. Prints the CPU time (``time.process_time``, all threads) of:

* :func:`trajectoire.dispersion.annual_kernel` at ground level inert, with a decay rate
  (``1e-4 s-1``), with a deposition velocity (``0.002 m s-1``) and at 25 m; with decay or
  deposition the speed classes stay apart (22 groups instead of 6), and the groups of one
  stability class now share their sector masses (``point_density_sets``): the ratio to
  the inert kernel was 3.4 (decay) and 4.3 (deposition) before;
* the sample's 42 stacks on a grid 21 km around them: the per-stack path
  (:func:`trajectoire._kernels.stacks.footprint_from_class_profiles`, the path before) and
  :func:`trajectoire.dispersion.stack_footprints` (stacks placed alike in their cells share
  each cell's geometry, :func:`trajectoire._kernels.stacks.footprints_aligned`), their
  ratio, and whether the footprints are identical (they must be, bit for bit);
* the 9 kernels a sample year needs (the inert set at 1, 4, 10 and 25 m; a seasonal set,
  the 2020 table standing for its weighted one, at 1 m; decay with deposition at 1, 10 and
  25 m; deposition at 1 m), built one by one with
  :func:`trajectoire.dispersion.annual_kernel` (the path before) and together with
  :func:`trajectoire.dispersion.longterm.annual_kernels` (sector masses shared between all
  of them, crosswind terms between equal groups), their ratio and whether the kernels are
  identical (they must be, bit for bit).

``--parts`` chooses among ``kernels``, ``stacks`` and ``joint`` (all three by default).

Each figure is the best of ``--repeat`` runs after one warm-up (compilation). Report the
load average (printed) beside the figures.

Usage::

    python benchmarks/bench_kernel_sharing.py [--repeat 2] [--parts kernels,stacks,joint]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_wind_sectors import load_meteo  # noqa: E402

import trajectoire.dispersion as disp  # noqa: E402
import trajectoire.meteo as tm  # noqa: E402
from trajectoire import Grid  # noqa: E402
from trajectoire._kernels.deposition import NO_DEPOSITION  # noqa: E402
from trajectoire._kernels.stacks import (  # noqa: E402
    footprint_from_class_profiles,
    radial_profiles_by_class,
)
from trajectoire.dispersion import points as pts_mod  # noqa: E402
from trajectoire.dispersion.concentration import _footprint_windows  # noqa: E402
from trajectoire.dispersion.longterm import _T_PER_YR_TO_UG  # noqa: E402
from trajectoire.dispersion.plume import _scheme  # noqa: E402


def cpu(fn, repeat):
    """Best CPU time [s] of `repeat` calls of `fn` after a warm-up, and its last result."""
    out = fn()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        out = fn()
        best = min(best, time.process_time() - t0)
    return best, out


def per_stack(table, kw, radius):
    """The footprints stack by stack (the path before the sharing), as stack_footprints."""
    code = _scheme(kw["sigma"])
    grid = kw["grid"]
    _, st = pts_mod._stacks(kw["x"], kw["y"], kw["stack_height"], kw["stack_diameter"],
                            kw["exit_temperature"], kw["exit_velocity"])  # fmt: skip
    a, cls, zis, ius, hs_all, fac_all = pts_mod._stack_groups(table, code, st, 283.15)
    spacing = grid.resolution / 10.0
    nodes = np.arange(spacing / 2.0, radius + grid.resolution + spacing, spacing)
    half = int(np.ceil(radius / grid.resolution))
    r0, r1, c0, c1 = _footprint_windows(grid, st["x"], st["y"], half)
    out = []
    for s in range(st["x"].size):
        prof = radial_profiles_by_class(a, fac_all[s], hs_all[s], zis, cls, ius, code, 1.5, 0.0,
                                        nodes, NO_DEPOSITION)  # fmt: skip
        fp = np.zeros((r1[s] - r0[s], c1[s] - c0[s]))
        footprint_from_class_profiles(prof, nodes, code, st["x"][s], st["y"][s],
                                      np.ascontiguousarray(grid.x[c0[s]:c1[s]]),
                                      np.ascontiguousarray(grid.y[r0[s]:r1[s]]), radius, fp,
                                      pts_mod.near_field_distance(None))  # fmt: skip
        out.append(fp * _T_PER_YR_TO_UG)
    return out


def joint(table, other, res, radius, repeat):
    """The kernel sets of a sample year one by one, then built together; prints the ratio."""
    from trajectoire.dispersion.longterm import annual_kernels

    # the sample's 2019 sets (inert, seasonal, UFP, TRWP) and their release classes
    sets = [dict(freq_year=table, release_height=h) for h in (1.0, 4.0, 10.0, 25.0)]
    sets += [dict(freq_year=other, release_height=1.0)]
    sets += [dict(freq_year=table, release_height=h, decay_rate=6.4e-5, deposition_velocity=0.002)
             for h in (1.0, 10.0, 25.0)]  # fmt: skip
    sets += [dict(freq_year=table, release_height=1.0, deposition_velocity=0.004)]
    kw = dict(resolution=res, radius=radius, sigma="briggs-urban")

    def one_by_one():
        return [disp.annual_kernel(one["freq_year"], **kw,
                                   **{k: v for k, v in one.items() if k != "freq_year"}).values
                for one in sets]  # fmt: skip

    t_old, old = cpu(one_by_one, repeat)
    t_new, new = cpu(lambda: annual_kernels(sets, **kw), repeat)
    same = all(np.array_equal(o, n) for o, n in zip(old, new, strict=True))
    print(f"kernel sets of a year ({len(sets)} kernels, 100 m, 20 km): one by one {t_old:6.2f} s  "
          f"together {t_new:6.2f} s  ratio {t_old / t_new:5.2f}  identical {same}")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--parts", default="kernels,stacks,joint")
    args = ap.parse_args()
    parts = set(args.parts.split(","))
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()}")
    table = tm.met_classes(load_meteo(2019)).isel(year=0)
    res, radius = 100.0, 20_000.0
    if "joint" in parts:
        other = tm.met_classes(load_meteo(2020)).isel(year=0)
        joint(table, other, res, radius, args.repeat)
    if "kernels" not in parts:
        cases = {}
    else:
        cases = {"inert": {}, "decay": dict(decay_rate=1e-4),
                 "deposition": dict(deposition_velocity=0.002),
                 "inert 25 m": dict(release_height=25.0)}  # fmt: skip
    base = None
    for name, kw in cases.items():
        t, _ = cpu(lambda kw=kw: disp.annual_kernel(table, resolution=res, radius=radius, **kw),
                   args.repeat)  # fmt: skip
        base = base or t
        print(
            f"annual_kernel {name:<11} (100 m, 20 km) CPU {t:6.2f} s  ratio to inert {t / base:5.2f}"
        )
    if "stacks" not in parts:
        print(f"load average at end {os.getloadavg()}")
        return
    pts = pd.read_csv(REPO / "data/sample/point_sources.csv")
    pad = 21_000.0
    grid = Grid.from_bounds(pts.x.min() - pad, pts.y.min() - pad, pts.x.max() + pad,
                            pts.y.max() + pad, res, snap=True)  # fmt: skip
    kw = dict(x=pts.x.values, y=pts.y.values, stack_height=pts.height.values,
              stack_diameter=pts.diameter.values, exit_temperature=pts.temperature.values,
              exit_velocity=pts.velocity.values, grid=grid, sigma="briggs-urban")  # fmt: skip
    t_old, old = cpu(lambda: per_stack(table, kw, radius), args.repeat)
    t_new, new = cpu(lambda: disp.stack_footprints(table, radius=radius, **kw), args.repeat)
    same = all(np.array_equal(o, n[2]) for o, n in zip(old, new, strict=True))
    print(f"stack footprints ({len(pts)} stacks, 100 m): per stack {t_old:6.2f} s  shared "
          f"{t_new:6.2f} s  ratio {t_old / t_new:5.2f}  identical {same}")  # fmt: skip
    print(f"load average at end {os.getloadavg()}")


if __name__ == "__main__":
    main()
