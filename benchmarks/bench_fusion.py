"""IDW: numba kernel vs plain numpy (broadcast, blocked) on a 1000 x 1000 grid, 44 stations."""

import time

import numpy as np

from trajectoire.interpolate import Variogram, idw_interpolate, krige


def numpy_idw(sx, sy, v, tx, ty, power=2.0, block=65536):
    out = np.empty(tx.size)
    for s in range(0, tx.size, block):
        d = np.hypot(tx[s : s + block, None] - sx, ty[s : s + block, None] - sy)
        w = d**-power
        out[s : s + block] = (w @ v) / w.sum(axis=1)
    return out


rng = np.random.default_rng(0)
sx, sy, v = rng.uniform(0, 1e5, 44), rng.uniform(0, 1e5, 44), rng.normal(size=44)
gx, gy = np.meshgrid(np.arange(1000) * 100.0 + 50, np.arange(1000) * 100.0 + 50)
tx, ty = gx.ravel(), gy.ravel()
idw_interpolate(sx, sy, v, tx[:10], ty[:10])  # compile


def best(f, n=3):
    t = []
    for _ in range(n):
        t0 = time.perf_counter()
        f()
        t.append(time.perf_counter() - t0)
    return min(t)


t_nb = best(lambda: idw_interpolate(sx, sy, v, tx, ty))
with np.errstate(all="ignore"):
    t_np = best(lambda: numpy_idw(sx, sy, v, tx, ty))
    a = numpy_idw(sx, sy, v, tx, ty)
b = idw_interpolate(sx, sy, v, tx, ty)
print("max abs diff", np.nanmax(np.abs(a - b)))
t_kr = best(lambda: krige(sx, sy, v, tx, ty, Variogram("exponential", 0.1, 1.0, 2e4)), n=2)
print(
    f"IDW 1e6 targets x 44 stations: numba {t_nb:.3f} s, numpy {t_np:.3f} s, ratio numpy/numba {t_np / t_nb:.1f}"
)
print(f"ordinary kriging same targets: {t_kr:.3f} s, ratio kriging/IDW-numba {t_kr / t_nb:.1f}")
