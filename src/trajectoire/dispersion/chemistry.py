"""Chemistry applied after dispersion: empirical NOx to NO2 conversion of annual means.

trajectoire disperses NOx (as NO2 mass) linearly, splits it exactly by source, and only then
converts the *total* annual mean NOx to NO2 with an empirical curve fitted to monitoring data:

.. math:: \\mathrm{NO_2} = A \\frac{\\mathrm{NOx}}{\\mathrm{NOx} + B} + C\\,\\mathrm{NOx}
   \\quad [\\mu g\\,m^{-3}]

(Romberg et al., 1996). Coefficient sets:

* ``"romberg1996"``: A = 103, B = 130, C = 0.005, the annual-mean fit of Romberg et al. (1996)
  to German monitoring data of the early 1990s (more NO, less primary NO2).
* ``"baechlin2008"``: A = 29, B = 35, C = 0.217, the refit of Bächlin et al. (2008) to
  2000–2006 data, with the larger primary NO2 share of the diesel fleet.

The coefficients are those quoted in the secondary literature (e.g. Düring et al., 2011,
Meteorol. Z. 20, 67–73, doi:10.1127/0941-2948/2011/0491, which reviews both); check them
against the originals before using the curve for regulatory work, and prefer a local refit
(:func:`fit_nox_no2`) on the territory's own NOx/NO2 station pairs when they exist.

Attribution rule for NO2 (documented in ``docs/attribution.md``): the regional background
NO2 is kept as given; the local increment
``ΔNO2 = f(NOx_bg + NOx_local) − f(NOx_bg)`` is split between the local sources in proportion
to their NOx contributions. The parts add up to the total exactly by construction.

References
----------
Romberg, E., Bösinger, R., Lohmeyer, A., Ruhnke, R., Röth, E. (1996). NO–NO2-Umwandlung für
die Anwendung bei Immissionsprognosen für Kfz-Abgase. Gefahrstoffe – Reinhaltung der Luft
56, 215–218.

Bächlin, W., Bösinger, R., Brandt, A., Schultz, T. (2008). Überprüfung des NO–NO2-
Umwandlungsmodells für die Anwendung bei Immissionsprognosen für bodennahe
Stickoxidfreisetzung. Gefahrstoffe – Reinhaltung der Luft 68, 154–160.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.optimize import curve_fit

from trajectoire.errors import InputError

__all__ = ["NO2_CONVERSIONS", "fit_nox_no2", "no2_attribution", "no2_increment_ratio", "nox_to_no2"]

NO2_CONVERSIONS: dict[str, tuple[float, float, float]] = {
    "romberg1996": (103.0, 130.0, 0.005),
    "baechlin2008": (29.0, 35.0, 0.217),
}


def _coefficients(method: str | tuple[float, float, float]) -> tuple[float, float, float]:
    if isinstance(method, tuple):
        a, b, c = (float(v) for v in method)
    else:
        if method not in NO2_CONVERSIONS:
            raise InputError(
                f"NO2 conversion {method!r} is unknown; expected one of "
                f"{sorted(NO2_CONVERSIONS)} or a tuple (A, B, C)."
            )
        a, b, c = NO2_CONVERSIONS[method]
    if a < 0 or b <= 0 or c < 0:
        raise InputError(
            f"NO2 conversion coefficients must be A >= 0, B > 0, C >= 0, got {(a, b, c)}."
        )
    return a, b, c


def nox_to_no2(
    nox: npt.ArrayLike, method: str | tuple[float, float, float] = "romberg1996"
) -> np.ndarray:
    """Annual mean NO2 from annual mean NOx (both as NO2 mass) [ug m-3].

    Parameters
    ----------
    nox : array_like
        Annual mean NOx concentration [ug m-3, as NO2], >= 0 (NaN propagates).
    method : str or (float, float, float), default "romberg1996"
        A key of :data:`NO2_CONVERSIONS` or explicit ``(A, B, C)``.

    Returns
    -------
    numpy.ndarray
        NO2 [ug m-3], capped at NOx (the Bächlin curve's slope at the origin exceeds 1, which
        would give NO2 > NOx below about 2 ug m-3).

    Examples
    --------
    >>> float(nox_to_no2(100.0).round(2))
    45.28
    """
    a, b, c = _coefficients(method)
    x = np.asarray(nox, dtype=float)
    if np.any(x < 0):
        raise InputError("nox_to_no2: NOx concentrations must be >= 0 ug m-3.")
    return np.minimum(a * x / (x + b) + c * x, x)


def _clip_round_off(nox: np.ndarray, rtol: float = 1e-6) -> np.ndarray:
    """Set to 0 the slightly negative NOx left by FFT round-off (down to ``-rtol`` of the
    largest magnitude): with no background they are real zeros (issue 13). Larger negative
    values are left for :func:`nox_to_no2` to reject."""
    nox = np.asarray(nox, dtype=float)
    if nox.size == 0 or not np.any(nox < 0):
        return nox
    tol = rtol * float(np.nanmax(np.abs(nox)))
    return np.where((nox < 0) & (nox >= -tol), 0.0, nox)


def no2_attribution(
    nox_background: npt.ArrayLike,
    no2_background: npt.ArrayLike,
    nox_parts: npt.ArrayLike,
    *,
    axis: int = 0,
    method: str | tuple[float, float, float] = "romberg1996",
) -> tuple[np.ndarray, np.ndarray]:
    """Total NO2 and its split between local sources (incremental rule).

    ``NO2 = NO2_bg + [f(NOx_bg + ΣNOx_s) − f(NOx_bg)]``, the bracket shared between the local
    sources in proportion to their NOx contribution ``NOx_s``. With no local NOx the total is
    the background.

    Parameters
    ----------
    nox_background, no2_background : array_like
        Background annual means [ug m-3], broadcastable to one part of `nox_parts`.
    nox_parts : array_like
        Local NOx contributions [ug m-3] stacked along `axis`.
    axis : int, default 0
        Axis of `nox_parts` that lists the sources.
    method : str or tuple
        Conversion curve (see :func:`nox_to_no2`).

    Returns
    -------
    total : numpy.ndarray
        NO2 [ug m-3] (background included), the shape of one part.
    parts : numpy.ndarray
        NO2 of each local source, same shape as `nox_parts`; ``parts.sum(axis) + no2_bg``
        equals `total` to round-off.
    """
    parts = np.asarray(nox_parts, dtype=float)
    local = parts.sum(axis=axis)
    bg_nox = np.asarray(nox_background, dtype=float)
    increment = nox_to_no2(_clip_round_off(bg_nox + local), method) - nox_to_no2(bg_nox, method)
    share = np.divide(
        parts,
        np.expand_dims(local, axis),
        out=np.zeros_like(parts),
        where=np.expand_dims(local, axis) > 0,
    )
    no2_parts = share * np.expand_dims(increment, axis)
    total = np.asarray(no2_background, dtype=float) + increment
    return total, no2_parts


def no2_increment_ratio(
    nox_background: float,
    no2_background: float,
    local_nox: np.ndarray,
    *,
    method: str | tuple[float, float, float] = "romberg1996",
) -> tuple[np.ndarray, np.ndarray]:
    """Total NO2 of each cell and its local increment per unit of local NOx.

    ``NO2(c) = NO2_bg + f(NOx_bg + NOx_loc(c)) − f(NOx_bg)`` (:func:`no2_attribution` with
    one local part), and ``ratio(c) = (NO2(c) − NO2_bg) / NOx_loc(c)`` (0 where there is no
    local NOx). Under the incremental rule a source group that makes ``NOx_s(c)`` makes
    ``ratio(c) × NOx_s(c)`` of NO2: the groups add up to the local NO2 exactly.

    Parameters
    ----------
    nox_background, no2_background : float
        Background annual means [ug m-3].
    local_nox : numpy.ndarray
        Local NOx concentration [ug m-3] (float64).
    method : str or tuple
        Conversion curve (see :func:`nox_to_no2`).

    Returns
    -------
    total : numpy.ndarray
        NO2 [ug m-3], background included.
    ratio : numpy.ndarray
        Local NO2 per unit of local NOx [1].
    """
    total, _ = no2_attribution(
        nox_background, no2_background, local_nox[None], axis=0, method=method
    )
    ratio = np.divide(
        total - no2_background, local_nox, out=np.zeros_like(local_nox), where=local_nox > 0
    )
    return total, ratio


def fit_nox_no2(nox: npt.ArrayLike, no2: npt.ArrayLike) -> tuple[float, float, float]:
    """Fit ``(A, B, C)`` of the Romberg curve to paired annual means (least squares).

    Parameters
    ----------
    nox, no2 : array_like
        Paired annual means at stations [ug m-3]; at least 4 pairs.

    Returns
    -------
    (float, float, float)
        Coefficients usable as ``method=`` in :func:`nox_to_no2`.
    """
    x = np.asarray(nox, dtype=float)
    y = np.asarray(no2, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 4:
        raise InputError(
            f"fit_nox_no2 needs at least 4 finite (NOx, NO2) pairs, got {int(ok.sum())}."
        )

    def f(v: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
        return a * v / (v + b) + c * v

    popt, _ = curve_fit(f, x[ok], y[ok], p0=(50.0, 60.0, 0.1), bounds=([0, 1e-3, 0], [1e3, 1e4, 1]))
    return float(popt[0]), float(popt[1]), float(popt[2])
