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

Year-dependent primary NO2 (issue 14, method ``"fno2"``)
-------------------------------------------------------
One curve for 1990–2023 ignores that the share of traffic NOx emitted directly as NO2
(f-NO2) rose several-fold with oxidation catalysts and particulate filters on diesel
vehicles. The ``"fno2"`` method splits the local NOx of each sector *s* (as NO2 mass, so
the volume and mass shares of NO2 in NOx are the same number) into its primary NO2
``f_s(t) NOx_s`` and the rest, emitted as NO, ``(1 − f_s(t)) NOx_s``; only the NO is
converted by the curve, on top of the background:

.. math::
   P = \\sum_s f_s(t)\\,\\mathrm{NOx}_s, \\qquad N = \\mathrm{NOx_{loc}} - P, \\qquad
   \\mathrm{NO_2} = \\mathrm{NO_{2,bg}} + P + \\big[f(\\mathrm{NOx_{bg}} + N)
   - f(\\mathrm{NOx_{bg}})\\big]

(the structure of Düring et al., 2011: direct NO2 added, NO converted by an ozone-limited
term; here the ozone limitation is the curve's saturation, since the runs carry no ozone
background). With every ``f_s = 0`` it is the curve alone, bit for bit. Each sector gets
its primary NO2 and a share of the secondary bracket in proportion to its NO,
``NO2_s = [f_s + (1 − f_s) r] NOx_s`` with ``r = [f(NOx_bg + N) − f(NOx_bg)] / N``: the
parts still add up to the total exactly. Since the slope of the curve is in [0, 1],
NO2 − NO2_bg is in [0, NOx_loc] and increases with every sector's NOx.

The default f-NO2 table (:data:`FNO2_DEFAULT`, linear between the years given, constant
beyond) for ``F_RoadTransport`` follows the fleet-average estimates: about 5–6 vol% in the
1990s (Carslaw, 2005: 5–6 % in 1997 rising to 17 % in 2003 at 36 London sites; Grice et
al., 2009: 6.3 % in 2000 and 10.6 % in 2005 from inventories of ten EU case studies, 8.6 %
in 2000 to 12.4 % in 2004 from roadside monitoring), a peak near 20–25 % around 2010
(Carslaw et al., 2016: about 25 % in 2010 in inner London), then a decline (Carslaw et al.,
2016: 15 % in 2014 in inner London; Grange et al., 2017: the European ratio stabilised
after 2010 at levels well below those assumed in inventory projections such as Grice et
al.'s 19.6 % in 2010 and 32 % in 2020). Every other sector is given 5 %, the usual
assumption for combustion NOx, which leaves the stack mostly as NO (an order of magnitude,
not a measured series). The Romberg curve was fitted to early-1990s data, so it already
holds that fleet's primary NO2 (about 5 %): with the default table the 1990 NO2 is slightly
higher than the curve alone (by about ``f (1 − f') NOx_loc``, a few per cent of the local
increment).

References
----------
Romberg, E., Bösinger, R., Lohmeyer, A., Ruhnke, R., Röth, E. (1996). NO–NO2-Umwandlung für
die Anwendung bei Immissionsprognosen für Kfz-Abgase. Gefahrstoffe – Reinhaltung der Luft
56, 215–218.

Carslaw, D. C. (2005). Evidence of an increasing NO2/NOx emissions ratio from road traffic
emissions. Atmospheric Environment 39, 4793–4802.

Carslaw, D. C., Murrells, T. P., Andersson, J., Keenan, M. (2016). Have vehicle emissions of
primary NO2 peaked? Faraday Discussions 189, 439–454.

Düring, I., Bächlin, W., Ketzel, M., Baum, A., Friedrich, U., Wurzler, S. (2011). A new
simplified NO/NO2 conversion model under consideration of direct NO2-emissions.
Meteorologische Zeitschrift 20, 67–73.

Grange, S. K., Lewis, A. C., Moller, S. J., Carslaw, D. C. (2017). Lower vehicular primary
emissions of NO2 in Europe than assumed in policy projections. Nature Geoscience 10,
914–918.

Grice, S., Stedman, J., Kent, A., Hobson, M., Norris, J., Abbott, J., Cooke, S. (2009).
Recent trends and projections of primary NO2 emissions in Europe. Atmospheric Environment
43, 2154–2167.

Bächlin, W., Bösinger, R., Brandt, A., Schultz, T. (2008). Überprüfung des NO–NO2-
Umwandlungsmodells für die Anwendung bei Immissionsprognosen für bodennahe
Stickoxidfreisetzung. Gefahrstoffe – Reinhaltung der Luft 68, 154–160.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, overload

import numpy as np
import numpy.typing as npt
import xarray as xr
from scipy.optimize import curve_fit

from trajectoire._validate import as_floats, did_you_mean
from trajectoire.dispersion.local import local_concentration
from trajectoire.errors import InputError, UnitsError
from trajectoire.sectors import GNFR
from trajectoire.units import convert, unit_kind

if TYPE_CHECKING:
    from trajectoire.dispersion.concentration import YearDispersion
    from trajectoire.dispersion.local import Stacks

__all__ = [
    "FNO2_DEFAULT",
    "NO2_ATTRIBUTION_RULE",
    "NO2_CONVERSIONS",
    "fit_nox_no2",
    "fno2_shares",
    "no2_attribution",
    "no2_description",
    "no2_increment_ratio",
    "no2_with_primary",
    "nox_to_no2",
    "primary_no2",
    "sector_no2_ratio",
]

NO2_CONVERSIONS: dict[str, tuple[float, float, float]] = {
    "romberg1996": (103.0, 130.0, 0.005),
    "baechlin2008": (29.0, 35.0, 0.217),
}


_FNO2_ROAD: dict[int, float] = {
    1990: 0.05,  # pre-2000 fleets: 5-6 vol% (Carslaw 2005, London 1997)
    1995: 0.05,
    2000: 0.065,  # 6.3 % inventories, 8.6 % monitoring (Grice et al. 2009)
    2005: 0.11,  # 10.6 % inventories 2005, 12.4 % monitoring 2004 (Grice et al. 2009)
    2010: 0.20,  # peak: ~25 % inner London (Carslaw et al. 2016); below Grice's projection
    2015: 0.18,  # decline: 15 % inner London 2014 (Carslaw et al. 2016), plateau (Grange 2017)
    2020: 0.15,  # assumed continued decline with Euro 6 / VI SCR fleets (judgement)
}
_FNO2_COMBUSTION = 0.05  # order of magnitude for combustion NOx (mostly NO at the stack)
FNO2_DEFAULT: dict[str, dict[int, float]] = {
    s: dict(_FNO2_ROAD) if s == "F_RoadTransport" else {1990: _FNO2_COMBUSTION} for s in GNFR
}
"""Default share of NOx emitted as NO2, per GNFR sector and year (see the module's notes)."""


NO2_ATTRIBUTION_RULE = (
    "NO2 of sector s = [f_s + (1 - f_s) r] NOx_s, with f_s the sector's share of NOx emitted "
    "as NO2 in the year (variable no2_primary_fraction) and r = [f(NOx_bg + N) - f(NOx_bg)] / N "
    "the secondary NO2 per unit of local NOx emitted as NO (N = sum_s (1 - f_s) NOx_s, f the "
    "conversion curve): each sector keeps its primary NO2 and shares the secondary NO2 in "
    "proportion to its NO; the background NO2 is not attributed. The parts add up to the total "
    "minus the background exactly; a part is not the NO2 that would disappear without the "
    "source (the curve is concave). See docs/chemistry.md."
)
"""How the NO2 contributions are attributed (written into the output variables' attributes)."""


def no2_description(
    method: str, curve: str, table: Mapping[str, Mapping[int, float]] | None = None
) -> str:
    """One line describing the NO2 conversion of a run (a global attribute).

    Examples
    --------
    >>> no2_description("romberg1996", "romberg1996")
    'romberg1996: the curve on the total NOx (f-NO2 = 0), incremental attribution rule'
    """
    if method != "fno2":
        return f"{method}: the curve on the total NOx (f-NO2 = 0), incremental attribution rule"
    given = f"; sectors overridden: {', '.join(sorted(table))}" if table else ""
    return (
        f"fno2: primary NO2 f_s(year) NOx_s plus the {curve} curve on the NO part (issue 14); "
        f"default f-NO2 table FNO2_DEFAULT{given}; incremental attribution rule"
    )


def fno2_shares(
    sectors: Sequence[str],
    year: int,
    table: Mapping[str, Mapping[int, float]] | None = None,
) -> np.ndarray:
    """Share of each sector's NOx emitted as NO2 in `year` [1].

    Parameters
    ----------
    sectors : sequence of str
        GNFR sectors.
    year : int
        The year.
    table : mapping, optional
        ``{sector: {year: share}}`` replacing the default series of the sectors it names
        (:data:`FNO2_DEFAULT` for the others). Linear between the years given, constant
        beyond the first and last.

    Returns
    -------
    numpy.ndarray
        ``(sector,)`` shares in [0, 1].

    Examples
    --------
    >>> fno2_shares(["F_RoadTransport", "A_PublicPower"], 2005).tolist()
    [0.11, 0.05]
    >>> fno2_shares(["F_RoadTransport"], 1992, {"F_RoadTransport": {1990: 0.0, 2000: 0.1}}).round(3)
    array([0.02])
    """
    merged = {**FNO2_DEFAULT, **(table or {})}
    out = np.zeros(len(sectors))
    for i, s in enumerate(sectors):
        if s not in merged:
            raise InputError(f"f-NO2: no primary NO2 share for sector {s!r}; add it to [no2] fno2.")
        years = sorted(merged[s])
        out[i] = np.interp(year, years, [merged[s][y] for y in years])
    if np.any((out < 0) | (out > 1)) or not np.all(np.isfinite(out)):
        raise InputError(
            f"f-NO2 shares must be within 0..1, got {out.tolist()} for {list(sectors)}."
        )
    return out


#: what `method` of :func:`nox_to_no2` takes, for the messages
_METHODS_TEXT = (
    f"one of {sorted(NO2_CONVERSIONS)} or a tuple of three numbers (A, B, C) of "
    "NO2 = A NOx / (NOx + B) + C NOx"
)


def _coefficients(method: str | tuple[float, float, float]) -> tuple[float, float, float]:
    """``(A, B, C)`` of the NO2 curve `method`; one line listing the methods otherwise."""
    if isinstance(method, str):
        if method not in NO2_CONVERSIONS:
            raise InputError(
                f"method={method!r}: unknown NO2 conversion"
                f"{did_you_mean(method, NO2_CONVERSIONS)}; expected {_METHODS_TEXT}."
            )
        a, b, c = NO2_CONVERSIONS[method]
    else:
        values = as_floats(method, "method", _METHODS_TEXT)
        if values.shape != (3,):
            raise InputError(
                f"method={' '.join(repr(method).split())[:80]}: {values.size} value(s); "
                f"expected {_METHODS_TEXT}."
            )
        a, b, c = (float(v) for v in values)
    if not (0 <= a < np.inf and 0 < b < np.inf and 0 <= c < np.inf):
        raise InputError(
            f"NO2 conversion coefficients must be A >= 0, B > 0, C >= 0 (finite), got {(a, b, c)}."
        )
    return a, b, c


def _concentrations(values: npt.ArrayLike, what: str) -> np.ndarray:
    """`values` [ug m-3] as float64 (:func:`~trajectoire._validate.as_floats`); None is an
    error (numpy reads it as NaN)."""
    if values is None:
        raise InputError(
            f"{what}: got None; expected concentrations [ug m-3, NOx as NO2 mass], a number "
            "or an array (NaN where unknown)."
        )
    return as_floats(values, what, "concentrations [ug m-3], a number or an array")


def _curve(x: np.ndarray, coefficients: tuple[float, float, float], what: str) -> np.ndarray:
    """The NO2 curve at NOx `x` [ug m-3] (float64, checked >= 0: `what` names it)."""
    a, b, c = coefficients
    negative = x < 0
    if np.any(negative):
        raise InputError(
            f"{what}: {int(negative.sum())} negative NOx value(s) (e.g. "
            f"{float(x[negative].ravel()[0])!r}); NOx concentrations must be >= 0 ug m-3 "
            "(as NO2 mass). Check the sign of the input (a scenario's difference is not a "
            "concentration)."
        )
    return np.minimum(a * x / (x + b) + c * x, x)


@overload
def nox_to_no2(
    nox: xr.DataArray, method: str | tuple[float, float, float] = ...
) -> xr.DataArray: ...


@overload
def nox_to_no2(
    nox: npt.ArrayLike, method: str | tuple[float, float, float] = ...
) -> np.ndarray: ...


def nox_to_no2(
    nox: npt.ArrayLike | xr.DataArray, method: str | tuple[float, float, float] = "romberg1996"
) -> np.ndarray | xr.DataArray:
    """Annual mean NO2 from annual mean NOx (both as NO2 mass) [ug m-3].

    Parameters
    ----------
    nox : array_like
        Annual mean NOx concentration [ug m-3, as NO2], >= 0 (NaN propagates).
    method : str or (float, float, float), default "romberg1996"
        A key of :data:`NO2_CONVERSIONS` or explicit ``(A, B, C)``.

    Returns
    -------
    numpy.ndarray or xarray.DataArray
        NO2 [ug m-3], capped at NOx (the Bächlin curve's slope at the origin exceeds 1, which
        would give NO2 > NOx below about 2 ug m-3). An :class:`xarray.DataArray` `nox` gives
        one with its dims and coordinates, named ``NO2`` with ``units`` ``ug m-3`` (its
        ``units``, when it has some, are read: ``mg m-3`` is converted, a mixing ratio
        refused).

    Raises
    ------
    trajectoire.InputError
        Negative or infinite NOx, `nox` None or text, a DataArray whose ``units`` are not a
        mass concentration (:class:`trajectoire.UnitsError`), `method` neither a key of
        :data:`NO2_CONVERSIONS` nor three numbers (A >= 0, B > 0, C >= 0).

    Examples
    --------
    >>> float(nox_to_no2(100.0).round(2))
    45.28
    """
    coefficients = _coefficients(method)
    what = "nox_to_no2: nox"
    if isinstance(nox, xr.DataArray):
        units = nox.attrs.get("units")
        x = _concentrations(nox.values, what)
        if units is not None and unit_kind(units) == "mixing_ratio":
            raise UnitsError(
                f"{what} ({nox.name}): units {units!r} are a mixing ratio; expected a mass "
                "concentration [ug m-3, as NO2 mass]: multiply by "
                "trajectoire.units.mixing_ratio_factor(units, 46.0055) first (NO2's molar mass)."
            )
        if units is not None:  # a mass concentration in other units is converted
            x = convert(x, units, "ug m-3", "concentration", what=f"{what} ({nox.name})")
    else:
        x = _concentrations(nox, what)
    infinite = np.isinf(x)
    if np.any(infinite):
        raise InputError(
            f"{what}: {int(infinite.sum())} infinite NOx value(s) (e.g. "
            f"{float(x[infinite].ravel()[0])!r}); expected finite concentrations [ug m-3, as "
            "NO2 mass] (NaN where unknown)."
        )
    no2 = _curve(x, coefficients, what)
    if isinstance(nox, xr.DataArray):
        return xr.DataArray(
            no2, coords=nox.coords, dims=nox.dims, name="NO2", attrs={"units": "ug m-3"}
        )
    return no2


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
        Background annual means [ug m-3, NOx as NO2 mass], broadcastable to one part of
        `nox_parts`; NOx >= 0, and NO2 at most NOx (NO2 is part of NOx).
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

    Raises
    ------
    trajectoire.InputError
        `no2_background` above `nox_background` (swapped arguments?); a negative NOx
        background or total (beyond FFT round-off); None or text; `axis` not an axis of
        `nox_parts`; backgrounds that do not broadcast to one part; a bad `method`
        (:func:`nox_to_no2`).
    """
    coefficients = _coefficients(method)
    parts = _concentrations(nox_parts, "no2_attribution: nox_parts")
    axis = _parts_axis(parts, axis)
    bg_nox = _concentrations(nox_background, "no2_attribution: nox_background")
    bg_no2 = _concentrations(no2_background, "no2_attribution: no2_background")
    _check_background_shapes(bg_nox, bg_no2, parts, axis)
    _refuse_no2_above_nox(bg_nox, bg_no2)
    local = parts.sum(axis=axis)
    f_bg = _curve(bg_nox, coefficients, "no2_attribution: nox_background")
    f_total = _curve(
        _clip_round_off(bg_nox + local),
        coefficients,
        "no2_attribution: nox_background + the sum of nox_parts",
    )
    increment = f_total - f_bg
    share = np.divide(
        parts,
        np.expand_dims(local, axis),
        out=np.zeros_like(parts),
        where=np.expand_dims(local, axis) > 0,
    )
    no2_parts = share * np.expand_dims(increment, axis)
    total = bg_no2 + increment
    return total, no2_parts


def _parts_axis(parts: np.ndarray, axis: int) -> int:
    """`axis` of :func:`no2_attribution`, checked against `parts`; one line otherwise."""
    if parts.ndim == 0 or not (
        isinstance(axis, int | np.integer) and -parts.ndim <= axis < parts.ndim
    ):
        raise InputError(
            f"no2_attribution: axis={axis!r} for nox_parts of shape {parts.shape}; expected "
            f"the axis that lists the sources, an integer in [-{max(parts.ndim, 1)}, "
            f"{max(parts.ndim, 1)}) (stack the parts: np.stack(parts, axis=0))."
        )
    return int(axis)


def _check_background_shapes(
    bg_nox: np.ndarray, bg_no2: np.ndarray, parts: np.ndarray, axis: int
) -> None:
    """One line when a background does not broadcast to one part of `parts` (its shape
    without `axis`)."""
    part = parts.shape[: axis % parts.ndim] + parts.shape[axis % parts.ndim + 1 :]
    try:
        fits = np.broadcast_shapes(bg_nox.shape, bg_no2.shape, part) == part
    except ValueError:
        fits = False
    if not fits:
        raise InputError(
            f"no2_attribution: nox_background {bg_nox.shape} and no2_background "
            f"{bg_no2.shape} do not broadcast to one part of nox_parts {part} (nox_parts "
            f"{parts.shape}, sources along axis {axis}); expected scalars or arrays of a "
            "part's shape."
        )


#: how far [relative] a NO2 background may exceed the NOx one: round-off (a NO2 map made
#: from the NOx map by a ratio of 1, both interpolated alike)
_NO2_ABOVE_NOX_RTOL = 1e-6


def _refuse_no2_above_nox(bg_nox: np.ndarray, bg_no2: np.ndarray) -> None:
    """One line when the NO2 background exceeds the NOx one (both as NO2 mass): NO2 is part
    of NOx, so the arguments were likely swapped. One comparison over the backgrounds; the
    round-off tolerance is looked at only where it is exceeded."""
    above = np.greater(bg_no2, bg_nox)
    if not above.any():
        return
    nox = np.broadcast_to(bg_nox, above.shape)[above]
    no2 = np.broadcast_to(bg_no2, above.shape)[above]
    real = no2 > nox * (1.0 + _NO2_ABOVE_NOX_RTOL) + 1e-9
    if not real.any():
        return
    where = f" (in {int(real.sum())} of {above.size} cells)" if above.ndim else ""
    raise InputError(
        f"no2_attribution: no2_background {float(no2[real][0]):g} > nox_background "
        f"{float(nox[real][0]):g} ug m-3{where}; NO2 is part of NOx (given as NO2 mass), so "
        "its background cannot be larger: swapped arguments? The order is "
        "no2_attribution(nox_background, no2_background, nox_parts)."
    )


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


def no2_with_primary(
    nox_background: float,
    no2_background: float,
    local_nox: np.ndarray,
    primary: np.ndarray | None = None,
    *,
    method: str | tuple[float, float, float] = "romberg1996",
) -> tuple[np.ndarray, np.ndarray]:
    """Total NO2 with primary NO2 added and only the NO converted by the curve.

    ``NO2 = NO2_bg + P + f(NOx_bg + N) − f(NOx_bg)`` with ``N = NOx_loc − P`` (the local NOx
    not emitted as NO2). Without `primary` (or with ``P = 0``) it is
    :func:`no2_increment_ratio`, bit for bit.

    Parameters
    ----------
    nox_background, no2_background, local_nox
        As in :func:`no2_increment_ratio`: background annual means [ug m-3] (float) and
        local NOx concentration [ug m-3] (numpy.ndarray, float64).
    primary : numpy.ndarray, optional
        Local primary NO2 ``P = Σ_s f_s NOx_s`` [ug m-3] (:func:`primary_no2`), 0 <= P <=
        NOx_loc.
    method : str or tuple
        Conversion curve of the NO part (see :func:`nox_to_no2`).

    Returns
    -------
    total : numpy.ndarray
        NO2 [ug m-3], background included.
    ratio : numpy.ndarray
        Secondary NO2 per unit of local NO, ``r`` [1] (0 where there is none); a sector
        makes ``(f_s + (1 − f_s) r) NOx_s`` of NO2 (:func:`sector_no2_ratio`).

    Examples
    --------
    >>> total, r = no2_with_primary(20.0, 15.0, np.array([100.0]), np.array([20.0]))
    >>> bool(total[0] > no2_with_primary(20.0, 15.0, np.array([100.0]))[0][0])
    True
    """
    if primary is None:
        return no2_increment_ratio(nox_background, no2_background, local_nox, method=method)
    p = np.asarray(primary, dtype=float)
    no = np.where(p > 0, np.maximum(local_nox - p, 0.0), local_nox)
    secondary, ratio = no2_increment_ratio(nox_background, no2_background, no, method=method)
    return secondary + p, ratio


def sector_no2_ratio(shares: npt.ArrayLike, ratio: np.ndarray) -> np.ndarray:
    """NO2 per unit of NOx of each sector, ``f_s + (1 − f_s) r(c)`` [1].

    Parameters
    ----------
    shares : array_like
        ``(sector,)`` f-NO2 (:func:`fno2_shares`).
    ratio : numpy.ndarray
        Secondary NO2 per unit of local NO (:func:`no2_with_primary`), any shape.

    Returns
    -------
    numpy.ndarray
        ``(sector, *ratio.shape)``; with every share 0 it is `ratio` repeated, exactly.
    """
    f = np.asarray(shares, dtype=float).reshape((-1,) + (1,) * np.ndim(ratio))
    return f + (1.0 - f) * ratio


def primary_no2(
    disp: YearDispersion,
    nox_emission: np.ndarray,
    nox_stack_emission: np.ndarray,
    stacks: Stacks,
    sectors: Sequence[str],
    shares: np.ndarray,
) -> np.ndarray | None:
    """Local primary NO2 ``Σ_s f_s NOx_s`` [ug m-3]: the dispersion of the f-weighted NOx.

    Parameters
    ----------
    disp : YearDispersion
        The year's kernels.
    nox_emission : numpy.ndarray
        ``(sector, ny, nx)`` gridded NOx emission [t yr-1].
    nox_stack_emission : numpy.ndarray
        ``(stack,)`` NOx emission of each stack [t yr-1].
    stacks : Stacks
        The year's stacks (their sector indexes `shares`).
    sectors : sequence of str
        Sector of each plane of `nox_emission`.
    shares : numpy.ndarray
        ``(sector,)`` f-NO2.

    Returns
    -------
    numpy.ndarray or None
        ``(ny, nx)``, or None when every share is 0 (nothing emitted as NO2).
    """
    if not np.any(shares > 0):
        return None
    # the f-weighted planes are formed one at a time as they are added (the same products)
    weights = shares.astype(nox_emission.dtype)
    stack_shares = shares[np.asarray(stacks.sector, dtype=int)] if len(stacks) else shares[:0]
    return local_concentration(
        disp, nox_emission, nox_stack_emission * stack_shares, stacks, sectors, weights
    )
