"""A year's stack footprints: one call per kernel set, against every set in one call.

A year of the sample needs the footprints of two kernel sets that have stacks: the
regulated pollutants' and the decaying, depositing PFOA's (its stacks are a subset of the
first set's). Until 2026-12-03 each set was one call of
:func:`trajectoire._kernels.stacks.footprints_aligned`, and each call computed the geometry
of every cell of the stacks' windows again (the distance, bearing and sector masses under
each class's lateral Gaussian, and the exact geometry's pieces near the stacks: about 0.28
s a call at 100 m). :meth:`trajectoire.batch.pipeline.RunContext.stack_sets` computes the
sets together (:func:`trajectoire.dispersion.concentration.stack_footprint_sets`): the
geometry of a cell once for the stacks of every set, each footprint bit for bit the same
(``tests/test_stack_sets.py``).

This prepares the sample at ``--resolution`` (default 100 m, the production grid) once,
then builds the year's footprints of every kernel set both ways, alternately, for each
year asked, ``--repeat`` times, and prints the CPU time (``time.process_time``: both numba
threads) per year of each way, their ratio and the load average, after checking that both
ways give the same bits.

Usage::

    python benchmarks/bench_stack_sets.py [--resolution 100] [--years 1990,2005,2020]
                                          [--repeat 2]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_run import (  # noqa: E402
    _load,
    alternate_ways,
    prepared_at,
    same_stacks,
    year_bench_args,
)

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    """Run the benchmark and print its table."""
    args = year_bench_args(__doc__)
    years = [int(v) for v in args.years.split(",")]
    ctx = prepared_at(args.config, args.resolution or None, "bench_sets")
    sets = list(ctx.kernel_groups.items())
    with_stacks = sum(bool(ctx.stacks_of(m).any()) for _, m in sets)
    print(f"{_load()} (before); {len(sets)} kernel set(s), {with_stacks} with stacks; "
          f"years {years}", flush=True)  # fmt: skip

    def apart(year):
        return [ctx.stack_set(year, key, m, emitting_only=True) for key, m in sets]

    def together(year):
        return ctx.stack_sets(year, sets)

    ways = {"one call per set": apart, "every set in one call": together}
    cpu = alternate_ways(ways, years, args.repeat, same_stacks, "the footprints")
    print("| a year's footprints | CPU per year |")
    print("|---|---|")
    for name in ways:
        print(f"| {name} | {cpu[name]:.3f} s |")
    before, after = cpu.values()
    print(f"ratio (together / apart): {after / before:.3f}; identical: True; {_load()} (after)")


if __name__ == "__main__":
    main()
