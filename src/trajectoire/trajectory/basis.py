"""The emission trajectory in linear form: a few basis fields and yearly weights.

:func:`trajectoire.trajectory.rebuild` returns every year's gridded emission as
``E(year, s, p) = Σ_b w(year, b, s, p) × B(b, p, s)``: a handful of basis fields ``B``
(the reference inventory and its anchors, the proxies of the surrogate method) weighted per
year. A run keeps only the basis (in float32) and the small weight table, and makes each year's
emission when it needs it (:func:`emission_from_basis`), instead of holding 34 years of
grids.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import xarray as xr

from trajectoire._planes import Planes

__all__ = [
    "basis_array",
    "basis_weights",
    "blank_fields",
    "emission_from_basis",
    "emission_planes",
    "emitting_sectors",
    "sector_emissions",
]


def basis_array(
    basis_emission: xr.DataArray, done: Callable[[str, str], object] | None = None
) -> np.ndarray:
    """The trajectory's basis fields as one float32 array ``(basis, pollutant, sector, y, x)``.

    Parameters
    ----------
    basis_emission : xarray.DataArray
        The trajectory's ``basis_emission`` (lazy or not) [t yr-1].
    done : callable, optional
        Called as ``done(pollutant, sector)`` (the labels) once every basis field of that
        pair is made, pair by pair: the fields are made pair by pair, each pair's basis
        fields together, so that what they are read from (the reference inventory's
        float64 field of the pair, for a run) can be let go before the next pair is made
        (:func:`trajectoire.batch.pipeline.prepare` gives its pages back: prepare's peak at
        100 m). The values do not depend on the order.

    Returns
    -------
    numpy.ndarray
        float32 [t yr-1]. Converted one ``(y, x)`` field at a time: converting the whole
        float64 basis at once would hold a transposed float64 copy beside the result (+1.7
        GB at 100 m on the sample), and one ``(sector, y, x)`` slab of a lazy basis its
        chunks and their concatenation (+0.5 GB). The array is allocated zeroed by the system
        (``calloc``: pages are mapped when first written) and a field that is +0 in every
        cell is not written: a sector that does not emit a pollutant (most of the emerging
        species' planes) takes no memory, which reading it does not change.
    """
    be = basis_emission.transpose("basis", "sector", "pollutant", "y", "x")
    n_b, n_s, n_p = be.shape[:3]
    basis = np.zeros((n_b, n_p, n_s, *be.shape[3:]), dtype=np.float32)
    pollutants = [str(v) for v in be["pollutant"].values]
    sectors = [str(v) for v in be["sector"].values]
    # a lazy basis is one chunk per field: each is computed from its own tasks (Planes)
    planes = Planes(be.data)
    for p, s in np.ndindex(n_p, n_s):
        for b in range(n_b):
            field = planes[b : b + 1, s : s + 1, p : p + 1][0, 0, 0]
            if _written(field):
                basis[b, p, s] = field
        if done is not None:
            done(pollutants[p], sectors[s])
    return basis


def _written(field: np.ndarray) -> bool:
    """Whether `field` differs from an array of +0 in some bit (a -0 or a NaN counts: kept
    bit for bit); one pass over its bits, no temporary."""
    as_int = np.dtype(f"u{field.dtype.itemsize}")
    return bool(np.ascontiguousarray(field).view(as_int).any())


def basis_weights(basis_weight: xr.DataArray, year: int) -> np.ndarray:
    """The weights of one year, float32 ``(basis, sector, pollutant)`` [1].

    Parameters
    ----------
    basis_weight : xarray.DataArray
        ``(year, basis, sector, pollutant)`` weights of the trajectory.
    year : int
        The year.
    """
    return np.asarray(basis_weight.sel(year=year).values, dtype=np.float32)


def emission_from_basis(
    basis: np.ndarray,
    weight: np.ndarray,
    pollutant: int,
    out: np.ndarray | None = None,
    scale: float | None = None,
    blank: np.ndarray | None = None,
    constant: np.ndarray | None = None,
) -> np.ndarray:
    """One pollutant's gridded emission ``(sector, ny, nx)`` [t yr-1, float32] in one year.

    ``out[s] = Σ_b weight[b, s, p] × basis[b, p, s]``, accumulated in float32 in the order of
    the basis fields, without temporary grids beyond one.

    Parameters
    ----------
    basis : numpy.ndarray
        ``(basis, pollutant, sector, ny, nx)`` float32 (:func:`basis_array`).
    weight : numpy.ndarray
        ``(basis, sector, pollutant)`` float32 (:func:`basis_weights`).
    pollutant : int
        Index ``p`` of the pollutant.
    out : numpy.ndarray, optional
        ``(sector, ny, nx)`` float32 array to write into (it may be a view of a larger
        array); a new one by default. The run forms each pollutant in turn in one such
        array, so that a year holds one pollutant's emission, not all of them.
    scale : float, optional
        Factor the emission is multiplied by once formed, in place in float32 (a
        particle-number species in run units, :func:`trajectoire.species.run_scale`).
    blank : numpy.ndarray, optional
        ``(pollutant, sector)`` bool, :func:`blank_fields` of `basis`: the planes whose
        basis fields are all +0 are filled with the value the products would give in every
        cell (``w × (+0)`` added in the same order: +0, or -0 where every weight is
        negative or -0), without reading the basis, where their weights are finite. The
        same values, bit for bit.
    constant : numpy.ndarray, optional
        ``(sector,)`` int64 kept with `out` from one call to the next: the bits (as an
        unsigned 32-bit integer) of the value that every cell of ``out[s]`` holds, -1
        where that is not known (a new `out`: all -1). A blank plane whose value ``out[s]``
        already holds in every cell is not filled again (the run forms each pollutant in
        turn in one array, and most sectors that emit nothing of one pollutant emit
        nothing of the next). Updated in place.

    Returns
    -------
    numpy.ndarray
        `out`.
    """
    if out is None:
        out = np.empty(basis.shape[2:], dtype=np.float32)
        constant = None
    for _ in emission_planes(basis, weight, pollutant, out, scale, blank, constant):
        pass
    return out


def emission_planes(
    basis: np.ndarray,
    weight: np.ndarray,
    pollutant: int,
    out: np.ndarray,
    scale: float | None = None,
    blank: np.ndarray | None = None,
    constant: np.ndarray | None = None,
) -> Iterator[tuple[np.ndarray, int]]:
    """:func:`emission_from_basis` into `out` plane by plane: yields ``(out[s], bits)`` as
    soon as ``out[s]`` holds its value (its `scale` applied), sector by sector, ``bits``
    being the bits (an unsigned 32-bit integer) of the value every cell of the plane holds
    where that is known, else -1. A consumer reads each plane while it is fresh in the
    cache; once the iterator is exhausted `out` is :func:`emission_from_basis`'s, bit for
    bit (the same operations: `scale` multiplies each cell once, plane by plane).

    Parameters
    ----------
    basis, weight, pollutant, out, scale, blank, constant
        As for :func:`emission_from_basis` (`out` is required).

    Yields
    ------
    tuple of numpy.ndarray and int
        ``(out[s], bits)`` [t yr-1, float32 ``(ny, nx)``].
    """
    if out.dtype != np.float32:
        constant = None  # the bits kept are those of float32 values
    known = np.full(out.shape[0], -1, dtype=np.int64) if constant is None else constant
    w = weight[:, :, pollutant]  # (basis, sector)
    term = np.empty(basis.shape[3:], dtype=np.float32)  # untouched with one basis field
    for s in range(w.shape[1]):
        plane = out[s]
        # the bits of a filled plane are known whether or not the caller keeps them
        _sector_plane(basis, w, pollutant, s, plane, term, blank, known)
        if scale is not None:
            plane *= np.float32(scale)
            if known[s] >= 0:  # a plane of one value holds that value times scale
                one = np.array([known[s]], dtype=np.uint32).view(np.float32)
                one *= np.float32(scale)
                known[s] = int(one.view(np.uint32)[0])
        yield plane, int(known[s]) if out.dtype == np.float32 else -1


def sector_emissions(
    basis: np.ndarray, weight: np.ndarray, pollutant: int, blank: np.ndarray | None = None
) -> Iterator[np.ndarray]:
    """Each sector's plane of :func:`emission_from_basis` in turn, in one reused plane.

    The same values, bit for bit, without the ``(sector, ny, nx)`` array: each plane
    [t yr-1, float32, ``(ny, nx)``] is valid until the next is asked for (copy what you
    keep), so that a consumer that keeps only some planes (the run's output keeps those with
    a bit other than +0, :meth:`trajectoire.io.outputs.YearMaps.finish_emission`) touches one
    plane of scratch memory instead of a whole sector stack (140 MB per pollutant at 100 m
    on the sample).

    Parameters
    ----------
    basis, weight, pollutant, blank
        As for :func:`emission_from_basis`.

    Yields
    ------
    numpy.ndarray
        ``(ny, nx)`` float32, sector by sector in the order of the basis.
    """
    w = weight[:, :, pollutant]
    scratch = np.empty(basis.shape[3:], dtype=np.float32)
    term = np.empty_like(scratch)
    for s in range(w.shape[1]):
        yield _sector_plane(basis, w, pollutant, s, scratch, term, blank)


def _sector_plane(
    basis: np.ndarray,
    w: np.ndarray,
    pollutant: int,
    s: int,
    out: np.ndarray,
    term: np.ndarray,
    blank: np.ndarray | None = None,
    constant: np.ndarray | None = None,
) -> np.ndarray:
    """``out = Σ_b w[b, s] × basis[b, pollutant, s]`` in float32, in the order of the basis
    fields (the one definition of a sector's emission plane); `term` is the ``(ny, nx)``
    float32 scratch of each product after the first (no new plane per basis field).

    Where ``blank[pollutant, s]`` (every basis field of the plane is +0 in every cell) and
    the weights are finite, the same operations are done on one cell of +0 and `out` is
    filled with the result (+0 or -0: signed zeros follow IEEE rules exactly); every cell
    of the plane would get that value. A NaN weight takes the plane's own path: the NaN
    payloads of SIMD and scalar code may differ. `constant` (:func:`emission_from_basis`):
    ``constant[s]`` is the bits of the value every cell of `out` holds (-1: not known); the
    fill is skipped where it already holds the value, and ``constant[s]`` is updated."""
    if blank is not None and blank[pollutant, s] and np.isfinite(w[:, s]).all():
        cell = np.zeros(1, dtype=basis.dtype)
        one = np.empty(1, dtype=out.dtype)
        one_term = np.empty(1, dtype=term.dtype)
        np.multiply(cell, w[0, s], out=one)
        for b in range(1, w.shape[0]):
            np.multiply(cell, w[b, s], out=one_term)
            one += one_term
        bits = int(one.view(np.uint32)[0])
        if constant is None or constant[s] != bits:
            out.fill(one[0])
            if constant is not None:
                constant[s] = bits
        return out
    if constant is not None:
        constant[s] = -1
    np.multiply(basis[0, pollutant, s], w[0, s], out=out)
    for b in range(1, w.shape[0]):
        np.multiply(basis[b, pollutant, s], w[b, s], out=term)
        out += term
    return out


def blank_fields(basis: np.ndarray) -> np.ndarray:
    """Which planes have only +0 basis fields: ``(pollutant, sector)`` bool.

    ``blank[p, s]`` when every basis field ``basis[b, p, s]`` holds +0 in every cell (bit
    for bit: a -0 or a NaN is not blank). Such a plane is the same value in every cell in
    every year (:func:`emission_from_basis` forms it without reading the basis). Reads the
    basis once, one field at a time.

    Parameters
    ----------
    basis : numpy.ndarray
        ``(basis, pollutant, sector, ny, nx)`` (:func:`basis_array`).
    """
    nb, n_p, n_s = basis.shape[:3]
    blank = np.ones((n_p, n_s), dtype=bool)
    for b, p, s in np.ndindex(nb, n_p, n_s):
        if blank[p, s] and _written(basis[b, p, s]):
            blank[p, s] = False
    return blank


def emitting_sectors(basis: np.ndarray, basis_weight: xr.DataArray) -> np.ndarray:
    """Which sectors emit each pollutant in some year: ``(pollutant, sector)`` bool.

    A sector emits a pollutant when one of its basis fields holds a non-zero cell and has a
    non-zero weight in some year (``emission = Σ_b w_b basis_b``); otherwise its emission
    is 0 in every year, bit for bit.

    Parameters
    ----------
    basis : numpy.ndarray
        ``(basis, pollutant, sector, ny, nx)`` (:func:`basis_array`).
    basis_weight : xarray.DataArray
        ``(year, basis, sector, pollutant)`` weights of the trajectory.
    """
    nb, n_p, n_s = basis.shape[:3]
    weighted = np.asarray(
        (basis_weight.transpose("year", "basis", "sector", "pollutant") != 0).any("year").values
    )  # (basis, sector, pollutant)
    out = np.zeros((n_p, n_s), dtype=bool)
    for b in range(nb):  # one basis field at a time: no grid-sized temporary of all of them
        nonzero = basis[b].reshape(n_p, n_s, -1).any(axis=-1)
        out |= nonzero & weighted[b].T
    return out
