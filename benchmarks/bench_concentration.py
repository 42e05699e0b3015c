"""Where the time of the concentration chain goes, on the bundled sample (issue 6).

Runs ``pipeline.prepare`` on ``data/sample/config.toml`` then ``compute_year`` for a few
years, printing the wall time of each stage, the peak memory (RSS) and the extrapolation to
the whole 1990-2023 run. In the same run it measures what linearity saves: the local
concentration of one pollutant and year computed the naive way (one FFT convolution per
sector) against the chain's way (emissions grouped by release height before one transform
each, one inverse transform), and prints the ratio and the largest difference.

Usage: ``python benchmarks/bench_concentration.py [--years 2017 2018 2020]``
"""

from __future__ import annotations

import argparse
import resource
import time
import warnings
from pathlib import Path

import numpy as np

from trajectoire import pipeline as P
from trajectoire.concentration import YearDispersion
from trajectoire.config import load_config
from trajectoire.errors import TrajectoireWarning

REPO = Path(__file__).resolve().parents[1]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=str(REPO / "data" / "sample" / "config.toml"))
    ap.add_argument("--years", type=int, nargs="+", default=[2017, 2018, 2020])
    args = ap.parse_args()
    cfg = load_config(args.config)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        ctx = P.prepare(cfg)
    t_prep = time.perf_counter() - t0
    print(f"grid {ctx.grid}; {len(ctx.sectors)} sectors, {len(ctx.output_pollutants)} pollutants")
    print(f"prepare: {t_prep:.1f} s, peak RSS {peak_mb():.0f} MB")
    per_year = []
    for y in args.years:
        t0 = time.perf_counter()
        ds = P.compute_year(ctx, y)
        dt = time.perf_counter() - t0
        kind = "map year" if y in ctx.map_years else "aggregates only"
        per_year.append((y in ctx.map_years, dt))
        print(f"year {y} ({kind}): {dt:.1f} s  [{ds.attrs['timing']}]  peak RSS {peak_mb():.0f} MB")
    plain = [t for m, t in per_year[1:] if not m] or [per_year[-1][1]]
    maps = [t for m, t in per_year if m] or [np.mean(plain)]
    n_map = len(ctx.map_years)
    n_all = len(ctx.years)
    est = t_prep + (n_all - n_map) * float(np.mean(plain)) + n_map * float(np.mean(maps))
    print(f"estimated whole run ({n_all} years, {n_map} map years), compute only: {est:.0f} s")

    # linearity: one transform per height class instead of one per sector
    year, pol = args.years[0], "NOx"
    settings = ctx.settings
    heights = settings.heights(ctx.sectors)
    disp = YearDispersion(ctx.grid, ctx.met.sel(year=year), settings, heights)
    e = P.emission_of(ctx, year, pol)
    t0 = time.perf_counter()
    naive = np.zeros(ctx.grid.shape)
    for i, s in enumerate(ctx.sectors):
        if e[i].any():
            naive += disp.convolve(e[i], settings.height_of(s))
    t_naive = time.perf_counter() - t0
    t0 = time.perf_counter()
    spectra = {}
    for h in heights:
        field = np.add.reduce(
            [e[i] for i, s in enumerate(ctx.sectors) if settings.height_of(s) == h]
        )
        spectra[h] = disp.spectrum(field)
    grouped = disp.apply(spectra)
    t_grouped = time.perf_counter() - t0
    diff = float(np.abs(grouped - naive).max() / np.abs(naive).max())
    print(
        f"local {pol} {year}: one FFT pair per sector {t_naive:.2f} s, grouped by release "
        f"height {t_grouped:.2f} s -> {t_naive / t_grouped:.1f}x faster (max rel. diff {diff:.1e})"
    )
    print(f"peak RSS of the whole benchmark: {peak_mb():.0f} MB")


if __name__ == "__main__":
    main()
