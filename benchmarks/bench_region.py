"""Region scale: the whole Hauts-de-France box at 100 m, time and memory per year (issue 18).

Runs ``trajectoire run`` with the grid widened to the region's bounding box by
``[grid] bounds``:

* the region: longitudes 1.37–4.27° E, latitudes 48.83–51.09° N (the five departments,
  Somme and Aisne included), that is ``[580000, 6858000, 795000, 7112000]`` in Lambert-93,
  215 × 254 km = 54 610 km², 5.46 million cells at 100 m;
* the seven territories' own box with the configuration's buffer (about 24 000 km²), for
  the growth in cells.

Two configurations (``--case``):

* ``sample`` (default): the bundled sample (``data/sample/config.toml``), every sector and
  the 11 pollutants with their deposition and decay kernels: the whole physics. Its
  synthetic inputs cover the territories; beyond them the grid is computed (every FFT is
  over the whole box) but nothing emits, which leaves the cost unchanged.
* ``example``: the real-data example (``examples/hauts-de-france/config.toml``, reading
  ``../shared/data`` as it is); its only emissions are the illustrative IREP stacks, so it
  measures the chain around the dispersion (territories, communes, census, stations) on the
  region rather than the area sources. Skipped with a message where the data is absent.

Each case is run for one year and for two years (``--years``), so that the cost of a year
is the difference (``T(2) − T(1)``) and the rest (prepare, assembly) is what one year costs
beyond it. Printed per case: cells, CPU [s] (user + system of the process tree,
``getrusage``), wall [s], peak resident memory of the process tree (sampled every 0.1 s and
``ru_maxrss``), output size; then the ratios that say whether anything grows faster than
linearly: CPU per year per million cells, and peak memory per million cells, region against
territories box (a ratio near 1 or below: linear or better; the FFTs are ``n log n``, so a
few per cent above 1 is their floor), and the two-year peak against the one-year peak (the
peak must not grow with the years).

The configuration's own settings are kept except the contribution maps
(``[attribution] map_years = []``: at 100 m on the region they would be sectors ×
pollutants maps of 5.5 million cells a year), and the output keeps the cells within the
buffer of the territories (``[output] mask_beyond_buffer``, the default): every cell of the
box is computed, the written ones are those a user of the territories reads.

Usage::

    python benchmarks/bench_region.py [--case sample|example] [--resolution 100]
                                      [--years 2018:2019] [--quick]

``--quick`` runs at 1000 m, to check the script. This machine is shared: the load average is printed before and
after each run, and CPU times (not wall times) are the figures to compare.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_run import measure  # noqa: E402  (the same process-tree measurement)

REPO = Path(__file__).resolve().parents[1]
CASES = {
    "sample": REPO / "data" / "sample" / "config.toml",
    "example": REPO / "examples" / "hauts-de-france" / "config.toml",
}
SHARED = REPO.parent / "shared" / "data"
#: Hauts-de-France's lon/lat extent (1.37–4.27° E, 48.83–51.09° N) in Lambert-93 [m]
REGION = (580_000.0, 6_858_000.0, 795_000.0, 7_112_000.0)


def _load() -> str:
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def _case_config(
    config: Path, resolution: float, bounds: tuple[float, ...] | None, tag: str
) -> Path:
    """A copy of `config` beside it (its inputs are relative to its folder)."""
    text = config.read_text()
    grid = f"resolution = {resolution!r}"
    if bounds is not None:
        grid += "\nbounds = [" + ", ".join(f"{b:.1f}" for b in bounds) + "]"
    text, n = re.subn(r"(?m)^resolution\s*=\s*[0-9.eE+-]+.*$", grid, text, count=1)
    text, m = re.subn(r"(?m)^map_years\s*=.*$", "map_years = []", text, count=1)
    if n != 1 or m != 1:
        raise SystemExit(f"{config}: no [grid] resolution or [attribution] map_years line.")
    copy = config.parent / f".bench_region_{tag}.toml"
    copy.write_text(text)
    return copy


def _cells(path: Path) -> int:
    import xarray as xr

    with xr.open_dataset(path) as ds:
        return int(ds.sizes["x"] * ds.sizes["y"])


def run_case(config: Path, years: str, out: Path) -> dict[str, float]:
    """One `trajectoire run`, measured."""
    cmd = [sys.executable, "-m", "trajectoire.cli", "run", str(config), "--years", years]
    cmd += ["--out", str(out), "--quiet"]
    before = _load()
    res = measure(cmd, out)
    res["cells"] = float(_cells(out))
    print(f"    {years:<11} {before} -> {_load()}", flush=True)
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", choices=sorted(CASES), default="sample")
    ap.add_argument("--resolution", type=float, default=100.0, help="cell size [m]")
    ap.add_argument("--years", default="2018:2019", help="two consecutive years, A:B")
    ap.add_argument("--quick", action="store_true", help="1000 m, to check the script")
    args = ap.parse_args(argv)
    if args.case == "example" and not (SHARED / "territories" / "territoires_aqah.gpkg").exists():
        print(f"skipped: the region's open data is not at {SHARED}")
        return 0
    res = 1000.0 if args.quick else args.resolution
    first, last = (int(v) for v in args.years.split(":"))
    if last != first + 1:
        raise SystemExit("--years: give two consecutive years, e.g. 2018:2019")
    print(
        f"# region scale, {args.case}, {res:g} m cells, years {first} and {first}:{last}, {_load()}"
    )
    print(f"# machine: {os.cpu_count()} cores; CPU = user + system of the process tree\n")
    rows: dict[str, dict[str, dict[str, float]]] = {}
    configs = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench_region_") as tmp:
            for name, bounds in (("territories box", None), ("region", REGION)):
                cfg = _case_config(CASES[args.case], res, bounds, name.split()[0])
                configs.append(cfg)
                print(f"  {name}:", flush=True)
                rows[name] = {
                    n: run_case(cfg, ys, Path(tmp) / f"{name.split()[0]}_{n}.nc")
                    for n, ys in (("1", f"{first}:{first}"), ("2", f"{first}:{last}"))
                }
    finally:
        for c in configs:
            c.unlink(missing_ok=True)
    print()
    head = f"{'case':<16}{'Mcells':>8}{'years':>6}{'CPU s':>9}{'wall s':>9}{'peak GiB':>10}"
    print(head + f"{'output MiB':>12}")
    for name, by_n in rows.items():
        for n, r in by_n.items():
            print(
                f"{name:<16}{r['cells'] / 1e6:8.2f}{n:>6}{r['cpu']:9.1f}{r['wall']:9.1f}"
                f"{r['peak'] / 2**30:10.2f}{r['size'] / 2**20:12.1f}"
            )
    print()
    per = {}
    for name, by_n in rows.items():
        year = by_n["2"]["cpu"] - by_n["1"]["cpu"]
        rest = by_n["1"]["cpu"] - year
        mc = by_n["1"]["cells"] / 1e6
        per[name] = (year / mc, by_n["1"]["peak"] / mc)
        growth = by_n["2"]["peak"] / by_n["1"]["peak"]
        print(
            f"{name:<16} a year {year:7.1f} s CPU ({year / mc:6.2f} s per million cells), "
            f"prepare + assembly {rest:7.1f} s; peak 2 years / 1 year {growth:5.2f}"
        )
    (ty, tm), (ry, rm) = per["territories box"], per["region"]
    print(
        f"\nregion / territories box, per million cells: CPU of a year {ry / ty:5.2f}, "
        f"peak memory {rm / tm:5.2f} (1 = linear in cells)"
    )
    print(f"done, {_load()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
