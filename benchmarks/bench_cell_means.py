"""What the stacks' cell means cost: a year's footprints with ``cell_mean`` on and off.

Since 2026-12-06 the cells near each stack take the footprint's mean over the cell (the
midpoint rule of :data:`trajectoire.dispersion.cell_means.CELL_MEAN_LEVELS`: 8 x 8, 4 x 4
and 2 x 2 sub-points within 1, 3 and 8 cells of the stack's cell) instead of its value at
the centre (``docs/dispersion.md``, "Cell means near the stacks"). The number of sub-points
is fixed in cells, so the cost relative to the footprints falls as the grid is refined:
the footprints cover the 20 km radius, the sub-points 8 cells.

This prepares the sample at ``--resolution`` (default 100 m, the production grid; the
sample's own 200 m with ``--resolution 200``), then builds the footprints of every kernel
set of the year that disperses from stacks, as a run does (``RunContext.stack_sets``),
with ``cell_mean`` off and on, in turn, ``--repeat`` times per year after one warm-up call
each. It prints the CPU time (``time.process_time``: both numba threads) a year of each
way, their ratio and the load average, and checks that the two ways agree beyond 8 cells
of every stack (the centre values there) and differ near them.

Usage::

    python benchmarks/bench_cell_means.py [--resolution 100] [--years 2018,2019] [--repeat 2]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_run import _load, alternate_ways, prepared_at, year_bench_args  # noqa: E402


def main() -> None:
    """Run the benchmark and print its lines."""
    args = year_bench_args(__doc__, years="2018,2019")

    from trajectoire.dispersion import points
    from trajectoire.dispersion.cell_means import CELL_MEAN_LEVELS

    years = [int(v) for v in args.years.split(",")]
    ctx = prepared_at(args.config, args.resolution or None, "bench_cell_means")
    sets = list(ctx.kernel_groups.items())
    print(f"{_load()} (before); {ctx.grid}; levels {CELL_MEAN_LEVELS}; years {years}",
          flush=True)  # fmt: skip

    def footprints(mean: bool):
        def year_of(year: int) -> list:
            points.STACK_DEFAULTS["cell_mean"] = mean
            try:
                return [fp for got in ctx.stack_sets(year, sets) for fp in got.footprints]
            finally:
                points.STACK_DEFAULTS["cell_mean"] = True

        return year_of

    reach = CELL_MEAN_LEVELS[-1][0]

    def agree(centre: list, means: list) -> bool:
        # the same windows; beyond `reach` cells of the window's centre (the stack's cell),
        # the same bits; near it, some difference
        differ = False
        for (rows, cols, a), (rows_b, cols_b, b) in zip(centre, means, strict=True):
            if (rows, cols) != (rows_b, cols_b):
                return False
            far = np.ones(a.shape, dtype=bool)
            ci, cj = np.unravel_index(np.argmax(np.abs(a - b)), a.shape) if a.size else (0, 0)
            # (a stack on a cell edge has 2 reach + 2 cells a side)
            far[max(ci - 2 * reach - 1, 0) : ci + 2 * reach + 2,
                max(cj - 2 * reach - 1, 0) : cj + 2 * reach + 2] = False  # fmt: skip
            if not np.array_equal(a[far], b[far]):
                return False
            differ |= not np.array_equal(a, b)
        return differ

    cpu = alternate_ways({"centre": footprints(False), "cell means": footprints(True)}, years,
                         args.repeat, agree, "the footprints beyond 8 cells")  # fmt: skip
    print(f"{_load()} (after)")
    print(f"a year's stack footprints: centre values {cpu['centre']:.3f} s of CPU, "
          f"cell means {cpu['cell means']:.3f} s: ratio {cpu['cell means'] / cpu['centre']:.2f} "
          f"({cpu['cell means'] - cpu['centre']:+.3f} s a year)")  # fmt: skip


if __name__ == "__main__":
    main()
