"""CPU of a full-grid forward transform, with and without the plan's kept padded array (#18).

A year of the sample at 100 m transforms about 30 single emission fields of the whole grid
(2222 x 1227 cells, a kernel of 401 x 401: 2700 x 1620 padded). Before 2026-12-03 (late
evening) each went through ``scipy.fft.rfftn(field, s=fft_shape)``: a float32 field was
first converted to float64 (a copy), then scipy made a new padded grid of zeros and copied
the field into it. :meth:`trajectoire.dispersion.ConvolutionPlan.forward` now writes the
field into a padded array kept for the plan's shapes and transforms that. This prints,
for float32 and float64 fields, the best CPU time (``time.process_time``, all threads) of
``--repeat`` calls of:

* ``scipy``: the former path, ``rfftn(asarray(field, float64), s=fft_shape)``;
* ``plan``: :meth:`ConvolutionPlan.forward`;
* ``floor``: ``rfftn`` of an array already padded (the transform alone, nothing to copy),

alternately (ABCABC...), their ratios, and whether the two spectra are the same bits (they
must be); then a kernel class's sum of 4 sector planes and its transform as
``YearDispersion.total`` forms it, in a float64 field then ``forward`` (before) or straight
into the plan's padded array (now), for a float32 (the run's) and a float64 plan. Report
the load average (printed) beside the figures.

Usage::

    python benchmarks/bench_fft_padding.py [--repeat 15] [--shape 1227,2222] [--half 200]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import numpy as np
import scipy.fft

from trajectoire.dispersion import ConvolutionPlan


def _best_alternately(fns: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """The best CPU time [s] (``time.process_time``, all threads) of each of `fns` over
    `repeat` rounds, the functions called in turn within each round."""
    best = dict.fromkeys(fns, np.inf)
    for _ in range(repeat):
        for name, fn in fns.items():
            t0 = time.process_time()
            fn()
            best[name] = min(best[name], time.process_time() - t0)
    return best


def _load() -> str:
    return "load average " + " ".join(f"{v:.2f}" for v in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--shape", default="1227,2222", help="ny,nx of the grid (100 m sample)")
    ap.add_argument("--half", type=int, default=200, help="kernel half-width m [cells]")
    args = ap.parse_args()
    ny, nx = (int(v) for v in args.shape.split(","))
    k = 2 * args.half + 1
    plan = ConvolutionPlan((ny, nx), (k, k))
    print(f"grid {ny} x {nx}, kernel {k} x {k}, padded {plan.fft_shape}; {os.cpu_count()} cores;")
    print(_load())
    rng = np.random.default_rng(0)
    base = rng.random((ny, nx)) * (rng.random((ny, nx)) < 0.5)
    padded = np.zeros(plan.fft_shape)
    padded[:ny, :nx] = base
    for dtype in (np.float32, np.float64):
        field = base.astype(dtype)

        def scipy_path(field: np.ndarray = field) -> np.ndarray:
            a = np.asarray(field, dtype=np.float64)
            return scipy.fft.rfftn(a, s=plan.fft_shape, axes=(-2, -1), workers=plan.workers)

        def plan_path(field: np.ndarray = field) -> np.ndarray:
            return plan.forward(field)

        def floor() -> np.ndarray:
            return scipy.fft.rfftn(padded, axes=(-2, -1), workers=plan.workers)

        same = np.array_equal(scipy_path().view(np.uint8), plan_path().view(np.uint8))
        best = _best_alternately(
            {"scipy": scipy_path, "plan": plan_path, "floor": floor}, args.repeat
        )
        print(
            f"{np.dtype(dtype).name} field: scipy {best['scipy'] * 1e3:.1f} ms, plan "
            f"{best['plan'] * 1e3:.1f} ms ({best['plan'] / best['scipy']:.2f}x), floor "
            f"{best['floor'] * 1e3:.1f} ms; plan / floor {best['plan'] / best['floor']:.2f}, "
            f"scipy / floor {best['scipy'] / best['floor']:.2f}; identical: {same}"
        )
    _class_sums(plan, base, args.repeat)
    print(_load())


def _class_sums(plan: ConvolutionPlan, base: np.ndarray, repeat: int) -> None:
    """A kernel class's sum of 4 float32 sector planes, then its forward transform, as
    ``YearDispersion.total`` forms it: in a float64 field then ``forward`` (the way before),
    or straight into the plan's kept padded array (``kept_field``, ``forward_kept``)."""
    from trajectoire._kernels.planes import planes_sum

    rng = np.random.default_rng(1)
    planes = np.stack([base * rng.random() for _ in range(6)]).astype(np.float32)
    sel = np.array([0, 2, 3, 5], dtype=np.int64)
    for kind in (np.float32, np.float64):
        p = ConvolutionPlan(plan.shape, plan.kernel_shape, dtype=kind)
        field = np.empty(p.shape)

        def before(p: ConvolutionPlan = p, field: np.ndarray = field) -> np.ndarray:
            planes_sum(planes, sel, None, field)
            return p.forward(field)

        def now(p: ConvolutionPlan = p) -> np.ndarray:
            planes_sum(planes, sel, None, p.kept_field())
            return p.forward_kept()

        same = np.array_equal(before().view(np.uint8), now().view(np.uint8))
        best = _best_alternately({"before": before, "now": now}, repeat)
        print(
            f"class sum of 4 planes + forward, {np.dtype(kind).name} plan: float64 field "
            f"{best['before'] * 1e3:.1f} ms, in the padded array {best['now'] * 1e3:.1f} ms "
            f"({best['now'] / best['before']:.2f}x); identical: {same}"
        )


if __name__ == "__main__":
    main()
