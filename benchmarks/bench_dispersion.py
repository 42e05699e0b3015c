"""Dispersion benchmarks (issue 5): ratios measured in one run, printed.

1. Annual kernel path: FFT convolution (``ConvolutionPlan``) against a direct numpy summation
   over the kernel offsets, on a 500 x 500 grid (same result checked). Target >= 50x.
2. Point-source plume: the numba kernel (``hourly_points``) against a plain numpy
   implementation and against the ``gplume`` package's plume function, on 100 sources x
   250 000 receptors. Target >= 5x faster than gplume per source-receptor pair.

gplume (PyPI ``gplume`` 1.0.2) runs network calls and opens dialogs when its modules are
imported, so it is never imported: the script installs it (``--no-deps``) into
``benchmarks/.venv-gplume`` (git-ignored) the first time, reads the installed ``gpm.py`` and
compiles only its ``gplume`` function (found with ``ast``) at run time. No gplume code is kept
in this repository. Set ``GPLUME_GPM=/path/to/gpm.py`` to use another copy, or pass
``--no-gplume`` to skip it.

Run: ``python benchmarks/bench_dispersion.py [--quick] [--no-gplume]``.
"""

from __future__ import annotations

import argparse
import ast
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from trajectoire import dispersion as disp
from trajectoire import meteo as tm
from trajectoire._kernels import plume_longterm as lt

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv-gplume"


def best_of(fn, repeat=3):
    times = []
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def synthetic_year(seed=0):
    rng = np.random.default_rng(seed)
    n = 8760
    t = pd.date_range("2021-01-01", periods=n, freq="h")
    met = xr.Dataset(
        {
            "wind_speed": ("time", rng.gamma(2.0, 2.0, n)),
            "wind_direction": ("time", rng.vonmises(math.radians(235), 1.0, n) % (2 * np.pi)),
            "stability": ("time", np.array(list("ABCDEF"))[rng.integers(0, 6, n)]),
        },
        coords={"time": t},
    )
    met["wind_direction"] = np.degrees(met["wind_direction"]) % 360.0
    return tm.met_classes(met).isel(year=0)


def direct_sum(field, kernel):
    ny, nx = field.shape
    ky, kx = kernel.shape
    my, mx = ky // 2, kx // 2
    out = np.zeros_like(field)
    for i in range(ky):
        for j in range(kx):
            k = kernel[i, j]
            if k == 0.0:
                continue
            di, dj = i - my, j - mx
            ys, ye = max(0, -di), min(ny, ny - di)
            xs, xe = max(0, -dj), min(nx, nx - dj)
            if ys < ye and xs < xe:
                out[ys + di : ye + di, xs + dj : xe + dj] += k * field[ys:ye, xs:xe]
    return out


def bench_fft(quick: bool) -> None:
    table = synthetic_year()
    n = 500
    radius = 2000.0 if quick else 5000.0
    disp.annual_kernel(table, resolution=100.0, radius=500.0)  # compile outside the timing
    t_kernel, kern = best_of(lambda: disp.annual_kernel(table, resolution=100.0, radius=radius))
    t_k20, _ = best_of(lambda: disp.annual_kernel(table, resolution=100.0, radius=20000.0))
    rng = np.random.default_rng(1)
    field = rng.gamma(0.5, 1.0, (n, n))
    plan = disp.ConvolutionPlan(field.shape, kern.shape)
    t_fft, c_fft = best_of(lambda: plan.convolve(field, kern.values))
    t_dir, c_dir = best_of(lambda: direct_sum(field, kern.values), repeat=1)
    err = np.abs(c_fft - c_dir).max() / np.abs(c_dir).max()
    print(f"[annual kernel] {n}x{n} grid, 100 m, cut-off {radius / 1000:g} km "
          f"({kern.shape[0]}x{kern.shape[1]} kernel, {table.sizes['direction']} sectors)")  # fmt: skip
    print(f"  kernel build                     {t_kernel * 1e3:9.1f} ms")
    print(f"  kernel build, 20 km (401x401)    {t_k20 * 1e3:9.1f} ms")
    print(f"  FFT convolution                  {t_fft * 1e3:9.1f} ms")
    print(f"  direct numpy summation           {t_dir * 1e3:9.1f} ms")
    print(f"  max |FFT - direct| / max         {err:9.2e}")
    print(f"  ratio direct / FFT               {t_dir / t_fft:9.1f} x   (target >= 50)")
    print(f"  ratio direct / (kernel + FFT)    {t_dir / (t_fft + t_kernel):9.1f} x")


# ------------------------------------------------------------------ point sources
def gplume_function():
    """Compile only the ``gplume`` function of the installed package (never import it)."""
    gpm = os.environ.get("GPLUME_GPM")
    if gpm is None:
        py = VENV / "bin" / "python"
        if not py.exists():
            print("  installing gplume 1.0.2 (no deps) into", VENV)
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
            subprocess.run(
                [str(py), "-m", "pip", "install", "-q", "--no-deps", "gplume==1.0.2"], check=True
            )
        found = list(VENV.glob("lib/python*/site-packages/gplume/gpm.py"))
        if not found:
            raise FileNotFoundError(f"gplume/gpm.py not found under {VENV}")
        gpm = str(found[0])
    source = Path(gpm).read_text()
    tree = ast.parse(source)
    funcs = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "gplume"]
    if not funcs:
        raise LookupError(f"no function 'gplume' in {gpm}")
    module = ast.Module(body=funcs, type_ignores=[])
    namespace = {"np": np}
    exec(compile(module, gpm, "exec"), namespace)  # only the plume function, nothing else
    return namespace["gplume"], gpm


def numpy_plume_sources(sx, sy, q, h, u, wdir, rx, ry, rz, a_y, a_z):
    """Plain numpy: one vectorised pass over the receptors per source (ground reflection)."""
    phi = math.radians(wdir)
    ex, ey = -math.sin(phi), -math.cos(phi)
    out = np.zeros(rx.size)
    for s in range(sx.size):
        ox = rx - sx[s]
        oy = ry - sy[s]
        xd = ox * ex + oy * ey
        yc = -ox * ey + oy * ex
        pos = xd > 0
        x = xd[pos]
        sig_y = a_y * x / np.sqrt(1 + 1e-4 * x)
        sig_z = a_z * x / np.sqrt(1 + 1.5e-3 * x)
        y = yc[pos]
        z = rz[pos]
        out[pos] += (
            q[s] / (2 * np.pi * u * sig_y * sig_z) * np.exp(-0.5 * y**2 / sig_y**2)
            * (np.exp(-0.5 * (z - h[s]) ** 2 / sig_z**2) + np.exp(-0.5 * (z + h[s]) ** 2 / sig_z**2))
        )  # fmt: skip
    return out


def bench_points(quick: bool, use_gplume: bool) -> None:
    import numba

    rng = np.random.default_rng(2)
    ns = 20 if quick else 100
    side = 200 if quick else 500
    gx = np.linspace(0, 20000, side)
    rxx, ryy = np.meshgrid(gx, gx)
    rx, ry = rxx.ravel().copy(), ryy.ravel().copy()
    rz = np.full(rx.size, 1.5)
    nr = rx.size
    sx, sy = rng.uniform(5000, 15000, ns), rng.uniform(5000, 15000, ns)
    q = rng.uniform(1, 50, ns)
    hs = rng.uniform(10, 80, ns)
    zeros = np.zeros(ns)
    u10, wdir = 4.0, 250.0
    p = np.zeros(6)  # no wind profile: same u for every implementation
    args = dict(
        u10=np.array([u10]), wdir=np.array([wdir]), cls=np.array([3], dtype=np.int64),
        zi=np.array([1e30]), ta=np.array([285.0]),
    )  # fmt: skip

    def run_numba(zi=1e30):
        out = np.zeros((1, nr))
        lt.hourly_points(
            args["u10"], args["wdir"], args["cls"], np.array([zi]), args["ta"], sx, sy, q, hs,
            zeros, zeros, zeros, p, 10.0, rx, ry, rz, 0, 0.0, out,
        )  # fmt: skip
        return out[0]

    run_numba()  # compile
    t_nb, c_nb = best_of(run_numba, repeat=5)
    t_nb_lid, _ = best_of(lambda: run_numba(800.0))
    nthreads = numba.get_num_threads()
    numba.set_num_threads(1)
    t_nb1, _ = best_of(run_numba, repeat=5)
    numba.set_num_threads(nthreads)
    t_np, c_np = best_of(lambda: numpy_plume_sources(sx, sy, q, hs, u10, wdir, rx, ry, rz,
                                                     0.08, 0.06), repeat=1)  # fmt: skip
    err = np.abs(c_nb - c_np).max() / np.abs(c_np).max()
    pairs = ns * nr
    print(f"[point plume] {ns} sources x {nr} receptors = {pairs:.3g} pairs, class D rural")
    print(f"  numba ({nthreads} threads)              {t_nb * 1e3:9.1f} ms  "
          f"{t_nb / pairs * 1e9:6.2f} ns/pair")  # fmt: skip
    print(f"  numba (1 thread)                 {t_nb1 * 1e3:9.1f} ms  "
          f"{t_nb1 / pairs * 1e9:6.2f} ns/pair")  # fmt: skip
    print(f"  numba, lid at 800 m (images)     {t_nb_lid * 1e3:9.1f} ms")
    print(f"  plain numpy                      {t_np * 1e3:9.1f} ms  "
          f"{t_np / pairs * 1e9:6.2f} ns/pair   (max rel diff {err:.1e})")  # fmt: skip
    print(f"  ratio numpy / numba              {t_np / t_nb:9.1f} x  "
          f"(1 thread: {t_np / t_nb1:.1f} x)")  # fmt: skip
    if not use_gplume:
        return
    try:
        gplume, where = gplume_function()
    except Exception as exc:  # noqa: BLE001 - report and carry on
        print(f"  gplume unavailable: {exc}")
        return
    phi = math.radians(wdir)
    ex, ey = -math.sin(phi), -math.cos(phi)

    def run_gplume():
        out = np.zeros(nr)
        for s in range(ns):
            ox = rx - sx[s]
            oy = ry - sy[s]
            out += gplume(ox * ex + oy * ey, -ox * ey + oy * ex, rz, hs[s], q[s], u10)
        return out

    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # gplume divides by zero upwind and cleans up after
        t_gp, _ = best_of(run_gplume, repeat=1)
    print(f"  gplume 1.0.2 plume ({Path(where).name}) {t_gp * 1e3:9.1f} ms  "
          f"{t_gp / pairs * 1e9:6.2f} ns/pair")  # fmt: skip
    print(f"  ratio gplume / numba             {t_gp / t_nb:9.1f} x   (target >= 5; "
          f"1 thread: {t_gp / t_nb1:.1f} x)")  # fmt: skip


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (smoke run)")
    parser.add_argument("--no-gplume", action="store_true", help="skip the gplume comparison")
    opts = parser.parse_args(argv)
    import numba

    print(f"numpy {np.__version__}, numba {numba.__version__}, {os.cpu_count()} CPUs, "
          f"numba threads {numba.get_num_threads()}")  # fmt: skip
    bench_fft(opts.quick)
    bench_points(opts.quick, not opts.no_gplume)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
