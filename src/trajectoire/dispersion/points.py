"""Point stacks: validated stack parameters and their annual footprints on a grid.

For each (speed, stability) group of a year's frequency table, the wind at the stack top and
the Briggs effective height of every stack (``_stack_groups``); :func:`point_sources_annual`
then sums the sector-averaged long-term plume of those groups at the cell centres.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypedDict, Unpack

import numpy as np
import numpy.typing as npt
import xarray as xr

from trajectoire._kernels import plume_longterm as _lt
from trajectoire._kernels import rise as _rise
from trajectoire.dispersion.cell_means import CELL_MEAN_LEVELS, band_means
from trajectoire.dispersion.longterm import (
    _T_PER_YR_TO_UG,
    _depletion,
    _groups,
    _scalar_non_negative,
    _sector_mode,
    _table,
    _velocity,
)
from trajectoire.dispersion.plume import _anemometer_height, _finite, _require_kelvin, _scheme
from trajectoire.errors import InputError
from trajectoire.geo.grid import Grid
from trajectoire.tables import keyword_options, with_options

__all__ = [
    "STACK_DEFAULTS",
    "AnnualStackSettings",
    "AnnualStacks",
    "HourlyStacks",
    "PlumeOptions",
    "StackArrays",
    "point_sources_annual",
    "stack_table",
]


def _stacks(
    x: Any,
    y: Any,
    stack_height: Any,
    stack_diameter: Any,
    exit_temperature: Any,
    exit_velocity: Any,
    **more: Any,
) -> tuple[int, dict[str, np.ndarray]]:
    """Stack parameters (and `more` per-stack arrays) as checked 1-D float arrays of one length.

    Returns the number of stacks and ``{name: array}`` in the order of the arguments.
    """
    arrays = {
        "x": x,
        "y": y,
        "stack_height": stack_height,
        "stack_diameter": stack_diameter,
        "exit_temperature": exit_temperature,
        "exit_velocity": exit_velocity,
        **more,
    }
    out = {}
    for name, values in arrays.items():
        arr = np.atleast_1d(_finite(values, name)).astype(float)
        if arr.ndim != 1:
            raise InputError(f"{name}: expected one value per source, got shape {arr.shape}.")
        out[name] = arr
    sizes = {a.size for a in out.values()}
    if len(sizes) > 1:
        raise InputError(
            f"source arrays have different lengths { {k: v.size for k, v in out.items()} }."
        )
    size = sizes.pop()
    for name in ("stack_height", "stack_diameter", "exit_velocity"):
        if (out[name] < 0).any():
            raise InputError(
                f"{name}: {int((out[name] < 0).sum())} negative value(s) (e.g. "
                f"{out[name][out[name] < 0][0]!r}); expected >= 0 [m, m s-1]. A stack height "
                "below zero is not possible: check the sign and the units."
            )
    if (out["exit_temperature"] <= 0).any():
        raise InputError("exit_temperature: expected > 0 [K]; convert degC to K.")
    return size, out


class StackArrays(TypedDict):
    """The stacks of the stack paths, one value per source (arrays of one length, ``(n_source,)``).

    The keywords of :func:`point_sources_annual`, :func:`trajectoire.dispersion.stack_footprints`
    and :func:`trajectoire.dispersion.hourly_at_receptors` (PEP 692); checked by ``_stacks``:
    finite, one dimension, one length, a bad one a one-line
    :class:`~trajectoire.errors.InputError`.

    Attributes
    ----------
    x, y : array-like
        Stack positions [m, grid CRS].
    stack_height, stack_diameter : array-like
        [m], >= 0.
    exit_temperature : array-like
        [K], > 0 (convert degC to K).
    exit_velocity : array-like
        [m s-1], >= 0.
    """

    x: npt.ArrayLike
    y: npt.ArrayLike
    stack_height: npt.ArrayLike
    stack_diameter: npt.ArrayLike
    exit_temperature: npt.ArrayLike
    exit_velocity: npt.ArrayLike


class PlumeOptions(TypedDict, total=False):
    """The plume settings that every stack path takes (optional keywords; defaults
    :data:`STACK_DEFAULTS`).

    Attributes
    ----------
    receptor_height : float, default 1.5
        Receptor height [m], >= 0.
    sigma : str, default "briggs-rural"
        Dispersion-coefficient scheme (:data:`trajectoire.dispersion.SIGMA_SCHEMES`).
    decay_rate : float, default 0.0
        First-order loss rate [s-1], >= 0.
    """

    receptor_height: float
    sigma: str
    decay_rate: float


class HourlyStacks(StackArrays, PlumeOptions):
    """The keywords :func:`trajectoire.dispersion.hourly_at_receptors` shares with the annual
    stack paths: :class:`StackArrays` (required) and :class:`PlumeOptions`."""


class AnnualStacks(StackArrays, PlumeOptions, total=False):
    """The keywords of the annual stack paths, :func:`point_sources_annual` and
    :func:`trajectoire.dispersion.stack_footprints`: :class:`StackArrays` (required),
    :class:`PlumeOptions` and these (defaults :data:`STACK_DEFAULTS`).

    Attributes
    ----------
    ambient_temperature : float, default 283.15
        Ambient air temperature for the plume rise [K], > 0.
    sector_smoothing : {"gauss", "hat", "flat"} or bool, default "gauss"
        Angular shape of a direction sector, see :func:`annual_kernel`.

        .. versionchanged:: 0.2
           Default ``"gauss"`` (was ``True``, the hat).
    deposition_velocity : float, default 0.0
        Dry deposition velocity [m s-1]: source depletion of each (stack, met group) plume
        at its stack-top wind (see :func:`annual_kernel`); 0 is bit for bit no deposition.
    near_field : float, optional
        With ``sector_smoothing="gauss"``: distance [m] within which the directions of each
        sector are integrated with the plume's exact geometry (downwind ``r cos δ``,
        crosswind ``r sin δ``; :func:`trajectoire._kernels.plume_longterm.exact_group`)
        instead of the sector-average form. Default
        :data:`trajectoire._kernels.plume_longterm.NEAR_FIELD`; 0: the sector-average form
        everywhere (the behaviour before 0.2).

        .. versionadded:: 0.2
    cell_mean : bool, default True
        Each cell within 8 cells of a stack takes the footprint's mean over the cell
        (midpoint rule on ``n x n`` sub-points, ``n`` = 8, 4 and 2 within 1, 3 and 8 cells:
        :data:`trajectoire.dispersion.cell_means.CELL_MEAN_LEVELS`), as the area kernels
        do; the cells beyond, and every cell with False, take the value at their centre.

        .. versionadded:: 0.3
           Before, every cell took its centre value: near a tall stack on a coarse grid
           the result then depended on where the stack lay within its cell.
    """

    ambient_temperature: float
    sector_smoothing: bool | str
    deposition_velocity: float
    near_field: float | None
    cell_mean: bool


STACK_DEFAULTS: dict[str, Any] = {
    "receptor_height": 1.5,
    "sigma": "briggs-rural",
    "decay_rate": 0.0,
    "ambient_temperature": 283.15,
    "sector_smoothing": "gauss",
    "deposition_velocity": 0.0,
    "near_field": None,
    "cell_mean": True,
}
"""The defaults of the optional keywords of :class:`PlumeOptions` and :class:`AnnualStacks`."""


def _keywords(function: str, keywords: Mapping[str, Any], group: Any) -> dict[str, Any]:
    """`keywords` of the TypedDict `group` with the defaults of :data:`STACK_DEFAULTS` filled
    (:func:`trajectoire.tables.keyword_options`: a misspelled keyword or a missing required
    one is one :class:`TypeError` naming it)."""
    return dict(
        keyword_options(
            group,
            function,
            keywords,
            STACK_DEFAULTS,
            required=[k for k in group.__annotations__ if k in group.__required_keys__],
        )
    )


def _plume_options(kw: Mapping[str, Any]) -> tuple[int, float, float]:
    """The checked :class:`PlumeOptions` of filled keywords `kw`: the code of the
    dispersion scheme, ``receptor_height`` [m] and ``decay_rate`` [s-1] (both >= 0)."""
    code = _scheme(kw["sigma"])
    z = _scalar_non_negative(kw["receptor_height"], "receptor_height")
    k = _scalar_non_negative(kw["decay_rate"], "decay_rate")
    return code, z, k


@dataclass(frozen=True)
class AnnualStackSettings:
    """The checked stacks and settings of the annual stack paths (:class:`AnnualStacks`
    with the receptor grid and the cut-off radius); a bad one is a one-line
    :class:`~trajectoire.errors.InputError`.

    Attributes
    ----------
    stacks : dict of str to numpy.ndarray
        The :class:`StackArrays` as float arrays of one length (``_stacks``).
    grid : trajectoire.Grid
        Receptor grid (cell centres).
    radius : float
        Cut-off radius [m] around each stack, > 0.
    code : int
        Code of the dispersion scheme (``sigma``).
    receptor_height, decay_rate, ambient_temperature, deposition_velocity, near_field : float
        As :class:`AnnualStacks` (``near_field`` with its default applied).
    sector_mode : int
        Kernel code of ``sector_smoothing``.
    cell_mean : bool
        As :class:`AnnualStacks`.
    """

    stacks: dict[str, np.ndarray]
    grid: Grid
    radius: float
    code: int
    receptor_height: float
    decay_rate: float
    ambient_temperature: float
    deposition_velocity: float
    near_field: float
    sector_mode: int
    cell_mean: bool = True

    @classmethod
    def of(
        cls, function: str, grid: Any, radius: Any, keywords: Mapping[str, Any]
    ) -> AnnualStackSettings:
        """The settings of a call of `function` with `grid`, `radius` and the
        :class:`AnnualStacks` `keywords` (defaults filled, then checked)."""
        kw = _keywords(function, keywords, AnnualStacks)
        code, z, k = _plume_options(kw)
        if not isinstance(grid, Grid):
            raise InputError(f"grid: expected a trajectoire.Grid, got {type(grid).__name__}.")
        rad = float(radius)
        if not (math.isfinite(rad) and rad > 0):
            raise InputError(f"radius={radius!r}; expected > 0 [m].")
        ta = float(kw["ambient_temperature"])
        if not (math.isfinite(ta) and ta > 0):
            raise InputError(
                f"ambient_temperature={kw['ambient_temperature']!r}; expected > 0 [K]."
            )
        _require_kelvin(np.array([ta]), "ambient_temperature")
        _, st = _stacks(**{name: kw[name] for name in StackArrays.__required_keys__})
        _require_kelvin(st["exit_temperature"], "exit_temperature")
        mode = _sector_mode(kw["sector_smoothing"])
        near = near_field_distance(kw["near_field"])
        vd = _velocity(kw["deposition_velocity"], -1.0, z, 0.0)
        mean = kw["cell_mean"]
        if not isinstance(mean, bool | np.bool_):
            raise InputError(
                f"cell_mean={mean!r}; expected True (cell means near the stacks) "
                "or False (cell centres)."
            )
        return cls(st, grid, rad, code, z, k, ta, vd, near, mode, bool(mean))

    @property
    def size(self) -> int:
        """The number of stacks."""
        return int(self.stacks["x"].size)


STACK_VARIABLES = ("frequency", "inverse_wind_speed", "mixing_height")
"""The variables of the stacks' table (``stack_<name>`` of :func:`trajectoire.meteo.met_classes`)."""


def stack_table(freq: xr.Dataset) -> xr.Dataset:
    """The frequency table of the stacks: the finer speed classes of ``stack_frequency``
    (:func:`trajectoire.meteo.met_classes`, ``stack_speed_edges``) as ``frequency``,
    ``inverse_wind_speed`` and ``mixing_height`` on dim ``speed``; `freq` itself when it
    has no such table (tables of versions before 0.2, or ``stack_speed_edges=None``)."""
    if "stack_frequency" not in freq:
        return freq
    names = {f"stack_{v}": v for v in STACK_VARIABLES if f"stack_{v}" in freq}
    sub = freq[list(names)].rename(names)
    sub = sub.drop_vars([c for c in ("speed", "speed_lower") if c in sub.coords])
    sub = sub.rename({"stack_speed": "speed", "stack_speed_lower": "speed_lower"})
    sub.attrs = dict(freq.attrs)
    return sub


def _stack_groups(
    freq_year: xr.Dataset, code: int, stacks: dict[str, np.ndarray], ambient_temperature: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Met groups of a year and, per stack and group, the effective height and wind factor.

    `stacks` is the checked table of :func:`_stacks`; the met groups are those of the
    stacks' table (:func:`stack_table`: finer speed classes, so that the plume rise of each
    group is close to that of its hours). Returns ``a, cls, zis, ius`` of
    :func:`trajectoire.dispersion.longterm._groups` and ``hs, fac`` of shape (n_stack, G):
    Briggs effective height [m] with the wind at the stack top ``u_s = u_g (h_s/z_ref)^p``,
    and ``fac = (h_s/z_ref)^-p`` (``1/u_s = fac / u_g``).
    """
    table = _table(stack_table(freq_year))
    a, cls, zis, ius, p = _groups(table, code, decay=True)
    zref = _anemometer_height(table)
    n, g = stacks["stack_height"].size, a.shape[0]
    hs = np.empty((n, g))
    fac = np.empty((n, g))
    _rise.stack_group_heights(
        stacks["stack_height"],
        stacks["stack_diameter"],
        stacks["exit_velocity"],
        stacks["exit_temperature"],
        ambient_temperature,
        ius,
        cls,
        p,
        zref,
        fac,
        hs,
    )
    return a, cls, zis, ius, hs, fac


@with_options(AnnualStacks, STACK_DEFAULTS, required=list(StackArrays.__annotations__))
def point_sources_annual(
    freq_year: xr.Dataset,
    *,
    weights: npt.ArrayLike,
    grid: Grid,
    radius: float,
    **stacks: Unpack[AnnualStacks],
) -> np.ndarray:
    """Annual mean concentration fields of point stacks on the grid-cell centres.

    Parameters
    ----------
    freq_year : xarray.Dataset
        One year of :func:`trajectoire.meteo.met_classes`.
    weights : array-like
        Emissions [t yr-1], shape (n_source, k) (or (n_source,) for k = 1): each stack's
        footprint is computed once and added to the `k` output fields with these weights
        (several pollutants or scenarios at the cost of one).
    grid : trajectoire.Grid
        Receptor grid (cell centres).
    radius : float
        Cut-off radius [m] around each stack.
    **stacks
        The stacks (``x``, ``y``, ``stack_height``, ``stack_diameter``,
        ``exit_temperature``, ``exit_velocity``) and the plume settings (``receptor_height``,
        ``sigma``, ``ambient_temperature``, ``decay_rate``, ``sector_smoothing``,
        ``deposition_velocity``, ``near_field``): see :class:`AnnualStacks`.

    Returns
    -------
    numpy.ndarray
        ``(k, ny, nx)`` annual mean concentration [ug m-3].

    Raises
    ------
    trajectoire.InputError
        Stacks or settings out of range: NaN, negative sizes, arrays of different lengths,
        ``exit_temperature`` or ``ambient_temperature`` below 150 K (degC given for kelvin:
        add 273.15), `radius` below the cell size, or no stack within `radius` of the grid
        (stacks in lon/lat or off the grid).

    Notes
    -----
    For each (speed, stability) class ``g`` of the table: wind at the stack top
    ``u_s = u_g (max(h_s, z_ref) / z_ref)^p`` with ``u_g = 1 / <1/u>_g``, effective height
    ``H_g`` = Briggs downwash + final rise (the groups of the stacks' table, finer speed
    classes: :func:`stack_table`), and the sector-averaged kernel of
    :func:`annual_kernel` at point receptors, with the plume's exact geometry within
    `near_field` of the stack. Rows of the grid run in parallel; each row adds
    the stacks in order, so the summation order is fixed (deterministic).
    """
    cfg = AnnualStackSettings.of("point_sources_annual", grid, radius, stacks)
    n, st, z, rad = cfg.size, cfg.stacks, cfg.receptor_height, cfg.radius
    _require_reach(st["x"], st["y"], grid, rad)
    w = _finite(weights, "weights")
    if w.ndim == 1:
        w = w[:, None]
    if w.ndim != 2 or w.shape[0] != n:
        raise InputError(f"weights: shape {w.shape}; expected (n_source={n}, k).")
    smooth, near, code = cfg.sector_mode, cfg.near_field, cfg.code
    if smooth == _lt.SECTOR_GAUSS and near > 0:
        smooth = _lt.SECTOR_GAUSS_EXACT
    a, cls, zis, ius, hs, fac = _stack_groups(freq_year, code, st, cfg.ambient_temperature)
    dep = _depletion(cfg.deposition_velocity, z, hs, zis, cls, code, 2.0 * rad)
    weights_ug = np.ascontiguousarray(w * _T_PER_YR_TO_UG)

    def footprint(s: slice, xs: np.ndarray, ys: np.ndarray, wts: np.ndarray) -> np.ndarray:
        # the stacks `s` on the cell centres (xs, ys), weighted by `wts` (stack, k)
        vd, s0, ds, itab, dtab = dep
        if itab.shape[0] == st["x"].size:  # tables per stack (a deposition velocity)
            itab, dtab = itab[s], dtab[s]
        field = np.zeros((wts.shape[1], ys.size, xs.size))
        _lt.point_sources_footprint(
            st["x"][s], st["y"][s], np.ascontiguousarray(hs[s]), np.ascontiguousarray(fac[s]),
            np.ascontiguousarray(wts), np.ascontiguousarray(a), zis, cls, ius, code, z,
            cfg.decay_rate, smooth, rad, np.ascontiguousarray(xs, dtype=float),
            np.ascontiguousarray(ys, dtype=float), (vd, s0, ds, itab, dtab), field, near,
        )  # fmt: skip
        return field

    out = footprint(slice(None), grid.x, grid.y, weights_ug)
    if cfg.cell_mean:
        for s in range(n):
            one = slice(s, s + 1)

            def alone(xs: np.ndarray, ys: np.ndarray, one: slice = one) -> np.ndarray:
                return footprint(one, xs, ys, _ONE)[0]

            _cell_means_into(out, grid, st["x"][s], st["y"][s], weights_ug[s], alone)
    return out


_ONE = np.ones((1, 1))


def _cell_means_into(
    out: np.ndarray,
    grid: Grid,
    sx: float,
    sy: float,
    weights: np.ndarray,
    alone: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> None:
    """Replace the centre values of one stack at ``(sx, sy)`` in `out` ``(k, ny, nx)`` by
    its cell means near it (:func:`trajectoire.dispersion.cell_means.band_means`):
    ``out += weights (mean - centre)`` on the cells of each band, ``alone(xs, ys)`` being
    the stack's footprint of weight 1 on the points ``(ys[a], xs[b])``."""
    # one cell more than the bands reach: a stack on a cell edge has both cells beside it
    # at distance 0 (cell_means._cells_away), so its bands reach one cell further one way
    reach = CELL_MEAN_LEVELS[-1][0] + 1
    rc, cc = _footprint_centres(grid, np.array([sx]), np.array([sy]))
    row, col = int(rc[0]), int(cc[0])
    cols = np.arange(max(col - reach, 0), min(col + reach + 1, grid.nx))
    rows = np.arange(max(row - reach, 0), min(row + reach + 1, grid.ny))
    centre = alone(grid.x[cols], grid.y[rows])
    gx, gy = grid.x[cols] - sx, grid.y[rows] - sy
    bands = band_means(gx, gy, grid.dx, lambda fx, fy, _: alone(sx + fx, sy + fy))
    for ri, ci, means in bands:
        out[:, rows[ri], cols[ci]] += weights[:, None] * (means - centre[ri, ci])[None, :]


def _footprint_centres(grid: Grid, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of the cell of each stack (the nearest edge cell for a stack outside
    the grid): the centre of its footprint window."""
    row, col, inside = grid.cell_index(xs, ys)
    r_c = np.where(inside, row, np.clip(np.floor((grid.ymax - ys) / grid.dy), 0, grid.ny - 1))
    c_c = np.where(inside, col, np.clip(np.floor((xs - grid.xmin) / grid.dx), 0, grid.nx - 1))
    return r_c.astype(np.int64), c_c.astype(np.int64)


def _require_reach(x: np.ndarray, y: np.ndarray, grid: Grid, radius: float) -> None:
    """One line when `radius` is below the cell size (annual_kernel's rule) or when no stack
    lies within `radius` of the grid's cell centres (a field of zeros: a stack in another
    CRS, or off the grid)."""
    cell = max(grid.dx, grid.dy)
    if radius < cell:
        raise InputError(
            f"point_sources_annual: radius={radius!r}; expected a cut-off >= the cell size "
            f"{cell:g} [m] (the stacks would reach no cell centre); raise it."
        )
    if x.size == 0:
        return
    gx, gy = grid.x, grid.y
    off_x = np.maximum(np.maximum(gx.min() - x, x - gx.max()), 0.0)
    off_y = np.maximum(np.maximum(gy.min() - y, y - gy.max()), 0.0)
    if not (np.hypot(off_x, off_y) <= radius).any():
        raise InputError(
            f"point_sources_annual: no stack lies within radius={radius:g} m of the grid "
            f"(x {grid.xmin:.0f} to {grid.xmax:.0f}, y {grid.ymin:.0f} to {grid.ymax:.0f}; first "
            f"stack at x={float(x[0])!r}, y={float(y[0])!r}); give the stacks in the grid's "
            "CRS (not lon/lat) and on or near the grid."
        )


def near_field_distance(value: float | None) -> float:
    """The checked ``near_field`` [m] of the stack paths (None: the default)."""
    if value is None:
        return float(_lt.NEAR_FIELD)
    near = float(value)
    if not (math.isfinite(near) and near >= 0):
        raise InputError(f"near_field={value!r}; expected a distance >= 0 [m] (0: nowhere).")
    return near
