"""Long-term (climatological) kernels: the annual mean around a unit area source.

The joint frequency table of one year (:func:`trajectoire.meteo.met_classes`) is checked
(``_table``) and collapsed into groups of (speed, stability, lid) classes (``_groups``);
:func:`annual_kernel` integrates the sector-averaged long-term plume (ISCLT) of those groups
over the source cell with Gauss-Legendre rules (``_quadrature``). The kernel is applied to
emission grids by :class:`trajectoire.dispersion.ConvolutionPlan`; the stacks of
:mod:`trajectoire.dispersion.points` use the same groups. Equations: ``docs/dispersion.md``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import xarray as xr

from trajectoire._kernels import deposition as _dep
from trajectoire._kernels import plume_longterm as _lt
from trajectoire.cf import add_history
from trajectoire.dispersion.depletion_rows import process_table
from trajectoire.dispersion.plume import (
    _anemometer_height,
    _kernel_lid,
    _profile_exponents,
    _scalar_non_negative,
    _scheme,
)
from trajectoire.errors import InputError, MissingVariableError
from trajectoire.meteo.profiles import default_mixing_height
from trajectoire.meteo.stability import stability_index
from trajectoire.units import SECONDS_PER_YEAR

__all__ = ["SECTOR_SHAPES", "annual_kernel", "annual_kernels", "kernel_half_width", "table_arrays"]

# ug m-3 per (t yr-1) from g m-3 per (g s-1)
_T_PER_YR_TO_UG = 1e6 / SECONDS_PER_YEAR * 1e6


def _table(freq: xr.Dataset, what: str = "freq_year") -> xr.Dataset:
    for name in ("frequency", "inverse_wind_speed"):
        if name not in freq:
            raise MissingVariableError(
                f"{what}: missing {name!r}; expected a table from trajectoire.meteo.met_classes."
            )
    if "year" in freq.dims:
        if freq.sizes["year"] != 1:
            raise InputError(
                f"{what}: has {freq.sizes['year']} years; pass one year, e.g. table.sel(year=2019)."
            )
        freq = freq.isel(year=0)
    dims = ("direction", "speed", "stability")
    for d in dims:
        if d not in freq["frequency"].dims:
            raise MissingVariableError(f"{what}: frequency lacks dim {d!r}.")
    return freq.transpose(*dims, ...)


def table_arrays(freq: xr.Dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The arrays of one year's frequency table, checked: ``frequency`` and
    ``inverse_wind_speed`` ``(direction, speed, stability)``, the mixing height (the table's,
    else the class defaults) and the stability index of each class."""
    f = np.asarray(freq["frequency"].values, dtype=float)  # (N, S, C)
    iu = np.asarray(freq["inverse_wind_speed"].values, dtype=float)
    if (~np.isfinite(f)).any() or (f < 0).any():
        raise InputError("freq_year: frequency holds NaN or negative values.")
    labels = np.array([str(v) for v in freq["stability"].values])
    cls_of = stability_index(labels)  # checks the labels
    if "mixing_height" in freq:
        zi = np.asarray(freq["mixing_height"].values, dtype=float)
    else:  # each class's default lid, by its label (the table may list them in any order)
        zi = np.broadcast_to(default_mixing_height(labels), f.shape)
    return f, iu, zi, cls_of


def _groups(
    freq: xr.Dataset, code: int, decay: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Collapse a frequency table into groups of (speed, stability) classes.

    Returns the direction weights a (G, N) = f <1/u10> of each group, the stability index,
    the lid height (frequency-weighted mean over directions), the group's mean 1/u and the
    power-law exponent of each group (urban exponents with the urban sigma scheme `code`).
    Speed classes stay apart with `decay` (the loss depends on the speed).
    """
    f, iu, zi, cls_of = table_arrays(freq)
    p = _profile_exponents(code)
    keys: dict[tuple[Any, ...], int] = {}
    rows: list[np.ndarray] = []
    cl: list[int] = []
    zis: list[float] = []
    ius: list[float] = []
    for s in range(f.shape[1]):
        for c in range(f.shape[2]):
            fs = f[:, s, c]
            tot = fs.sum()
            if tot <= 0:
                continue
            w = fs * iu[:, s, c]
            zmean = _class_lid(fs, zi[:, s, c])
            imean = float(w.sum() / tot)
            key: tuple[Any, ...] = (int(cls_of[c]), zmean) + ((s,) if decay else ())
            if key in keys:
                rows[keys[key]] += w
                continue
            keys[key] = len(rows)
            rows.append(w.copy())
            cl.append(int(cls_of[c]))
            zis.append(zmean)
            ius.append(imean)
    if not rows:
        raise InputError("freq_year: all frequencies are 0; nothing to disperse.")
    a = np.array(rows)
    return (
        a,
        np.array(cl, dtype=np.int64),
        _kernel_lid(np.array(zis)),
        np.array(ius),
        p[np.array(cl)],
    )


def _class_lid(f: np.ndarray, z: np.ndarray) -> float:
    """Lid height [m] of a met class from its frequencies `f` and lids `z` per direction.

    The common value when the directions that occur agree, else their frequency-weighted mean
    rounded to the mm (it is part of the grouping key); inf when none is finite.
    """
    fin = np.isfinite(z) & (f > 0)
    if not fin.any():
        return math.inf
    if np.all(z[fin] == z[fin][0]):
        return float(z[fin][0])
    return round(float((f[fin] * z[fin]).sum() / f[fin].sum()), 3)


SECTOR_SHAPES: dict[str, int] = {
    "flat": _lt.SECTOR_FLAT,
    "hat": _lt.SECTOR_HAT,
    "gauss": _lt.SECTOR_GAUSS,
}
"""Angular shapes of a direction sector in the annual path (``sector_smoothing``)."""


def _sector_mode(value: bool | str) -> int:
    """Kernel code of a ``sector_smoothing`` value: a name of :data:`SECTOR_SHAPES`, or the
    boolean of versions before 0.2 (True = ``"hat"``, False = ``"flat"``)."""
    if isinstance(value, bool | np.bool_):
        return _lt.SECTOR_HAT if value else _lt.SECTOR_FLAT
    if isinstance(value, str) and value in SECTOR_SHAPES:
        return SECTOR_SHAPES[value]
    raise InputError(
        f"sector_smoothing={value!r}; expected one of {sorted(SECTOR_SHAPES)} (or True = 'hat', "
        "False = 'flat')."
    )


def _leggauss_half(n: int) -> tuple[np.ndarray, np.ndarray]:
    x, w = np.polynomial.legendre.leggauss(n)
    return 0.5 * x, 0.5 * w


def _groups_at_height(
    table: xr.Dataset, code: int, height: float, decay: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Met groups of a unit area source released at `height` [m], as the kernels take them.

    Returns ``a, hs, zis, cls, ius``: the direction weights scaled to [ug m-3 per t yr-1]
    with the wind at the release height ``u10 (max(h, z_ref) / z_ref)^p``, the release height
    of each group, the lid heights, the stability indices and the mean 1/u at that height.
    """
    a, cls, zis, ius, p = _groups(table, code, decay=decay)
    zref = _anemometer_height(table)
    fac = (zref / max(height, zref)) ** p
    a = a * fac[:, None] * _T_PER_YR_TO_UG
    ius = ius * fac
    hs = np.full(a.shape[0], height)
    return np.ascontiguousarray(a), hs, zis, cls, ius


def _depletion(
    velocity: float,
    receptor_height: float,
    hs: np.ndarray,
    zis: np.ndarray,
    cls: np.ndarray,
    code: int,
    r_max: float,
    initial_sigma_z: float = 0.0,
) -> tuple[Any, ...]:
    """Depletion set ``(v_d, s0, ds, itab, dtab)`` of groups released at `hs` [m] (any shape).

    `zis`, `cls` are per group (the last axis of `hs`); the tables cover ``r <= r_max`` [m]
    (see :mod:`trajectoire._kernels.deposition`). ``velocity = 0`` gives the no-deposition
    set, with which the kernels skip the factor (bit-for-bit the result without deposition).
    """
    if velocity == 0.0:
        return _dep.NO_DEPOSITION if hs.ndim == 1 else _dep.NO_DEPOSITION_STACKS
    s0, ds, nk = _dep.table_nodes(r_max)
    flat = np.ascontiguousarray(hs.reshape(-1, hs.shape[-1]))
    itab = np.empty((*flat.shape, nk))
    dtab = np.empty_like(itab)
    with process_table() as rows:  # the rows of earlier years' groups read back (same bits)
        for i in range(flat.shape[0]):
            rows.fill(float(receptor_height), flat[i], zis, cls, int(code),
                      float(initial_sigma_z), s0, ds, itab[i], dtab[i])  # fmt: skip
    shape = (*hs.shape, nk)
    return (float(velocity), s0, ds, itab.reshape(shape), dtab.reshape(shape))


def _velocity(value: float, height: float, receptor_height: float, sz0: float) -> float:
    """Checked dry deposition velocity [m s-1] of a release at `height`."""
    vd = _scalar_non_negative(value, "deposition_velocity")
    if vd > 1.0:
        raise InputError(
            f"deposition_velocity={value!r} m s-1; expected a velocity in m s-1 (0.001 to 0.05 "
            "for gases and fine particles): convert cm s-1 to m s-1."
        )
    if vd > 0 and height == receptor_height and sz0 == 0:
        raise InputError(
            f"release_height = receptor_height = {height} m with deposition_velocity > 0: the "
            "depletion integral diverges at the source. Use initial_sigma_z > 0 or move one "
            "height."
        )
    return vd


class _Quadrature(NamedTuple):
    """Quadrature rules of :func:`annual_kernel`, in the order ``annual_kernel_grids`` takes them.

    ``gl_x, gl_w, gl_n, level_edges``: tensor Gauss-Legendre rules on [-1/2, 1/2] of 16, 8, 4,
    2, 1 nodes (times `refine`), used up to Chebyshev distances 1, 3, 8, 40 cells and beyond
    (distances times N / 16 for N > 16 sectors);
    ``breaks`` [degree]: for the flat and hat sectors, the bearings where their angular
    density has a kink, and the diagonals; for the Gaussian sectors, the angles
    ``phi`` of the cell's corners (:func:`_corner_breaks`); ``ax, aw, rx, rw``: angular (or
    ``phi``) and radial Gauss-Legendre rules of the source cell on [-1, 1].
    """

    gl_x: np.ndarray
    gl_w: np.ndarray
    gl_n: np.ndarray
    level_edges: np.ndarray
    breaks: np.ndarray
    ax: np.ndarray
    aw: np.ndarray
    rx: np.ndarray
    rw: np.ndarray


def _quadrature(refine: int, n_directions: int, sector_smoothing: bool | int) -> _Quadrature:
    """The :class:`_Quadrature` of `refine` and `n_directions` direction sectors.

    `sector_smoothing` is the kernel code (or a boolean, True = hat). The source cell of the
    flat and hat sectors is integrated over the bearings between their kinks and the
    diagonals (their angular density does not depend on the distance: smooth between the
    breaks); that of the Gaussian sectors over ``phi`` between :func:`_corner_breaks`,
    its angular integral in closed form.
    """
    orders = [b * refine for b in (16, 8, 4, 2, 1)]
    nmax = max(orders)
    gl_x = np.zeros((len(orders), nmax))
    gl_w = np.zeros((len(orders), nmax))
    for lev, n in enumerate(orders):
        gl_x[lev, :n], gl_w[lev, :n] = _leggauss_half(n)
    gl_n = np.array(orders, dtype=np.int64)
    # the angular density has kinks every 360 / N degrees: narrower sectors than 22.5° keep
    # the higher orders proportionally further out (same error per cell as with 16 sectors)
    scale = max(1.0, n_directions / 16.0)
    level_edges = np.ceil(np.array([1, 3, 8, 40]) * scale - 1e-9).astype(np.int64)
    width = 360.0 / n_directions
    mode = int(sector_smoothing)
    if mode == _lt.SECTOR_GAUSS:
        breaks = _corner_breaks(n_directions)
    else:
        kinks = np.arange(n_directions) * width + (0.0 if mode == _lt.SECTOR_HAT else width / 2)
        corners = [0.0, 45.0, 135.0, 225.0, 315.0, 360.0]
        breaks = np.unique(np.concatenate([corners, kinks % 360]))
    ax, aw = np.polynomial.legendre.leggauss(8 * refine)
    rx, rw = np.polynomial.legendre.leggauss(16 * refine)
    return _Quadrature(gl_x, gl_w, gl_n, level_edges, breaks, ax, aw, rx, rw)


def _corner_breaks(n_directions: int) -> np.ndarray:
    """The angles ``phi`` [degree, 0 to 45] where the source-cell integrand of the Gaussian
    sectors has a smoothed kink (``_lt._source_cell_gauss``).

    At distance ``rho = (res / 2) / cos(phi)`` the cell holds the bearings within
    ``pi / 4 - phi`` of its diagonals; the weight of those arcs changes its slope where an
    arc's end meets a sector edge (bearings ``(d + 1/2) 360 / N`` from the north, plus 180),
    sharply in stable classes (edges smoothed by ``sigma_y / rho`` of a few degrees). One
    break at each ``phi = 45 - |edge - diagonal|`` below 45 degrees, so that Gauss-Legendre
    integrates a smooth function between breaks; with ``N`` divisible by 4 the same for the
    four diagonals.

    Examples
    --------
    >>> _corner_breaks(36).tolist()
    [0.0, 5.0, 15.0, 25.0, 35.0, 45.0]
    """
    width = 360.0 / n_directions
    edges = 180.0 + (np.arange(n_directions) + 0.5) * width
    gaps = np.abs(
        (edges[:, None] - np.array([45.0, 135.0, 225.0, 315.0])[None, :] + 180.0) % 360.0 - 180.0
    )
    phi = 45.0 - gaps[gaps < 45.0]
    return np.unique(np.round(np.concatenate([[0.0, 45.0], phi]), 9))


def kernel_half_width(radius: float, resolution: float) -> int:
    """Half-width ``m`` [cells] of an annual kernel: it has ``2 m + 1`` cells a side,
    ``m = ceil(radius / resolution)`` (a ratio within 1e-9 of an integer counts as it)."""
    return int(math.ceil(float(radius) / float(resolution) - 1e-9))


class _KernelInputs(NamedTuple):
    """The checked arguments of :func:`annual_kernel` as ``annual_kernel_grid`` takes them
    (one set of ``annual_kernel_grids``)."""

    m: int
    res: float
    rad: float
    z: float
    h: float
    sz0: float
    k: float
    vd: float
    code: int
    smooth: int
    groups: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    rules: _Quadrature
    dep: tuple[Any, ...]


def _kernel_inputs(
    freq_year: xr.Dataset,
    resolution: float,
    radius: float,
    release_height: float,
    receptor_height: float,
    sigma: str,
    decay_rate: float,
    initial_sigma_z: float,
    sector_smoothing: bool | str,
    refine: int,
    deposition_velocity: float,
) -> _KernelInputs:
    """Check the arguments of :func:`annual_kernel` (same names, same errors) and form the
    met groups, quadrature rules and depletion set of its kernel."""
    code = _scheme(sigma)
    if np.ndim(resolution) > 0:
        raise InputError(
            f"resolution={resolution!r}; expected one cell size [m] (a number): the kernels "
            "need square cells (dx == dy); regrid the emissions to square cells."
        )
    res = float(resolution)
    rad = float(radius)
    if not (math.isfinite(res) and res > 0):
        raise InputError(f"resolution={resolution!r}; expected a cell size > 0 [m].")
    if not (math.isfinite(rad) and rad >= res):
        raise InputError(f"radius={radius!r}; expected a cut-off >= resolution [m].")
    h = _scalar_non_negative(release_height, "release_height")
    z = _scalar_non_negative(receptor_height, "receptor_height")
    sz0 = _scalar_non_negative(initial_sigma_z, "initial_sigma_z")
    k = _scalar_non_negative(decay_rate, "decay_rate")
    if h == 0 and z == 0 and sz0 == 0:
        raise InputError(
            "release_height, receptor_height and initial_sigma_z are all 0: the ground-level "
            "kernel is not integrable at the source. Use receptor_height=1.5 (default) or "
            "initial_sigma_z > 0."
        )
    refine = int(refine)
    if refine < 1:
        raise InputError(f"refine={refine!r}; expected an integer >= 1.")
    vd = _velocity(deposition_velocity, h, z, sz0)
    groups = _groups_at_height(_table(freq_year), code, h, decay=k > 0 or vd > 0)
    m = kernel_half_width(rad, res)
    smooth = _sector_mode(sector_smoothing)
    rules = _quadrature(refine, groups[0].shape[1], smooth)
    dep = _depletion(vd, z, groups[1], groups[2], groups[3], code, 2.0 * (rad + res), sz0)
    return _KernelInputs(m, res, rad, z, h, sz0, k, vd, code, smooth, groups, rules, dep)


SET_KEYS = ("freq_year", "release_height", "initial_sigma_z", "decay_rate", "deposition_velocity")
"""The arguments of :func:`annual_kernel` that each set of :func:`annual_kernels` gives."""


def annual_kernels(
    sets: Sequence[Mapping[str, Any]],
    *,
    resolution: float,
    radius: float,
    receptor_height: float = 1.5,
    sigma: str = "briggs-urban",
    sector_smoothing: bool | str = "gauss",
    refine: int = 1,
) -> list[np.ndarray]:
    """The :func:`annual_kernel` values of several kernel sets, built together.

    Parameters
    ----------
    sets : sequence of mapping
        The arguments of :func:`annual_kernel` of each set (:data:`SET_KEYS`):
        ``freq_year`` (required), ``release_height`` [m], ``initial_sigma_z`` [m],
        ``decay_rate`` [s-1] and ``deposition_velocity`` [m s-1] (defaults as there).
    resolution, radius, receptor_height, sigma, sector_smoothing, refine
        As for :func:`annual_kernel`, common to the sets.

    Returns
    -------
    list of numpy.ndarray
        ``(2 m + 1, 2 m + 1)`` [ug m-3 per t yr-1]: bit for bit the values of
        :func:`annual_kernel` with each set's arguments.

    Raises
    ------
    trajectoire.InputError
        As :func:`annual_kernel`; a set without ``freq_year`` or with another key.

    Notes
    -----
    The kernels are integrated on the same points (one resolution, radius and quadrature):
    with Gaussian sectors (the default) the sector masses of each stability class (the
    ``erfc`` of the sector edges) are the same for every release height, table, loss and
    deposition, and the crosswind terms of groups with the same class, height, lid and
    initial sigma_z are the same, so they are computed once for all the sets
    (``annual_kernel_grids`` of :mod:`trajectoire._kernels.plume_longterm`); each set then
    adds its own weights, losses and depletion in the order of the unshared density
    (``point_density``), so that each kernel is bit for bit the one built alone. Other
    sector shapes share the points only; sets with different numbers of directions are
    built one by one.
    """
    inputs = [_set_inputs(one, resolution, radius, receptor_height, sigma, sector_smoothing,
                          refine) for one in sets]  # fmt: skip
    if not inputs:
        return []
    if len({i.groups[0].shape[1] for i in inputs}) > 1:  # other direction sectors: apart
        return [_kernel_grids([i])[0] for i in inputs]
    return _kernel_grids(inputs)


def _kernel_grids(inputs: list[_KernelInputs]) -> list[np.ndarray]:
    """The kernels of `inputs` (one resolution, radius, receptor height, scheme, sector shape
    and number of directions) by one call of ``annual_kernel_grids``."""
    first = inputs[0]
    m = first.m
    a, hs, zis, cls, ius = (np.concatenate([i.groups[n] for i in inputs]) for n in range(5))
    starts = np.cumsum([0] + [i.groups[0].shape[0] for i in inputs]).astype(np.int64)
    sz0s, ks, vds = (np.array([getattr(i, f) for i in inputs]) for f in ("sz0", "k", "vd"))
    s0, ds, itab, dtab = _stacked_depletion(inputs)
    out = np.zeros((len(inputs), 2 * m + 1, 2 * m + 1))
    _lt.annual_kernel_grids(m, first.res, first.z, a, hs, zis, cls, ius, starts, first.code, sz0s,
                            ks, vds, s0, ds, itab, dtab, first.smooth, first.rad, *first.rules, 6,
                            out)  # fmt: skip
    return list(out)


def _set_inputs(
    one: Mapping[str, Any],
    resolution: float,
    radius: float,
    receptor_height: float,
    sigma: str,
    sector_smoothing: bool | str,
    refine: int,
) -> _KernelInputs:
    """:func:`_kernel_inputs` of one set of :func:`annual_kernels`."""
    other = sorted(set(one) - set(SET_KEYS))
    if "freq_year" not in one or other:
        raise InputError(
            f"annual_kernels: a set with keys {sorted(one)}; expected 'freq_year' and any of "
            f"{list(SET_KEYS[1:])}."
        )
    return _kernel_inputs(
        one["freq_year"],
        resolution,
        radius,
        one.get("release_height", 0.0),
        receptor_height,
        sigma,
        one.get("decay_rate", 0.0),
        one.get("initial_sigma_z", 0.0),
        sector_smoothing,
        refine,
        one.get("deposition_velocity", 0.0),
    )


def _stacked_depletion(inputs: list[_KernelInputs]) -> tuple[float, float, np.ndarray, np.ndarray]:
    """``(s0, ds, itab, dtab)`` of the stacked groups of `inputs`: each depositing set's
    tables (on nodes common to the sets, which have one radius), zeros for the others."""
    depositing = [i.dep for i in inputs if i.vd > 0]
    s0, ds = (depositing[0][1], depositing[0][2]) if depositing else (0.0, 1.0)
    nk = depositing[0][3].shape[-1] if depositing else 1
    if any(d[1] != s0 or d[2] != ds or d[3].shape[-1] != nk for d in depositing):
        raise InputError("annual_kernels: depletion tables on different nodes.")
    rows = [i.dep[3:] if i.vd > 0 else (np.zeros((i.groups[0].shape[0], nk)),) * 2 for i in inputs]
    itab = np.ascontiguousarray(np.concatenate([r[0] for r in rows]))
    dtab = np.ascontiguousarray(np.concatenate([r[1] for r in rows]))
    return float(s0), float(ds), itab, dtab


def annual_kernel(
    freq_year: xr.Dataset,
    *,
    resolution: float,
    radius: float,
    release_height: float = 0.0,
    receptor_height: float = 1.5,
    sigma: str = "briggs-urban",
    decay_rate: float = 0.0,
    initial_sigma_z: float = 0.0,
    sector_smoothing: bool | str = "gauss",
    refine: int = 1,
    deposition_velocity: float = 0.0,
) -> xr.DataArray:
    """Annual mean concentration around a grid cell emitting 1 t yr-1 (the convolution kernel).

    Parameters
    ----------
    freq_year : xarray.Dataset
        One year of :func:`trajectoire.meteo.met_classes` (``frequency``,
        ``inverse_wind_speed``, optionally ``mixing_height``).
    resolution : float
        Cell size [m] of the (square-celled) grid, > 0.
    radius : float
        Cut-off radius [m]: cells whose centre is further than this from the source cell
        centre get 0. The kernel has ``2 m + 1`` cells a side, ``m = ceil(radius / resolution)``.
    release_height : float, default 0.0
        Release height [m] of the cell's emissions (no plume rise).
    receptor_height : float, default 1.5
        Receptor height [m].
    sigma : {"briggs-rural", "briggs-urban", "pgt"}, default "briggs-urban"
        Dispersion-coefficient scheme; urban also selects the urban wind-profile exponents.
    decay_rate : float, default 0.0
        First-order loss rate k [s-1]: the plume is multiplied by ``exp(-k r / u)``.
    initial_sigma_z : float, default 0.0
        Initial vertical spread [m] added in quadrature to sigma_z (building wakes, traffic
        turbulence); needed when both heights are 0.
    sector_smoothing : {"gauss", "hat", "flat"} or bool, default "gauss"
        Angular shape of a direction sector: ``"gauss"``, the flat sector convolved with
        the lateral Gaussian of each met group's plume (``sigma_y(r) / r`` in angle; the
        expected density of the hourly plumes when the directions are uniform within the
        sector); ``"hat"``, linear interpolation between adjacent sector centres; ``"flat"``,
        pure ISCLT. ``True``/``False`` mean ``"hat"``/``"flat"``.

        .. versionchanged:: 0.2
           Default ``"gauss"`` (was ``True``, the hat): see ``docs/validation.md`` (issue 14).
    refine : int, default 1
        Multiplies the number of quadrature nodes (for convergence checks).
    deposition_velocity : float, default 0.0
        Dry deposition velocity v_d [m s-1] at the receptor height: the plume of each met
        group is multiplied by the source-depletion factor ``F(r) = exp(-(v_d/u) I(r))``
        (``docs/dispersion.md``, "Dry deposition"). 0 gives bit for bit the kernel without
        deposition. The deposition flux is ``v_d`` times the kernel.

    Returns
    -------
    xarray.DataArray
        ``kernel(dy, dx)`` [ug m-3 per t yr-1] of integer cell offsets; ``dy`` positive to the
        south (row index of a north-up grid), ``dx`` positive to the east; the source cell is
        at the centre.

    Raises
    ------
    trajectoire.InputError
        Bad resolution, radius, heights, table or `sector_smoothing`; or both heights and the initial sigma_z 0
        (the ground-level point kernel is not integrable at the receptor); a deposition
        velocity < 0, > 1 m s-1, or > 0 with equal release and receptor heights and no
        initial sigma_z (the depletion integral diverges).

    Notes
    -----
    Sector-averaged long-term form (ISCLT), frequency-weighted over the classes ``k``::

        K(r, theta) = sum_k f_k <1/u>_k w_k(theta) / r  V_k / (sqrt(2 pi) sigma_z,k(r))

    with ``w_k`` the angular density of the sector shape (by default the sectors convolved
    with ``sigma_y,k(r) / r``, ``docs/dispersion.md``)
    averaged over the source cell: Gauss-Legendre rules whose order falls with distance
    (16 x 16 nodes for the 8 neighbours, down to 2 x 2 up to 40 cells and the midpoint
    beyond), and for the source cell itself a polar integral around the receptor in which the
    1/r cancels the Jacobian (no singularity). The wind at the release height is
    ``u10 (max(h, z_ref) / z_ref)^p``. Emission 1 t yr-1 = 1e6 / 31 557 600 g s-1.

    Examples
    --------
    >>> import pandas as pd
    >>> import trajectoire.meteo as tm
    >>> t = pd.date_range("2021-01-01", periods=4, freq="h")
    >>> met = xr.Dataset({"wind_speed": ("time", [3.0, 4, 5, 2]),
    ...                   "wind_direction": ("time", [270.0, 250, 260, 280]),
    ...                   "stability": ("time", ["D", "D", "C", "D"])}, coords={"time": t})
    >>> k = annual_kernel(tm.met_classes(met).isel(year=0), resolution=100.0, radius=1000.0)
    >>> k.shape, bool(k.sel(dy=0, dx=2) > k.sel(dy=0, dx=-2))
    ((21, 21), True)
    """
    inp = _kernel_inputs(
        freq_year, resolution, radius, release_height, receptor_height, sigma, decay_rate,
        initial_sigma_z, sector_smoothing, refine, deposition_velocity,
    )  # fmt: skip
    m, res, rad, z, h, k, vd = inp.m, inp.res, inp.rad, inp.z, inp.h, inp.k, inp.vd
    out = _kernel_grids([inp])[0]
    offsets = np.arange(-m, m + 1)
    da = xr.DataArray(
        out,
        dims=("dy", "dx"),
        coords={"dy": offsets, "dx": offsets},
        name="kernel",
        attrs={
            "units": "ug m-3 yr t-1",
            "long_name": "annual mean concentration per t yr-1 emitted by the centre cell",
            "resolution": res,
            "radius": rad,
            "release_height": h,
            "receptor_height": z,
            "sigma": sigma,
            "decay_rate": k,
            "deposition_velocity": vd,
            "dy_positive": "south (row index of a north-up grid)",
            "dx_positive": "east",
        },
    )
    return add_history(
        da,
        f"annual_kernel(resolution={res}, radius={rad}, release_height={h}, "
        f"receptor_height={z}, sigma={sigma!r}, decay_rate={k}"
        + (f", deposition_velocity={vd})" if vd > 0 else ")"),
    )
