"""Wind-direction sectors of the annual path against hourly brute force (issue 14).

The sample's 2019 meteorology (``data/sample/meteo.csv.gz``, directions reported to 10°) is
turned into frequency tables in several ways; the annual (sector-averaged, ISCLT) path of
:mod:`trajectoire.dispersion.points` is evaluated at receptors on rings around one stack and
compared with the mean of the hourly plumes of the same physics
(:func:`trajectoire.dispersion.hourly_at_receptors`). Printed per distance: median and 90th
percentile of ``|annual / brute - 1|`` over the bearings of the ring.

Two brute-force references:

* ``reported``: one plume per hour along the reported direction (what the review measured).
  With 10° reports every plume lies on one of 36 spokes, so far from the source, where the
  plume is narrower than the spacing of the spokes, the reference itself is spiky.
* ``spread``: the reported direction stands for a wind uniform over ``d ± 5°`` (the rounding
  interval): each hour is the mean of ``--sub`` plumes at equally spaced directions of that
  interval. This is the expectation of the brute force over the unknown true directions, the
  quantity an annual mean of the real wind estimates.

Annual-path variants: the old default (16 sectors of 22.5°, every report wholly in its
sector, hat smoothing), 16 sectors with the reports split by overlap, 36 sectors of 10° (hat
smoothing, and flat), and a prototype, ``36 gauss``: 36 flat sectors convolved with the
plume's lateral Gaussian (``sigma_y(r) / r`` in angle), computed here in numpy (not in the
library) to show what the sector-average formula itself costs.

Both paths use the class default mixing heights and one ambient temperature (283.15 K; the
sample's hourly temperatures are dropped) so that only the table differs. Calms (below
1 m s-1) are raised to 1 m s-1 in both paths.

Run: ``python benchmarks/bench_wind_sectors.py [--quick] [--sub 10] [--sigma briggs-urban]``.
"""

from __future__ import annotations

import argparse
import math
import os
import time
from pathlib import Path

import numpy as np
from scipy.special import ndtr

from trajectoire import dispersion as disp
from trajectoire import meteo as tm
from trajectoire._kernels import plume_longterm as lt
from trajectoire._kernels.deposition import NO_DEPOSITION
from trajectoire.dispersion.longterm import _T_PER_YR_TO_UG
from trajectoire.dispersion.plume import _scheme
from trajectoire.dispersion.points import _stack_groups, _stacks

ROOT = Path(__file__).resolve().parents[1]
DISTANCES = (200.0, 500.0, 1000.0, 2000.0, 5000.0, 10000.0, 20000.0)
STACKS = {
    "ground (0 m, no rise)": {"stack_height": 0.0, "stack_diameter": 0.0,
                              "exit_temperature": 283.15, "exit_velocity": 0.0},
    "stack 50 m (d 2 m, 10 m/s, 400 K)": {"stack_height": 50.0, "stack_diameter": 2.0,
                                          "exit_temperature": 400.0, "exit_velocity": 10.0},
}  # fmt: skip
VARIANTS = {  # label: (n_directions, direction_resolution, smoothing)
    "old 16 hat": (16, 0.0, "hat"),
    "16 split hat": (16, "auto", "hat"),
    "36 hat": (36, "auto", "hat"),
    "36 flat": (36, "auto", "flat"),
    "36 gauss": (36, "auto", "gauss"),
    "36 gauss np*": (36, "auto", "gauss-np"),
}
MODES = {"flat": lt.SECTOR_FLAT, "hat": lt.SECTOR_HAT, "gauss": lt.SECTOR_GAUSS}


def load_meteo(year: int = 2019):
    met = tm.read_hourly(
        ROOT / "data/sample/meteo.csv.gz", latitude=50.57, longitude=3.10, roughness_length=0.5
    )
    met = met.sel(time=slice(str(year), str(year)))
    met = tm.add_stability(met)
    return met.drop_vars("temperature")


def receptors(n_bearings: int):
    bearing = np.arange(n_bearings) * (360.0 / n_bearings)
    r, b = (v.ravel() for v in np.meshgrid(DISTANCES, bearing, indexing="ij"))
    return r, b, r * np.sin(np.radians(b)), r * np.cos(np.radians(b))


def brute_force(met, stack, rx, ry, sigma, offsets, calm_threshold):
    """Mean over the valid hours of the hourly plumes, averaged over direction `offsets`."""
    acc = np.zeros(rx.size)
    for off in offsets:
        m = met.copy()
        m["wind_direction"] = (met["wind_direction"] + off) % 360.0
        c = disp.hourly_at_receptors(
            m,
            x=0.0,
            y=0.0,
            emission=1.0,
            receptors_x=rx,
            receptors_y=ry,
            sigma=sigma,
            calm_threshold=calm_threshold,
            **stack,
        )
        acc += np.nanmean(c.values, axis=0)
    return acc / len(offsets)


def annual(table, stack, rx, ry, sigma, smoothing):
    """The annual path of ``point_sources_annual`` at point receptors (1 t yr-1)."""
    code = _scheme(sigma)
    _, st = _stacks(0.0, 0.0, **{k: [v] for k, v in stack.items()})
    a, cls, zis, ius, hs, fac = _stack_groups(table.isel(year=0), code, st, 283.15)
    a = np.ascontiguousarray(a * fac[0][:, None] * _T_PER_YR_TO_UG)
    h = np.ascontiguousarray(hs[0])
    out = np.empty(rx.size)
    if smoothing != "gauss-np":
        smooth = MODES[smoothing]
        for i in range(rx.size):
            out[i] = lt.point_density(
                rx[i], ry[i], 1.5, a, h, zis, cls, ius, code, 0.0, 0.0, smooth, NO_DEPOSITION
            )
        return out
    # prototype: flat sectors convolved with the lateral Gaussian of the plume
    nd = a.shape[1]
    width = 2 * math.pi / nd
    centres = np.arange(nd) * width + math.pi  # plume bearings of the sectors
    letters = np.array(list("ABCDEF"))
    for i in range(rx.size):
        r = math.hypot(rx[i], ry[i])
        theta = math.atan2(rx[i], ry[i])
        dth = (theta - centres + math.pi) % (2 * math.pi) - math.pi
        tot = 0.0
        for g in range(a.shape[0]):
            sy, _ = disp.dispersion_coefficients(r, letters[cls[g]], sigma)
            st_ = max(float(sy) / r, 1e-6)
            dens = (ndtr((dth + width / 2) / st_) - ndtr((dth - width / 2) / st_)) / width
            cic = lt.cic_unit(r, 1.5, h[g], zis[g], code, cls[g], 0.0, 0.0, ius[g])
            tot += float(a[g] @ dens) * cic
        out[i] = tot / r
    return out


def stats(est, ref, dist):
    rows = []
    for d in DISTANCES:
        sel = (dist == d) & (ref > 0)
        e = np.abs(est[sel] / ref[sel] - 1.0)
        rows.append((np.median(e), np.percentile(e, 90)))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="36 bearings, 4 sub-directions")
    ap.add_argument("--sub", type=int, default=10, help="sub-directions per 10° report")
    ap.add_argument("--bearings", type=int, default=72)
    ap.add_argument("--sigma", default="briggs-urban")
    ap.add_argument(
        "--calm-threshold",
        type=float,
        default=tm.CALM_THRESHOLD,
        help="calm threshold [m s-1] of both paths (default: the library's)",
    )
    ap.add_argument(
        "--no-calms",
        action="store_true",
        help="raise calms to 1 m s-1 before the tables (kept on their reported direction in "
        "both paths, instead of spread over the directions by the table)",
    )
    args = ap.parse_args(argv)
    nb, nsub = (36, 4) if args.quick else (args.bearings, args.sub)
    t0 = time.perf_counter()
    met = load_meteo()
    if args.no_calms:
        met["wind_speed"] = np.maximum(met["wind_speed"], args.calm_threshold)
    dist, _, rx, ry = receptors(nb)
    tables = {
        (nd, res): tm.met_classes(
            met, n_directions=nd, direction_resolution=res, calm_threshold=args.calm_threshold
        )
        for nd, res, _ in VARIANTS.values()
    }
    offsets = (np.arange(nsub) + 0.5) / nsub * 10.0 - 5.0
    n_calm = int((met["wind_speed"] < args.calm_threshold).sum())
    print(f"# sample 2019, {int(met.sizes['time'])} h, sigma={args.sigma}, {nb} bearings per "
          f"ring, spread reference = {nsub} sub-directions per report, calm threshold "
          f"{args.calm_threshold} m/s ({n_calm} calm hours)"
          + (", calms raised to the threshold" if args.no_calms else ""))  # fmt: skip
    print(f"# load average at start (1, 5, 15 min): {os.getloadavg()}")
    print("# |annual/brute - 1|: median / 90th percentile [%] per distance [m]")
    for sname, stack in STACKS.items():
        refs = {
            "reported": brute_force(met, stack, rx, ry, args.sigma, [0.0], args.calm_threshold),
            "spread": brute_force(met, stack, rx, ry, args.sigma, offsets, args.calm_threshold),
        }
        ests = {
            label: annual(tables[(nd, res)], stack, rx, ry, args.sigma, sm)
            for label, (nd, res, sm) in VARIANTS.items()
        }
        for rname, ref in refs.items():
            print(f"\n## {sname}, reference: brute force, directions {rname}")
            print(f"{'variant':<14}" + "".join(f"{int(d):>13}" for d in DISTANCES))
            for label, est in ests.items():
                cells = "".join(f"{100 * m:6.1f} /{100 * p:5.1f}" for m, p in stats(est, ref, dist))
                print(f"{label:<14}{cells}")
    print(f"\n# load average at end: {os.getloadavg()}; wall {time.perf_counter() - t0:.0f} s")
    print("# * 36 gauss np: independent numpy version of the library's 36 gauss, see the docstring")


if __name__ == "__main__":
    main()
