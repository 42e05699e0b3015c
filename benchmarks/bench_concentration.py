"""Where the time of the concentration chain goes, on the bundled sample (issue 6).

Runs ``pipeline.prepare`` on ``data/sample/config.toml`` then ``compute_year`` for a few
years, printing the wall time of each stage, the peak memory (RSS) and the extrapolation to
the whole 1990-2023 run. In the same run it measures what linearity saves: the local
concentration of one pollutant and year computed the naive way (one FFT convolution per
sector) against the chain's way (emissions grouped by release height before one transform
each, one inverse transform), and prints the ratio and the largest difference. Last, it
times the receptor aggregates of one year (territory means, population-weighted means,
station cells, by sector and origin) the old way, one
``attribution.aggregate_by_origin_window`` call per window and pollutant, against the
pipeline's way, one ``attribution.aggregate_by_origin_stack`` call per window for every
pollutant, and prints the ratio and the largest relative difference (best of three,
interleaved).

Usage: ``python benchmarks/bench_concentration.py [--years 2017 2018 2020] [--resolution 100]``
"""

from __future__ import annotations

import argparse
import resource
import time
import warnings
from pathlib import Path

import numpy as np

from trajectoire import pipeline as P
from trajectoire._kernels.aggregate import shared_cells
from trajectoire.attribution import aggregate_by_origin_stack, aggregate_by_origin_window
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
    ap.add_argument(
        "--resolution", type=float, default=None, help="grid cell size [m] (100 = production)"
    )
    args = ap.parse_args()
    cfg = load_config(args.config)
    if args.resolution is not None:
        grid = cfg.grid.model_copy(update={"resolution": float(args.resolution)})
        cfg = cfg.model_copy(update={"grid": grid})
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
    aggregates_old_vs_new(ctx, year, disp)
    print(f"peak RSS of the whole benchmark: {peak_mb():.0f} MB")


def aggregates_old_vs_new(ctx: P.RunContext, year: int, disp: YearDispersion) -> None:
    """Receptor aggregates of `year`: per (window, pollutant) calls vs one call per window."""
    settings = ctx.settings
    heights = settings.heights(ctx.sectors)
    h_of_s = np.array([heights.index(settings.height_of(s)) for s in ctx.sectors])
    pop = P.population(ctx, year)
    windows = []  # (rows, cols, adjoint) as compute_year builds them
    for i, rec in enumerate(ctx.territory_receptors):
        w = pop[rec.rows, rec.cols] * ctx.fractions[i][rec.rows, rec.cols]
        both = np.stack([rec.weights, w / w.sum() if w.sum() > 0 else w])
        windows.append((rec.rows, rec.cols, disp.adjoints(both, heights)))
    stations = ctx.stations
    for r, c in zip(stations["row"].to_numpy(int), stations["col"].to_numpy(int), strict=True):
        parts = [disp.point_adjoint(int(r), int(c), h) for h in heights]
        windows.append((parts[0][0], parts[0][1], np.stack([q[2] for q in parts])))
    per_pol = [P.emission_of(ctx, year, p) for p in ctx.dispersed]  # (sector, y, x) each
    stack = np.stack(per_pol, axis=1)  # (sector, pollutant, y, x), C-contiguous
    n_o = len(ctx.origins)
    oidx, ofr = ctx.origin_index, ctx.origin_fraction

    def old() -> list[np.ndarray]:
        return [
            np.stack(
                [
                    aggregate_by_origin_window(
                        a, e[:, rs, cs], h_of_s, oidx[:, rs, cs], ofr[:, rs, cs], n_o
                    )
                    for e in per_pol
                ],
                axis=-1,
            )
            for rs, cs, a in windows
        ]

    shared = shared_cells(np.asarray(oidx, dtype=np.int64))  # once per grid, as the run does

    def new() -> list[np.ndarray]:
        return [
            aggregate_by_origin_stack(
                a, stack, h_of_s, oidx, ofr, n_o, rows=rs, cols=cs, shared=shared
            )
            for rs, cs, a in windows
        ]

    best = {"old": np.inf, "new": np.inf}
    result = {}
    for _ in range(3):
        for name, f in (("old", old), ("new", new)):
            t0 = time.perf_counter()
            result[name] = f()
            best[name] = min(best[name], time.perf_counter() - t0)
    diff = max(
        float(np.abs(n - o).max() / max(np.abs(o).max(), 1e-300))
        for n, o in zip(result["new"], result["old"], strict=True)
    )
    print(
        f"aggregates {year} ({len(windows)} windows x {len(per_pol)} pollutants): one call per "
        f"window and pollutant {best['old']:.3f} s, one call per window {best['new']:.3f} s -> "
        f"{best['old'] / best['new']:.1f}x faster (max rel. diff {diff:.1e})"
    )


if __name__ == "__main__":
    main()
