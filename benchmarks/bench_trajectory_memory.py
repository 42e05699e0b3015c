"""Peak memory of the lazy emission trajectory: 10 years versus 34 years (1990-2023).

Builds a sample-sized synthetic reference inventory (1240 x 2240 cells of 100 m, 9 GNFR
sectors x 6 pollutants, 40 stacks with some closures; the gridded field is generated lazily
by dask, as a NetCDF opened with chunks would be), rebuilds the trajectory with
:func:`trajectoire.trajectory.rebuild` and consumes it year by year and sector by sector:
either reducing each slab (default) or writing it to a NetCDF file (``--write DIR``). Each
case runs in its own subprocess; the peak resident memory (``ru_maxrss``) of each is printed,
with the ratio 34 years / 10 years. Target: below 2 GB whatever the number of years.

Usage::

    python benchmarks/bench_trajectory_memory.py            # reduce each year
    python benchmarks/bench_trajectory_memory.py --write /tmp/traj   # write NetCDF files
    python benchmarks/bench_trajectory_memory.py --ny 400 --nx 600   # a quick run
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

SECTORS = (
    "A_PublicPower",
    "B_Industry",
    "C_OtherStationaryComb",
    "E_Solvents",
    "F_RoadTransport",
    "I_OffRoad",
    "J_Waste",
    "K_AgriLivestock",
    "L_AgriOther",
)
POLLUTANTS = ("NOx", "PM10", "PM2.5", "SO2", "NH3", "NMVOC")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: kB


def _status_mb(field: str) -> float:
    """VmRSS / VmHWM of this process [MB] (Linux)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def _reset_peak() -> None:
    """Reset VmHWM to the current RSS (Linux >= 4.0: write 5 to clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def run_case(
    n_years: int, ny: int, nx: int, write: str | None, in_memory: bool
) -> dict[str, float]:
    """Rebuild the last `n_years` of 1990-2023 and consume them year by year."""
    import dask
    import numpy as np
    import pandas as pd

    from trajectoire.grid import Grid
    from trajectoire.sample.synthetic import synthetic_inventory
    from trajectoire.trajectory import rebuild

    dask.config.set(scheduler="threads", num_workers=2)
    base = _peak_mb()
    grid = Grid.from_bounds(650_000, 7_000_000, 650_000 + nx * 100, 7_000_000 + ny * 100, 100)
    ref = synthetic_inventory(
        grid,
        sectors=SECTORS,
        pollutants=POLLUTANTS,
        reference_year=2018,
        n_sources=40,
        seed=1,
        lazy=True,
    )
    if in_memory:  # a numpy reference, filled sector by sector (no double-size temporary)
        data = np.empty(ref["emission"].shape)
        for j in range(len(SECTORS)):
            data[j] = ref["emission"].isel(sector=j).values
        ref["emission"] = (ref["emission"].dims, data, {"units": "t yr-1"})
    rng = np.random.default_rng(2)
    ref["end_year"] = ("source", np.where(rng.random(40) < 0.3, rng.integers(1995, 2015, 40), -1))
    ref["point_emission"] = ref["point_emission"] * 0.01
    ref["point_emission"].attrs["units"] = "t yr-1"
    rows = [
        (s, p, y, float(v))
        for s in SECTORS
        for p in POLLUTANTS
        for y, v in zip(range(1990, 2024), np.linspace(3.0, 1.0, 34), strict=True)
    ]
    indices = pd.DataFrame(rows, columns=["sector", "pollutant", "year", "value"])
    years = list(range(2024 - n_years, 2024))
    before = _status_mb("VmRSS")
    _reset_peak()
    t0 = time.perf_counter()
    out = rebuild(ref, indices, years)
    t_build = time.perf_counter() - t0
    em = out["emission"]
    total = 0.0
    nc = None
    if write:
        import netCDF4

        nc = netCDF4.Dataset(f"{write}/trajectory_{n_years}.nc", "w")
        for d, n in (("year", n_years), ("sector", len(SECTORS)), ("pollutant", 6)):
            nc.createDimension(d, n)
        nc.createDimension("y", ny)
        nc.createDimension("x", nx)
        var = nc.createVariable(
            "emission",
            "f4",
            ("year", "sector", "pollutant", "y", "x"),
            zlib=True,
            complevel=1,
            chunksizes=(1, 1, 1, min(ny, 512), min(nx, 512)),
        )
        var.units = "t yr-1"
    t0 = time.perf_counter()
    for i in range(n_years):
        for j in range(len(SECTORS)):
            slab = em.isel(year=i, sector=j).values  # one (pollutant, y, x) slab computed
            total += float(slab.sum())
            if nc is not None:
                nc["emission"][i, j] = slab.astype("f4")
    t_run = time.perf_counter() - t0
    if nc is not None:
        nc.close()
    return {
        "years": n_years,
        "peak_mb": _peak_mb(),
        "baseline_mb": base,
        "before_mb": before,
        "rebuild_peak_mb": _status_mb("VmHWM"),
        "build_s": t_build,
        "run_s": t_run,
        "total_t": total,
    }


def main(argv: list[str] | None = None) -> int:
    """Run both cases in subprocesses and print peak memory and the ratio."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ny", type=int, default=1240)
    ap.add_argument("--nx", type=int, default=2240)
    ap.add_argument("--write", default=None, help="folder for the NetCDF files (default: reduce)")
    ap.add_argument(
        "--in-memory",
        action="store_true",
        help="numpy reference held in memory (default: lazy, as a NetCDF opened with chunks)",
    )
    ap.add_argument("--case", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.case is not None:
        print(json.dumps(run_case(args.case, args.ny, args.nx, args.write, args.in_memory)))
        return 0
    results = []
    for n in (10, 34):
        cmd = [sys.executable, __file__, "--case", str(n), "--ny", str(args.ny)]
        cmd += ["--nx", str(args.nx)] + (["--write", args.write] if args.write else [])
        cmd += ["--in-memory"] if args.in_memory else []
        res = subprocess.run(cmd, capture_output=True, text=True, check=True)
        results.append(json.loads(res.stdout.strip().splitlines()[-1]))
    cells = args.ny * args.nx
    mode = f"write NetCDF to {args.write}" if args.write else "reduce each year"
    mode += ", numpy reference in memory" if args.in_memory else ", lazy reference"
    print(
        f"grid {args.ny} x {args.nx} = {cells / 1e6:.2f} M cells, {len(SECTORS)} sectors x "
        f"{len(POLLUTANTS)} pollutants, 40 stacks, float64, {mode}"
    )
    print(
        f"{'years':>6} {'peak RSS [MB]':>14} {'after import':>13} {'before rebuild':>15} "
        f"{'peak in rebuild+run':>20} {'build [s]':>10} {'run [s]':>8}"
    )
    for r in results:
        print(
            f"{r['years']:>6} {r['peak_mb']:>14.0f} {r['baseline_mb']:>13.0f} "
            f"{r['before_mb']:>15.0f} {r['rebuild_peak_mb']:>20.0f} {r['build_s']:>10.2f} "
            f"{r['run_s']:>8.1f}"
        )
    ratio = results[1]["peak_mb"] / results[0]["peak_mb"]
    print(f"peak ratio 34 / 10 years: {ratio:.2f} (years ratio 3.4); target: peak < 2048 MB")
    ok = all(r["peak_mb"] < 2048 for r in results)
    print("PASS" if ok else "FAIL: peak above 2 GB")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
