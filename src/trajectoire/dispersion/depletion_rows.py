"""The rows of the source-depletion tables, kept from one year to the next.

A depositing kernel set or stack needs, for each met group ``g``, the tables
``I_g(r_k)`` and ``r_k g_g(r_k)`` on log-uniform radial nodes
(:func:`trajectoire._kernels.deposition.depletion_tables`, ``docs/dispersion.md``). A
group's row depends only on the receptor height, its release height, its lid, its
stability class, the dispersion scheme, the initial sigma_z and the nodes: not on the
year's frequencies. The groups are classes whose representative values recur from year to
year: on the bundled sample, 1452 distinct rows make the 22,662 rows its 34 years ask for.
Each row costs a Gauss-Legendre integral over about 680 nodes: 10.0 s of CPU over the
sample's years computed afresh each year, 0.78 s with the table (200 m; the rows do not
depend on the grid).

:class:`RowTable` keeps the rows computed, under the bytes of what they depend on, up to
:data:`ROW_TABLE_BYTES`; only the rows it lacks are computed, by the same kernel on the
same values: each group's row is computed on its own by that kernel (its groups are
independent), so the tables are bit for bit those computed without the table. The table
belongs to the process; the runner releases it at the end of a run (:func:`release`), as
it does the stacks' terms (:mod:`trajectoire.dispersion.stack_terms`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from trajectoire._kernels.deposition import depletion_tables

__all__ = ["ROW_TABLE_BYTES", "RowTable", "process_table", "release"]

ROW_TABLE_BYTES = 32 * 2**20
"""Bytes of the rows a process keeps (about 3,000 rows of 680 nodes, two tables each)."""

_KEY = np.dtype(
    [
        ("z", "<f8"),
        ("h", "<f8"),
        ("zi", "<f8"),
        ("cls", "<i8"),
        ("scheme", "<i8"),
        ("sz0", "<f8"),
        ("s0", "<f8"),
        ("ds", "<f8"),
        ("nk", "<i8"),
    ]
)


class RowTable:
    """Rows of depletion tables kept across calls, the least recently used dropped first.

    Parameters
    ----------
    capacity : int
        Bytes of the rows held at most (``16 nk`` a row).

    Attributes
    ----------
    computed, reused : int
        Rows computed and rows read from an earlier call, since the table was made.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = max(0, int(capacity))
        self.rows: OrderedDict[bytes, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self.bytes = 0
        self.computed = 0
        self.reused = 0

    def fill(
        self,
        z: float,
        hs: np.ndarray,
        zis: np.ndarray,
        clss: np.ndarray,
        scheme: int,
        sz0: float,
        s0: float,
        ds: float,
        itab: np.ndarray,
        dtab: np.ndarray,
    ) -> None:
        """:func:`~trajectoire._kernels.deposition.depletion_tables` (same arguments, same
        bits): the rows held are copied, the others computed (in one call, once each where
        several groups share one) and kept.

        Parameters
        ----------
        z : float
            Receptor (deposition reference) height [m].
        hs, zis : numpy.ndarray
            ``(group,)`` release heights and lids [m].
        clss : numpy.ndarray
            ``(group,)`` int64 stability indices.
        scheme : int
            Dispersion-coefficient scheme code.
        sz0 : float
            Initial vertical spread [m].
        s0, ds : float
            First node ``ln r_0`` and step of ``ln r`` of the tables.
        itab, dtab : numpy.ndarray
            ``(group, node)`` float64 tables, filled.
        """
        ng, nk = itab.shape
        keys = np.zeros(ng, dtype=_KEY)
        keys["z"], keys["h"], keys["zi"], keys["cls"] = z, hs, zis, clss
        keys["scheme"], keys["sz0"], keys["s0"], keys["ds"], keys["nk"] = scheme, sz0, s0, ds, nk
        raw, size = keys.tobytes(), _KEY.itemsize
        names = [raw[g * size : (g + 1) * size] for g in range(ng)]
        missing: dict[bytes, list[int]] = {}  # the groups of each row not held
        for g, key in enumerate(names):
            held = self.rows.get(key)
            if held is None:
                missing.setdefault(key, []).append(g)
                continue
            self.rows.move_to_end(key)
            itab[g], dtab[g] = held
            self.reused += 1
        if not missing:
            return
        sel = np.array([groups[0] for groups in missing.values()], dtype=np.int64)
        inew = np.empty((sel.size, nk))
        dnew = np.empty((sel.size, nk))
        depletion_tables(z, np.ascontiguousarray(hs[sel]), np.ascontiguousarray(zis[sel]),
                         np.ascontiguousarray(clss[sel]), scheme, sz0, s0, ds, inew, dnew)  # fmt: skip
        self.computed += sel.size
        row_bytes = 16 * nk
        for n, (key, groups) in enumerate(missing.items()):
            itab[groups], dtab[groups] = inew[n], dnew[n]
            if row_bytes > self.capacity:
                continue
            while self.rows and self.bytes + row_bytes > self.capacity:
                old_i, _ = self.rows.popitem(last=False)[1]
                self.bytes -= 16 * old_i.size
            self.rows[key] = (inew[n].copy(), dnew[n].copy())
            self.bytes += row_bytes


_LOCK = threading.Lock()
_TABLE: list[RowTable] = []


@contextmanager
def process_table() -> Iterator[RowTable]:
    """The process's :class:`RowTable` (made on first use), held by this thread for the
    block: fill the rows of a call through its :meth:`RowTable.fill`."""
    with _LOCK:
        if not _TABLE:
            _TABLE.append(RowTable(ROW_TABLE_BYTES))
        yield _TABLE[0]


def release() -> None:
    """Drop the process's rows (their memory goes back to the allocator)."""
    with _LOCK:
        _TABLE.clear()
