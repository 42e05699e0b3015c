"""The terms of the stacks' radial profiles, kept from one year to the next.

A stack's radial profiles (:mod:`trajectoire._kernels.stacks`) sum, at each radial node
``r_k``, one term per met group ``g`` of the year,

``T_g(r_k) = fac_g CIC(r_k; H_g, z_i,g, σz_c(g)(r_k)) exp(-k r_k <1/u>_g)``

(the wind factor at the stack top times the vertical term and the loss), weighted by the
group's direction frequencies. ``T_g`` does not depend on the frequencies, and the groups
are classes (stability, wind speed, mixing height) whose representative values recur from
year to year: on the bundled sample, about 70 % of a year's terms have the same release
height, lid, class and wind factor as a term of the year before, and 80-90 % as a term of
some year before. Their exponentials are most of the profiles' cost (about 1.3 s of the
1.6 s of CPU a 100 m year spends on them).

:class:`TermTable` keeps the terms computed, node by node, in one node-major table of at
most :data:`TERM_TABLE_BYTES`, each under the bytes of what it depends on; the profiles
read them (:func:`trajectoire._kernels.stacks.profiles_from_terms`) and only the terms
not held are computed (:func:`trajectoire._kernels.stacks.stack_terms`). The same
operations on the same values: the profiles are bit for bit those computed without the
table (:func:`trajectoire._kernels.stacks.profiles_stacks_last`), which a call whose terms
do not fit in the table still uses. The table belongs to the process (one per radial nodes,
scheme and receptor height, the last one used kept); the runner releases it at the end of
a run (:func:`release`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import numpy as np

from trajectoire._kernels.stacks import profiles_from_terms, profiles_stacks_last, stack_terms

__all__ = ["TERM_TABLE_BYTES", "TermTable", "profiles_with_terms", "release"]

TERM_TABLE_BYTES = 256 * 2**20
"""Bytes of the table of terms a process keeps (16,700 terms at 100 m and 20 km, 2011
nodes; a year of the sample's stacks has about 12,600)."""

_KEY = np.dtype(
    [("fac", "<f8"), ("h", "<f8"), ("zi", "<f8"), ("cls", "<i8"), ("iu", "<f8"), ("k", "<f8")]
)


class TermTable:
    """Group terms of stacks' profiles at the radial nodes `nodes` [m], kept across calls.

    Parameters
    ----------
    nodes : numpy.ndarray
        The radial nodes [m] of the profiles.
    scheme : int
        Dispersion-coefficient scheme code.
    z : float
        Receptor height [m].
    capacity : int
        Bytes of the table at most (``8 len(nodes)`` a term).

    Attributes
    ----------
    table : numpy.ndarray
        ``(node, column)`` float64: the terms held, one column each.
    computed, reused : int
        Terms computed and terms read from an earlier call, since the table was made.
    """

    def __init__(self, nodes: np.ndarray, scheme: int, z: float, capacity: int) -> None:
        self.nodes = np.ascontiguousarray(nodes, dtype=np.float64)
        self.context = _context(self.nodes, scheme, z)
        self.scheme = int(scheme)
        self.z = float(z)
        self.capacity = max(0, int(capacity) // (8 * max(self.nodes.size, 1)))
        self.table = np.empty((self.nodes.size, 0))
        self.columns: OrderedDict[bytes, int] = OrderedDict()  # by last use, oldest first
        self.free: list[int] = []  # columns of the table that hold no key
        self.computed = 0
        self.reused = 0

    def index(
        self,
        fac: np.ndarray,
        hs: np.ndarray,
        zis: np.ndarray,
        clss: np.ndarray,
        invus: np.ndarray,
        decay_k: float,
        rows: np.ndarray,
    ) -> np.ndarray | None:
        """The column of each term of the profile rows `rows`, the missing terms computed.

        Parameters
        ----------
        fac, hs : numpy.ndarray
            ``(row, group)`` wind factors and release heights [m] of the profile rows.
        zis, clss, invus : numpy.ndarray
            ``(group,)`` lids [m], stability classes and ``<1/u>`` [s m-1] of the groups.
        decay_k : float
            First-order loss rate [s-1].
        rows : numpy.ndarray
            The rows whose terms are needed.

        Returns
        -------
        numpy.ndarray or None
            ``(row, group)`` int64: the column of ``table`` holding each term of `rows`,
            ``-1`` for a group of wind factor 0 and for the other rows; None (nothing done)
            where the terms of `rows` do not fit in the table.
        """
        rows = np.unique(np.asarray(rows, dtype=np.int64))
        ng = zis.size
        decay = float(decay_k) if decay_k > 0.0 else 0.0  # no loss: the term ignores <1/u>
        keys = np.zeros((rows.size, ng), dtype=_KEY)
        keys["fac"] = fac[rows]
        keys["h"] = hs[rows]
        keys["zi"] = zis[None, :]
        keys["cls"] = clss[None, :]
        keys["iu"] = invus[None, :] if decay > 0.0 else 0.0
        keys["k"] = decay
        live = keys["fac"] != 0.0  # as the kernels, which leave such groups out
        distinct, inverse = np.unique(
            np.ascontiguousarray(keys[live]).view(f"V{_KEY.itemsize}"), return_inverse=True
        )
        if distinct.size > self.capacity:
            return None
        raw, size = distinct.tobytes(), _KEY.itemsize
        names = [raw[i * size : (i + 1) * size] for i in range(distinct.size)]
        cols = np.empty(distinct.size, dtype=np.int64)
        missing = []
        for i, key in enumerate(names):
            col = self.columns.get(key)
            if col is None:
                missing.append(i)
            else:
                self.columns.move_to_end(key)  # the most recently used last
                cols[i] = col
        self._make_room(len(missing))
        for i in missing:
            cols[i] = self.free.pop()
            self.columns[names[i]] = int(cols[i])
        if missing:
            new = distinct[missing].view(_KEY)
            stack_terms(new["fac"].copy(), new["h"].copy(), new["zi"].copy(),
                        new["cls"].copy(), new["iu"].copy(), self.scheme, self.z, decay,
                        self.nodes, cols[missing], self.table)  # fmt: skip
        self.computed += len(missing)
        self.reused += distinct.size - len(missing)
        block = np.full((rows.size, ng), -1, dtype=np.int64)
        block[live] = cols[inverse.reshape(-1)]
        index = np.full((fac.shape[0], ng), -1, dtype=np.int64)
        index[rows] = block
        return index

    def _make_room(self, n: int) -> None:
        """At least `n` free columns: the table made at its capacity on first need (its
        pages are given by the system as the columns are written: a table never full holds
        only what it was given; it is never copied to grow), then the columns of the least
        recently used keys freed (the keys asked for now were just moved to the end, and
        the caller asks for no more than the capacity)."""
        if n and self.table.shape[1] < self.capacity:
            self.table = np.empty((self.nodes.size, self.capacity))
            self.free = list(range(self.capacity - 1, -1, -1))  # popped from the end: in order
        while len(self.free) < n:
            self.free.append(self.columns.popitem(last=False)[1])


def _context(nodes: np.ndarray, scheme: int, z: float) -> tuple[bytes, int, str]:
    """What a table's terms depend on besides their keys: the radial nodes, the scheme and
    the receptor height, as bytes and exact values."""
    return (np.ascontiguousarray(nodes, dtype=np.float64).tobytes(), int(scheme), float(z).hex())


_LOCK = threading.Lock()
_TABLE: list[TermTable] = []


def _table_for(nodes: np.ndarray, scheme: int, z: float) -> TermTable:
    """The process's table for these nodes, scheme and receptor height (a new one, the
    previous dropped, where they differ)."""
    if not _TABLE or _TABLE[0].context != _context(nodes, scheme, z):
        _TABLE[:] = [TermTable(nodes, scheme, z, TERM_TABLE_BYTES)]
    return _TABLE[0]


def release() -> None:
    """Drop the process's table of terms (its memory goes back to the allocator)."""
    with _LOCK:
        _TABLE.clear()


def profiles_with_terms(
    a: np.ndarray,
    fac: np.ndarray,
    hs: np.ndarray,
    zis: np.ndarray,
    clss: np.ndarray,
    invus: np.ndarray,
    scheme: int,
    z: float,
    decay_k: float,
    nodes: np.ndarray,
    dep: tuple[Any, ...],
    stacks: np.ndarray,
    slots: np.ndarray,
    out: np.ndarray,
) -> None:
    """:func:`trajectoire._kernels.stacks.profiles_stacks_last` (same arguments, same
    bits), its group terms read from the process's :class:`TermTable` where it holds them
    and computed into it where not."""
    with _LOCK:
        table = _table_for(nodes, scheme, z)
        index = table.index(fac, hs, zis, clss, invus, decay_k, stacks)
        if index is None:
            profiles_stacks_last(a, fac, hs, zis, clss, invus, scheme, z, decay_k, nodes, dep,
                                 stacks, slots, out)  # fmt: skip
            return
        profiles_from_terms(a, table.table, index, fac, clss, invus, nodes, dep, stacks, slots,
                            out)  # fmt: skip
