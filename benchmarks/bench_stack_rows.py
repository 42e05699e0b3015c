"""A register's stacks: each distinct stack's profiles tabulated once, against once per site.

A register read without stack parameters gives each site the default stack of its activity
(:data:`trajectoire.inventory.irep.ACTIVITY_CLASSES`: 15 activities, 13 distinct stacks),
so most of a region's sites share their parameters. Their radial profiles (the sum over the
year's met groups, about 0.05 s a stack and a kernel set at 100 m) depend on the stack's
parameters and the year, not on its place: since 2026-12-05
(:func:`trajectoire.dispersion.concentration.stack_footprint_sets`) stacks whose heights
and wind factors are the same bytes in every met group share one tabulation
(``_alike_rows``, ``_KeptRows``); each footprint keeps its bits
(``tests/test_stack_sets.py``). The footprints themselves (the geometry around each site)
are still computed site by site. The sites are grouped by their offsets to the cell
centres (sites on the same offsets share each cell's geometry) in a time linear in the
sites since the same day (``_offset_groups``): the benchmark also times that grouping
against comparing each site with every group, the code before.

This prepares the sample at ``--resolution`` (default 100 m, the production grid) once,
places ``--stacks`` sites uniformly at random over its grid (seed 0) with the stacks of the
activity classes drawn at random, and builds one year's footprints of every kernel set of
the sample that disperses from stacks (its decay, deposition and meteorology) both ways,
alternately, ``--repeat`` times: shared, and with every site its own row (the code before,
``_alike_rows`` replaced by one row per stack). It prints the CPU time
(``time.process_time``: both numba threads) of each way, their ratio and the load average,
after checking that both ways give the same bits.

Usage::

    python benchmarks/bench_stack_rows.py [--resolution 100] [--years 2019] [--repeat 2]
                                          [--stacks 200]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import xarray as xr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_run import _load, alternate_ways, prepared_at, same_stacks, year_bench_parser  # noqa: E402


def _sites(ctx, n: int) -> xr.Dataset:
    """`n` sites at random over the grid, each with an activity class's default stack."""
    from trajectoire.inventory.irep import ACTIVITY_CLASSES

    rng = np.random.default_rng(0)
    kinds = list(ACTIVITY_CLASSES.values())
    pick = [kinds[i] for i in rng.integers(0, len(kinds), n)]
    g = ctx.grid
    x0, y0, x1, y1 = g.bounds
    return xr.Dataset(
        {
            "source_x": ("source", rng.uniform(x0, x1, n)),
            "source_y": ("source", rng.uniform(y0, y1, n)),
            "source_sector": ("source", np.array([k["sector"] for k in pick], dtype=object)),
            "stack_height": ("source", [float(k["height"]) for k in pick]),
            "stack_diameter": ("source", [float(k["diameter"]) for k in pick]),
            "exit_temperature": ("source", [float(k["temperature"]) for k in pick]),
            "exit_velocity": ("source", [float(k["velocity"]) for k in pick]),
            "origin": ("source", np.array([ctx.origins[0]] * n)),
        },
        coords={"source": [f"site{i}" for i in range(n)]},
    )


def _grouping(ctx, points: xr.Dataset) -> None:
    """Time the grouping of the sites by their offsets to the cell centres
    (``_offset_groups``) against comparing each site with every group (the code before
    2026-12-05, quadratic in the sites), and check they give the same groups."""
    from trajectoire.dispersion.concentration import (
        _join_first,
        _offset_groups,
        _window_offsets,
    )

    grid, xs, ys = ctx.grid, points["source_x"].values, points["source_y"].values
    half = int(np.ceil(ctx.settings.radius / grid.resolution))
    t = time.process_time()
    now = _offset_groups(grid, xs, ys, half)
    t_now = time.process_time() - t
    t = time.process_time()
    before: list[tuple[list[int], np.ndarray, np.ndarray]] = []
    for s, (dx, dy) in enumerate(_window_offsets(grid, xs, ys, half)):
        if not _join_first(before, range(len(before)), s, dx, dy):
            before.append(([s], dx, dy))
    t_before = time.process_time() - t
    if [g[0] for g in now] != [g[0] for g in before]:
        raise SystemExit("the sites' groups differ")
    print(f"grouping {xs.size} sites ({len(now)} groups): every group compared {t_before:.3f} s, "
          f"by centre offsets {t_now:.3f} s; the same groups")  # fmt: skip


def main() -> None:
    """Run the benchmark and print its table."""
    ap = year_bench_parser(__doc__, years="2019")
    ap.add_argument("--stacks", type=int, default=200, help="number of sites")
    args = ap.parse_args()

    from trajectoire._kernels.stacks import profiles_stacks_last
    from trajectoire.dispersion import concentration
    from trajectoire.dispersion.local import StackSet, year_stack_sets
    from trajectoire.dispersion.stack_terms import release as release_terms

    years = [int(v) for v in args.years.split(",")]
    ctx = prepared_at(args.config, args.resolution or None, "bench_rows")
    points = _sites(ctx, args.stacks)
    keys = [key for key, members in ctx.kernel_groups.items() if ctx.stacks_of(members).any()]
    shared = concentration._alike_rows
    with_terms = concentration.profiles_with_terms
    params = ["stack_height", "stack_diameter", "exit_temperature", "exit_velocity"]
    n_rows = len({tuple(v) for v in np.column_stack([points[p].values for p in params])})
    print(f"{_load()} (before); {ctx.grid}; {args.stacks} sites, {n_rows} distinct stacks; "
          f"{len(keys)} kernel set(s) with stacks; years {years}", flush=True)  # fmt: skip

    def footprints(year):
        release_terms()  # each call as a run's first year: the row sharing alone is timed
        sets = [StackSet(ctx.met_of(year, season), rate, vd) for rate, vd, season in keys]
        return year_stack_sets(points, ctx.grid, ctx.settings, ctx.sectors, ctx.origins, sets)

    def own_rows(*per_stack):
        n = per_stack[0].shape[0]
        return np.arange(n), np.arange(n)

    def apart(year):
        # and without the table of terms kept across calls (2026-12-05 later), which would
        # share the terms of alike stacks too
        concentration._alike_rows = own_rows
        concentration.profiles_with_terms = profiles_stacks_last
        try:
            return footprints(year)
        finally:
            concentration._alike_rows = shared
            concentration.profiles_with_terms = with_terms

    ways = {"a row per site (before)": apart, "a row per distinct stack": footprints}
    cpu = alternate_ways(ways, years, args.repeat, same_stacks, "the footprints")
    _grouping(ctx, points)
    print("| a year's footprints | CPU per year |")
    print("|---|---|")
    for name in ways:
        print(f"| {name} | {cpu[name]:.2f} s |")
    before, after = cpu.values()
    print(f"ratio (shared / before): {after / before:.3f}; identical: True; {_load()} (after)")


if __name__ == "__main__":
    main()
