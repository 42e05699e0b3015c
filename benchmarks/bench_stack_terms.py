"""The stacks' group terms kept from one year to the next, against computed every year.

A stack's radial profiles sum one term per met group and radial node, the vertical term
with its reflections times the wind factor (about 1.3 s of the 1.6 s of CPU a 100 m year of
the sample spends on its profiles); the groups are classes whose values recur from year to
year. Since 2026-12-05 the terms are kept in a table across the years of a run
(:mod:`trajectoire.dispersion.stack_terms`, at most ``TERM_TABLE_BYTES``) and only those
not held are computed; the profiles keep their bits (``tests/test_stack_terms.py``).

This prepares the sample at ``--resolution`` (default 100 m, the production grid) once and
builds the stack footprints of every kernel set with stacks for the years ``--years`` in
turn, each year both ways, alternately: without the table (the code before:
:func:`trajectoire._kernels.stacks.profiles_stacks_last` for every profile) and with it,
the table emptied before the first year (so the first year's cost of filling it is
counted), ``--repeat`` times. It checks that both ways give the same bits and prints the
CPU time (``time.process_time``: both numba threads) of each way per year, the totals and
their ratio, the terms computed and read, the table's size and the load average.

Usage::

    python benchmarks/bench_stack_terms.py [--resolution 100] [--years 2015:2019] [--repeat 1]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_run import _load, prepared_at, same_stacks  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    """Run the benchmark and print its table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, default=REPO / "data" / "sample" / "config.toml")
    ap.add_argument("--resolution", type=float, default=100.0, help="[m]; 0: the config's")
    ap.add_argument("--years", default="2015:2019", help="first:last")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()

    from trajectoire._kernels.stacks import profiles_stacks_last
    from trajectoire.dispersion import concentration
    from trajectoire.dispersion import stack_terms as terms

    first, last = (int(v) for v in args.years.split(":"))
    years = list(range(first, last + 1))
    ctx = prepared_at(args.config, args.resolution or None, "bench_terms")
    sets = [(key, members) for key, members in ctx.kernel_groups.items()
            if ctx.stacks_of(members).any()]  # fmt: skip
    print(f"{_load()} (before); {ctx.grid}; {ctx.points.sizes['source']} stacks, "
          f"{len(sets)} kernel set(s) with stacks; years {first}-{last}", flush=True)  # fmt: skip

    def with_table(year):
        return ctx.stack_sets(year, sets)

    def without(year):
        kept = concentration.profiles_with_terms
        concentration.profiles_with_terms = profiles_stacks_last
        try:
            return ctx.stack_sets(year, sets)
        finally:
            concentration.profiles_with_terms = kept

    without(years[0])  # numba's cache loaded for both ways
    with_table(years[0])
    cpu = {year: [0.0, 0.0] for year in years}
    computed = reused = 0
    for _ in range(args.repeat):
        terms.release()
        for year in years:
            got = []
            for i, way in enumerate((without, with_table)):
                t = time.process_time()
                got.append(way(year))
                cpu[year][i] += time.process_time() - t
            if not same_stacks(*got):
                raise SystemExit(f"{year}: the footprints differ")
        table = terms._TABLE[0]
        computed, reused = table.computed, table.reused
        size = table.table.nbytes / 2**20
    print("| year | without the table | with it | ratio |")
    print("|---|---|---|---|")
    for year, (a, b) in cpu.items():
        print(f"| {year} | {a / args.repeat:.2f} s | {b / args.repeat:.2f} s | {b / a:.3f} |")
    total = [sum(v[i] for v in cpu.values()) / args.repeat for i in (0, 1)]
    print(f"| all | {total[0]:.2f} s | {total[1]:.2f} s | {total[1] / total[0]:.3f} |")
    print(f"terms computed {computed}, read {reused} ({reused / (computed + reused):.0%}); "
          f"table {size:.0f} MiB (at most {terms.TERM_TABLE_BYTES / 2**20:.0f}); identical: True; "
          f"{_load()} (after)")  # fmt: skip
    terms.release()


if __name__ == "__main__":
    main()
