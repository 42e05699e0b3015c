"""Long-term footprints of point stacks by radial tabulation.

The sector-averaged long-term concentration of a stack (see :mod:`.plume_longterm`) at
distance ``r`` and plume bearing ``θ`` is

``C(r, θ) = Σ_g w_g(θ) fac_g CIC_g(r; H_g) / r``

where the angular density of group ``g`` interpolates linearly between the two sector
centres around ``θ``: ``w_g(θ) = [(1 − φ) a_{g,d0} + φ a_{g,d1}] N / 2π``. Exchanging the
sums gives ``C(r, θ) = (1 − φ) R_{d0}(r) + φ R_{d1}(r)`` with the radial profiles
``R_d(r) = N/2π Σ_g a_{g,d} fac_g CIC_g(r; H_g) / r``, which do not depend on the receptor.
Tabulating ``R_d`` on a fine radial grid once per stack turns the cost per receptor cell
from one plume evaluation per met group (tens) into two linear interpolations; the
tabulation error is bounded in ``tests/test_kernels_stacks.py`` against the exact sum.

With Gaussian-smoothed sectors (:data:`.plume_longterm.SECTOR_GAUSS`) the angular density
of a group depends on its stability class ``c`` through ``s_c(r) = sigma_y,c(r) / r``, so
the profiles are kept per class, ``R_{c,d}(r) = N/2π Σ_{g ∈ c} a_{g,d} fac_g CIC_g(r) / r``
(:func:`radial_profiles_by_class`), and each cell sums the classes with the Gaussian
sector weights at its own distance (:func:`footprint_from_class_profiles`)::

    C(r, θ) = Σ_c Σ_d R_{c,d}(r) ½ [erf((t − d + ½) / (√2 s'_c)) − erf((t − d − ½) / (√2 s'_c))]

``t`` being the plume bearing minus 180° and ``s'_c = s_c N / 2π`` the spread, both in
sector widths. Within the near field of the stack (argument ``near``), each cell integrates
the directions of each sector with the plume's exact geometry instead
(:func:`_class_pieces`, :func:`_pieces_sums`): the same per-class profiles, interpolated at
the downwind distance ``r cos δ`` of each piece of direction.
"""

import math

import numpy as np
from numba import njit, prange

from ._config import CACHE
from .deposition import depletion_factor
from .plume_longterm import (
    _INV_SQRT2,
    EXACT_SUB,
    GAUSS_REACH,
    SHARE_CAP,
    _class_edges,
    _edges_sums,
    cic_at,
    exact_sub,
    gauss_position_mix,
    lateral_mass,
    lateral_spread,
    piece_sigma,
    sector_pieces,
)
from .sigma import sigma_y, sigma_z

N_CLASSES = 6
"""Stability classes A..F (indices 0..5) of the per-class profiles."""
CELL_CHUNK = 1024
"""Cells per parallel chunk of :func:`footprints_aligned`."""


@njit(cache=CACHE)
def radial_profiles(a, fac, hs, zis, clss, invus, scheme, z, decay_k, r_nodes, dep):
    """Radial profiles ``R[d, k]`` [per unit emission rate] of one stack at nodes ``r_nodes``.

    Parameters
    ----------
    a : (G, N) float64
        Direction weights of each met group (frequency × <1/u>).
    fac : (G,) float64
        Wind-speed factor of each group at the stack top (1/u_s = fac / u_10).
    hs : (G,) float64
        Effective release height of each group [m].
    zis, clss, invus : (G,) arrays
        Mixing height [m], stability index, mean 1/u [s m-1] of each group.
    scheme : int
        Dispersion-coefficient scheme code.
    z : float
        Receptor height [m].
    decay_k : float
        First-order loss rate [s-1].
    r_nodes : (K,) float64
        Increasing radii [m], all > 0.
    dep : tuple
        Depletion set ``(v_d, s0, ds, itab, dtab)`` of the stack's groups
        (:mod:`.deposition`); each group depletes at its stack-top wind, ``1/u = fac / u_g``.
    """
    return _profiles(a, fac, hs, zis, clss, invus, scheme, z, decay_k, r_nodes, dep, False)[0].T


@njit(cache=CACHE, parallel=True)
def _profiles(a, fac, hs, zis, clss, invus, scheme, z, decay_k, r_nodes, dep, by_class):
    """The profiles of :func:`radial_profiles`, nodes before sectors ``(1, K, N)``, or split
    by the stability class of each group ``(N_CLASSES, K, N)`` when `by_class` (each node's
    sectors are written together)."""
    vd, s0, ds, itab, dtab = dep
    ng, n = a.shape
    nk = r_nodes.shape[0]
    out = np.zeros((N_CLASSES if by_class else 1, nk, n))
    inv_width = n / (2.0 * math.pi)
    for k in prange(nk):
        szc = class_sigma_z(r_nodes[k], scheme)
        _node_terms(r_nodes[k], szc, a, fac, hs, zis, clss, invus, z, decay_k, vd, s0, ds,
                    itab, dtab, inv_width, by_class, out, k)  # fmt: skip
    return out


@njit(cache=CACHE)
def class_sigma_z(r, scheme):
    """``σz`` [m] of each stability class (A..F) at distance `r` [m]: one evaluation per
    class and node of the profiles instead of one per met group."""
    out = np.empty(N_CLASSES)
    for c in range(N_CLASSES):
        out[c] = sigma_z(r, scheme, c)
    return out


@njit(cache=CACHE, inline="always")
def _node_terms(r, szc, a, fac, hs, zis, clss, invus, z, decay_k, vd, s0, ds, itab, dtab,
                inv_width, by_class, out, k):  # fmt: skip
    """Add each met group's term of one stack's profiles at radius `r` [m] into
    ``out[c, k, :]`` (``c`` the group's class when `by_class`, else 0), in the order of the
    groups: the one definition of a profile's node (:func:`_profiles`,
    :func:`profiles_stacks_last`). `szc` is ``σz`` of each class at `r`
    (:func:`class_sigma_z`); `fac`, `hs` are the stack's groups' rows, `itab`, `dtab` its
    depletion tables (read only when ``vd > 0``). Each term is
    :func:`.plume_longterm.cic_unit`'s, with ``σz`` looked up instead of computed (the
    same operations on the same values: the same bits): :func:`_group_term`, then
    :func:`_add_term`."""
    ng, n = a.shape
    for g in range(ng):
        if fac[g] == 0.0:
            continue
        c = _group_term(r, szc, fac[g], hs[g], zis[g], clss[g], invus[g], z, decay_k)
        _add_term(c, r, a[g], fac[g], invus[g], vd, s0, ds, itab, dtab, g, inv_width,
                  out[clss[g] if by_class else 0, k])  # fmt: skip


@njit(cache=CACHE, inline="always")
def _group_term(r, szc, fac, h, zi, cls, inv_u, z, decay_k):
    """One met group's vertical term at radius `r` [m] times its wind factor,
    ``fac CIC(r; h, zi, σz_cls(r))`` with its loss ``exp(-k r fac inv_u)``
    (:func:`.plume_longterm.cic_at`): the plume travels at the stack-top wind, whose
    ``<1/u_s>`` is ``fac <1/u>``, as its dilution and its depletion
    (:func:`_add_term`) take it; before the depletion and the ``N / (2 pi r)`` of
    :func:`_add_term`. It depends on the group's release height `h` [m], lid `zi` [m],
    class `cls`, wind factor `fac` and, where ``decay_k > 0``, its ``<1/u>`` `inv_u`
    [s m-1] at the reference height; not on its direction weights (so that other years'
    groups of the same values share it, :func:`stack_terms`)."""
    return fac * cic_at(r, z, h, zi, szc[cls], decay_k, fac * inv_u)


@njit(cache=CACHE, inline="always")
def _add_term(c, r, a_g, fac, inv_u, vd, s0, ds, itab, dtab, g, inv_width, row):
    """Add ``a_g[d] c F N / (2 pi r)`` to ``row[d]`` for every sector ``d``: group ``g``'s
    term `c` (:func:`_group_term`) with its source depletion ``F`` (when ``vd > 0``, from
    rows ``g`` of `itab`, `dtab`, at its stack-top ``<1/u> = fac inv_u``); nothing where
    ``c`` is 0."""
    if c == 0.0:
        return
    if vd > 0.0:
        c *= depletion_factor(r, vd * fac * inv_u, itab[g], dtab[g], s0, ds)
    c *= inv_width / r
    for d in range(row.shape[0]):
        row[d] += a_g[d] * c


@njit(cache=CACHE, parallel=True)
def profiles_stacks_last(a, fac, hs, zis, clss, invus, scheme, z, decay_k, r_nodes, dep, stacks,
                         slots, out):  # fmt: skip
    """:func:`radial_profiles_by_class` of several stacks, written in the layout
    :func:`footprints_aligned` reads (:data:`ALIGNED_LAYOUT`).

    ``out[c, k, d, slots[i]]`` is ``radial_profiles_by_class(...)[c, d, k]`` of the stack
    ``stacks[i]``: the rows ``fac[stacks[i]]`` and ``hs[stacks[i]]`` of the stacks' groups
    (:func:`trajectoire.dispersion.points._stack_groups`) and, with deposition, the rows
    ``itab[stacks[i]]``, ``dtab[stacks[i]]`` of the depletion set ``dep = (v_d, s0, ds,
    itab, dtab)`` (``v_d = 0``: none). The same products added in the same order, from +0,
    so the same bits. Every node's block of every stack is written while it is in cache
    (the nodes run in parallel, the stacks within a node): writing each stack's profiles
    apart then copying them into this layout touched the whole array once per stack.

    A row given several times in `stacks` (stacks with the same parameters) is computed at
    its first place and copied into its other slots: the same values, once.
    :func:`profiles_from_terms` is the same with each group's term read from a table.
    """
    vd, s0, ds, itab, dtab = dep
    n = a.shape[1]
    nk = r_nodes.shape[0]
    inv_width = n / (2.0 * math.pi)
    same = _first_places(stacks)
    for k in prange(nk):
        acc = np.empty((N_CLASSES, 1, n))
        szc = class_sigma_z(r_nodes[k], scheme)
        for i in range(stacks.shape[0]):
            if _copied(same, i, slots, out, k):
                continue
            st = stacks[i]
            acc[:, :, :] = 0.0
            tab = st if vd > 0.0 else 0  # without deposition the tables are one placeholder
            _node_terms(r_nodes[k], szc, a, fac[st], hs[st], zis, clss, invus, z, decay_k,
                        vd, s0, ds, itab[tab], dtab[tab], inv_width, True, acc, 0)  # fmt: skip
            _write_slot(acc, out, k, slots[i])


@njit(cache=CACHE)
def _first_places(stacks):
    """``same[i]``: the first place in `stacks` of the row ``stacks[i]``."""
    ns = stacks.shape[0]
    same = np.arange(ns)
    for i in range(ns):
        for j in range(i):
            if stacks[j] == stacks[i]:
                same[i] = j
                break
    return same


@njit(cache=CACHE, inline="always")
def _copied(same, i, slots, out, k):
    """Where stack ``i``'s row came earlier (`same`, :func:`_first_places`), copy node
    `k` of that place's slot into its own and return True."""
    if same[i] == i:
        return False
    p = slots[same[i]]
    q = slots[i]
    for cl in range(out.shape[0]):
        for d in range(out.shape[2]):
            out[cl, k, d, q] = out[cl, k, d, p]
    return True


@njit(cache=CACHE, inline="always")
def _write_slot(acc, out, k, q):
    """Node `k` of one stack's per-class sums `acc` ``(class, 1, sector)`` into slot `q`."""
    for cl in range(out.shape[0]):
        for d in range(out.shape[2]):
            out[cl, k, d, q] = acc[cl, 0, d]


@njit(cache=CACHE, parallel=True)
def stack_terms(fac, hs, zis, clss, invus, scheme, z, decay_k, r_nodes, cols, out):
    """Each group term's values at the radial nodes, into columns of a node-major table.

    ``out[k, cols[m]] = fac[m] CIC(r_k; hs[m], zis[m], σz_{clss[m]}(r_k)) exp(-k r_k invus[m])``
    (:func:`_group_term`, the term :func:`profiles_stacks_last` computes for a stack's
    group, the same operations on the same values) for the terms ``m`` given by their wind
    factor `fac`, release height `hs` [m], lid `zis` [m], class `clss` and ``<1/u>``
    `invus` [s m-1] (flat arrays, one entry a term), at the nodes `r_nodes` [m] for the
    scheme `scheme`, receptor height `z` [m] and loss rate `decay_k` [s-1]. Nodes run in
    parallel; the other columns of `out` ``(node, column)`` are left as they are.
    """
    nm = fac.shape[0]
    for k in prange(r_nodes.shape[0]):
        r = r_nodes[k]
        szc = class_sigma_z(r, scheme)
        row = out[k]
        for m in range(nm):
            row[cols[m]] = _group_term(r, szc, fac[m], hs[m], zis[m], clss[m], invus[m], z,
                                       decay_k)  # fmt: skip


@njit(cache=CACHE, parallel=True)
def profiles_from_terms(a, terms, index, fac, clss, invus, r_nodes, dep, stacks, slots, out):
    """:func:`profiles_stacks_last` with each group's term read from a table.

    ``terms[k, index[u, g]]`` is the term (:func:`_group_term`, :func:`stack_terms`) of
    group ``g`` of profile row ``u`` at node ``k`` (``index[u, g] < 0``: a group of wind
    factor 0, left out as :func:`profiles_stacks_last` leaves it); `fac` ``(row, group)``
    and `invus` serve the depletion. The rest is :func:`profiles_stacks_last`'s, in the
    same order: the same bits wherever the table holds what :func:`stack_terms` gives.
    """
    vd, s0, ds, itab, dtab = dep
    n = a.shape[1]
    ng = a.shape[0]
    inv_width = n / (2.0 * math.pi)
    same = _first_places(stacks)
    for k in prange(r_nodes.shape[0]):
        r = r_nodes[k]
        acc = np.empty((N_CLASSES, 1, n))
        trow = terms[k]
        for i in range(stacks.shape[0]):
            if _copied(same, i, slots, out, k):
                continue
            st = stacks[i]
            acc[:, :, :] = 0.0
            tab = st if vd > 0.0 else 0
            for g in range(ng):
                j = index[st, g]
                if j < 0:
                    continue
                _add_term(trow[j], r, a[g], fac[st, g], invus[g], vd, s0, ds, itab[tab],
                          dtab[tab], g, inv_width, acc[clss[g], 0])  # fmt: skip
            _write_slot(acc, out, k, slots[i])


@njit(cache=CACHE)
def _cell_position(ddx, ddy, width, r_nodes, nk, radius):
    """Where a cell lies from the stack: distance ``r`` [m] (``0`` beyond `radius` or at
    the stack: no value there), sector position ``t`` (plume bearing minus 180 degrees, in
    sector widths) and the radial node ``k`` with the weight ``u`` of node ``k + 1``
    (linear interpolation between the uniformly spaced `r_nodes`, held at the end nodes)."""
    r = math.hypot(ddx, ddy)
    if r > radius or r <= 0.0:
        return 0.0, 0.0, 0, 0.0
    r0 = r_nodes[0]
    dr = r_nodes[1] - r0
    theta = math.degrees(math.atan2(ddx, ddy))
    t = ((theta - 180.0) % 360.0) / width
    q = (r - r0) / dr
    if q <= 0.0:
        return r, t, 0, 0.0
    if q >= nk - 1:
        return r, t, nk - 2, 1.0
    k = int(q)
    return r, t, k, q - k


@njit(cache=CACHE, parallel=True)
def footprint_from_profiles(profiles, r_nodes, sx, sy, xs, ys, radius, out):
    """Footprint on the cell centres ``(ys[i], xs[j])`` of a stack at ``(sx, sy)``.

    ``out[i, j] = (1 − φ) R_{d0}(r) + φ R_{d1}(r)``, ``R`` interpolated linearly between the
    nodes (uniform spacing), zero beyond `radius` and at ``r = 0``.
    """
    n, nk = profiles.shape
    width = 360.0 / n
    for i in prange(ys.shape[0]):
        for j in range(xs.shape[0]):
            r, t, k, u = _cell_position(xs[j] - sx, ys[i] - sy, width, r_nodes, nk, radius)
            if r == 0.0:
                continue
            f = math.floor(t)
            d0 = int(f) % n
            d1 = (d0 + 1) % n
            phi = t - f
            v0 = (1.0 - u) * profiles[d0, k] + u * profiles[d0, k + 1]
            v1 = (1.0 - u) * profiles[d1, k] + u * profiles[d1, k + 1]
            out[i, j] = (1.0 - phi) * v0 + phi * v1


@njit(cache=CACHE)
def radial_profiles_by_class(a, fac, hs, zis, clss, invus, scheme, z, decay_k, r_nodes, dep):
    """Radial profiles ``R[c, d, k]`` of one stack, per stability class ``c`` (A..F = 0..5).

    The arguments are those of :func:`radial_profiles`; the sum over the groups of
    :func:`radial_profiles` is split by the class of each group, so that
    ``radial_profiles(...) == radial_profiles_by_class(...).sum(axis=0)`` (to round-off).
    The result is a view ``(class, sector, node)`` of an array held nodes before sectors:
    ``np.transpose(result, (0, 2, 1))`` is C-contiguous (the layout the footprints read).
    """
    return _profiles(a, fac, hs, zis, clss, invus, scheme, z, decay_k, r_nodes, dep,
                     True).transpose(0, 2, 1)  # fmt: skip


@njit(cache=CACHE, parallel=True)
def footprint_from_class_profiles(profiles, r_nodes, scheme, sx, sy, xs, ys, radius, out, near=0.0):
    """Footprint on the cell centres ``(ys[i], xs[j])`` with Gaussian-smoothed sectors.

    ``out[i, j] = Σ_c Σ_d R_{c,d}(r) G_c(t − d; r)``: the per-class profiles of
    :func:`radial_profiles_by_class`, interpolated linearly between the (uniformly spaced)
    nodes, weighted by the share of each sector under the lateral Gaussian of class ``c``
    at the cell's distance (as :func:`.plume_longterm.gauss_position`, spread
    ``sigma_y,c(r) / r`` for the dispersion scheme `scheme`); zero beyond `radius` and at
    ``r = 0``. Classes whose profiles are all zero are skipped. Within `near` [m] of the
    stack, the directions of each sector are integrated with the plume's exact geometry
    instead (:func:`_class_pieces` and :func:`_pieces_sums`; ``near = 0``: nowhere).
    """
    nc, n, nk = profiles.shape
    present = np.zeros(nc, dtype=np.bool_)
    for c in range(nc):
        present[c] = np.any(profiles[c] != 0.0)
    # nodes first, one stack: the layout :func:`_pieces_sums` reads
    by_node = np.ascontiguousarray(profiles.transpose((0, 2, 1))).reshape((nc, nk, n, 1))
    width = 360.0 / n
    inv_width = n / (2.0 * math.pi)
    for i in prange(ys.shape[0]):
        one = np.empty(1)
        for j in range(xs.shape[0]):
            r, t, k, u = _cell_position(xs[j] - sx, ys[i] - sy, width, r_nodes, nk, radius)
            if r == 0.0:
                continue
            val = 0.0
            if r < near:
                pieces = sector_pieces(r, t, n, exact_sub(r))
                m = pieces.shape[0]
                pd = np.empty(m, dtype=np.int64)
                pk = np.empty(m, dtype=np.int64)
                pu = np.zeros(m)
                pm = np.empty(m)
                for c in range(nc):
                    if present[c]:
                        cnt = _class_pieces(r, pieces, r_nodes[0], r_nodes[1] - r_nodes[0], nk,
                                            scheme, c, pd, pk, pu, pm)  # fmt: skip
                        _pieces_sums(by_node[c], cnt, pd, pk, pu, pm, one)
                        val += one[0]
                out[i, j] = val
                continue
            for c in range(nc):
                if present[c]:
                    sp = lateral_spread(r, scheme, c) * inv_width
                    val += gauss_position_mix(t, profiles[c, :, k], profiles[c, :, k + 1], u, sp)
            out[i, j] = val


@njit(cache=CACHE)
def _class_pieces(r, pieces, r0, dr, nk, scheme, cls, pd, pk, pu, pm):
    """The pieces of direction of a cell at distance `r` [m] that count for class `cls`.

    The plume's exact geometry near a stack (:func:`.plume_longterm.exact_group` summed over
    the groups of a class, on the per-class profiles ``R_{c,d}`` holding
    ``N / 2 pi sum_g a_{g,d} fac_g CIC_g(x) / x``) is the sum over the pieces ``m``

    ``sum_m R_{c,d_m}(x_m) [Phi(u_hi / sigma_y,c(x_m)) - Phi(u_lo / sigma_y,c(x_m))]``

    with ``R`` interpolated linearly between the uniform nodes ``r0 + k dr`` (held at the
    end nodes). This fills, per piece within reach, its sector `pd`, its node `pk` (``-1``:
    held at the first node, ``-2`` at the last) and weight `pu` of the next node, and its
    lateral mass `pm` (the bracket); returns their number. The pieces depend on the cell
    and the class only, so that several stacks placed alike share them
    (:func:`footprints_aligned`); :func:`_pieces_sums` adds the stacks' profiles.
    """
    # sigma_y grows with x <= r: pieces beyond GAUSS_REACH sigma_y(r) are beyond reach
    far = GAUSS_REACH * sigma_y(r, scheme, cls)
    cnt = 0
    for p in range(pieces.shape[0]):
        sy = piece_sigma(pieces, p, far, scheme, cls)
        if sy <= 0.0:
            continue
        x, ul, uh = pieces[p, 1], pieces[p, 2], pieces[p, 3]
        pd[cnt] = int(pieces[p, 0])
        q = (x - r0) / dr
        if q <= 0.0:
            pk[cnt] = -1
        elif q >= nk - 1:
            pk[cnt] = -2
        else:
            k = int(q)
            pk[cnt] = k
            pu[cnt] = q - k
        pm[cnt] = lateral_mass(ul, uh, sy)
        cnt += 1
    return cnt


ALIGNED_LAYOUT = "class, node, sector, stack"
"""Axes of the profiles :func:`footprints_aligned` takes (stacks last, so that the stacks
of a node and sector lie together in memory)."""


@njit(cache=CACHE, parallel=True)
def footprints_aligned(profiles, r_nodes, scheme, dxs, dys, rows, cols, radius, near, cells, out):
    """:func:`footprint_from_class_profiles` of several stacks placed alike on the grid.

    The stacks share their offsets to the cell centres: ``dxs[j]``, ``dys[i]`` [m] east and
    north of each stack (the same floats for every stack), so that the distance, bearing,
    sector masses under each class's lateral Gaussian and, within `near` [m], the pieces of
    the exact geometry of a cell are computed once for all the stacks; the stacks then add
    their own profiles together, stack by stack in the innermost loop:
    ``profiles[c, k, d, s]`` is ``R_{c,d}`` at node ``k`` of stack ``s``
    (:func:`radial_profiles_by_class`; :data:`ALIGNED_LAYOUT`). ``out[i, j, s]`` is filled
    for ``rows[s, 0] <= i < rows[s, 1]`` and ``cols[s, 0] <= j < cols[s, 1]`` (the window of
    stack ``s``), bit for bit as :func:`footprint_from_class_profiles` fills its window;
    other cells are left as they are. The cells ``(i, j)`` are visited in the order of the
    rows of `cells` (by distance, so that consecutive cells use the same nodes of the
    profiles, which then stay in cache; each cell is computed on its own, so the order does
    not change the result), in chunks of :data:`CELL_CHUNK` run in parallel.

    Each stack's value is the sum of :func:`footprint_from_class_profiles`, term for term
    and in its order: the terms that kernel skips (a sector or piece whose weight is 0, a
    class whose profiles are all 0) are added here as ``+0`` (the weights and the masses
    are finite and not negative), which leaves a sum unchanged, bit for bit.
    """
    nc, nk, n, nst = profiles.shape
    anyc = np.zeros(nc, dtype=np.bool_)
    for c in range(nc):
        flat = profiles[c].ravel()
        for v in range(flat.shape[0]):
            if flat[v] != 0.0:
                anyc[c] = True
                break
    width = 360.0 / n
    inv_width = n / (2.0 * math.pi)
    r0 = r_nodes[0]
    dr = r_nodes[1] - r_nodes[0]
    npmax = (n // 2 + 4) * EXACT_SUB[0]
    ncell = cells.shape[0]
    for ch in prange((ncell + CELL_CHUNK - 1) // CELL_CHUNK):
        # scratch of one class at a time: each class is summed as soon as it is formed
        buf = np.empty((3, SHARE_CAP))
        pd = np.empty(npmax, dtype=np.int64)
        pk = np.empty(npmax, dtype=np.int64)
        pu = np.zeros(npmax)
        pm = np.empty(npmax)
        val = np.empty(nst)
        tot = np.empty(nst)
        for q in range(ch * CELL_CHUNK, min((ch + 1) * CELL_CHUNK, ncell)):
            i = cells[q, 0]
            j = cells[q, 1]
            need = False
            for s in range(nst):
                if rows[s, 0] <= i < rows[s, 1] and cols[s, 0] <= j < cols[s, 1]:
                    need = True
                    break
            if not need:
                continue
            r, t, k, u = _cell_position(dxs[j], dys[i], width, r_nodes, nk, radius)
            if r == 0.0:
                continue
            val[:] = 0.0
            if r < near:
                pieces = sector_pieces(r, t, n, exact_sub(r))
                for c in range(nc):
                    if anyc[c]:
                        cnt = _class_pieces(r, pieces, r0, dr, nk, scheme, c, pd, pk, pu, pm)
                        _pieces_sums(profiles[c], cnt, pd, pk, pu, pm, tot)
                        for s in range(nst):
                            val[s] += tot[s]
            else:
                for c in range(nc):
                    if not anyc[c]:
                        continue
                    sp = lateral_spread(r, scheme, c) * inv_width
                    reach = GAUSS_REACH * sp + 0.5
                    if (
                        sp <= 0.0
                        or int(math.ceil(t + reach)) - int(math.floor(t - reach)) + 1 > SHARE_CAP
                    ):
                        for s in range(nst):  # gauss_position_mix itself
                            val[s] += gauss_position_mix(t, profiles[c, k, :, s],
                                                         profiles[c, k + 1, :, s], u, sp)  # fmt: skip
                        continue
                    lo, ne = _class_edges(t, sp, _INV_SQRT2 / sp, buf[0], buf[1], buf[2])
                    _edges_sums(profiles[c, k], profiles[c, k + 1], u, lo, ne, buf[1], buf[2], tot)
                    for s in range(nst):
                        val[s] += 0.5 * tot[s]
            for s in range(nst):
                if rows[s, 0] <= i < rows[s, 1] and cols[s, 0] <= j < cols[s, 1]:
                    out[i, j, s] = val[s]


@njit(cache=CACHE)
def _pieces_sums(prof, cnt, pd, pk, pu, pm, tot):
    """The exact-geometry sums of :func:`_class_pieces` for the profiles ``prof[k, d, s]``
    (nodes first, stacks last) of every stack ``s`` at once, into ``tot[s]``: the products
    added in the order of the pieces, so that every stack and both footprint kernels get
    the same bits. A piece whose interpolated profile is 0 adds ``0 × mass = +0`` (the
    lateral masses are finite and not negative), which leaves a sum as it is."""
    nk, _, nst = prof.shape
    tot[:] = 0.0
    for p in range(cnt):
        d = pd[p]
        k = pk[p]
        m = pm[p]
        if k == -1 or k == -2:
            row = prof[0 if k == -1 else nk - 1, d]
            for s in range(nst):
                tot[s] += row[s] * m
        else:
            u = pu[p]
            lo = prof[k, d]
            hi = prof[k + 1, d]
            for s in range(nst):
                tot[s] += ((1.0 - u) * lo[s] + u * hi[s]) * m
