"""The depletion rows kept across calls (`trajectoire.dispersion.depletion_rows`): the same
bits as the kernel computing every row, whatever was held before and whatever was dropped."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from trajectoire._kernels.deposition import depletion_tables, table_nodes
from trajectoire.dispersion import depletion_rows
from trajectoire.dispersion.depletion_rows import RowTable

S0, DS, NK = table_nodes(2000.0)

# a few values of each parameter, so that calls share rows
_H = st.sampled_from([0.0, 2.0, 10.0, 35.5])
_ZI = st.sampled_from([300.0, 800.0, 1234.567, np.inf])
_CLS = st.integers(0, 5)
_GROUPS = st.lists(st.tuples(_H, _ZI, _CLS), min_size=1, max_size=6)


def _direct(z, groups, scheme, sz0):
    hs = np.array([g[0] for g in groups])
    zis = np.array([g[1] for g in groups])
    clss = np.array([g[2] for g in groups], dtype=np.int64)
    itab = np.empty((len(groups), NK))
    dtab = np.empty_like(itab)
    depletion_tables(z, hs, zis, clss, scheme, sz0, S0, DS, itab, dtab)
    return hs, zis, clss, itab, dtab


@settings(max_examples=25, deadline=None)
@given(
    calls=st.lists(_GROUPS, min_size=1, max_size=4),
    z=st.sampled_from([0.0, 1.5]),
    scheme=st.integers(0, 2),
    sz0=st.sampled_from([0.0, 3.0]),
    rows_held=st.integers(0, 5),
)
def test_rows_are_the_kernels_bits(calls, z, scheme, sz0, rows_held):
    # a table holding at most `rows_held` rows: rows dropped and computed again
    table = RowTable(rows_held * 16 * NK)
    for groups in calls:
        hs, zis, clss, itab, dtab = _direct(z, groups, scheme, max(sz0, 1.0 if z == 0 else 0))
        got_i = np.full_like(itab, np.nan)
        got_d = np.full_like(dtab, np.nan)
        table.fill(z, hs, zis, clss, scheme, max(sz0, 1.0 if z == 0 else 0), S0, DS, got_i, got_d)
        assert got_i.tobytes() == itab.tobytes()
        assert got_d.tobytes() == dtab.tobytes()
        assert table.bytes <= table.capacity
        assert len(table.rows) <= rows_held


def test_rows_of_a_second_year_are_read_not_computed():
    table = RowTable(2**20)
    groups = [(10.0, 800.0, 3), (10.0, 800.0, 4), (0.0, 1234.567, 5)]
    hs, zis, clss, itab, dtab = _direct(1.5, groups, 0, 0.0)
    out_i, out_d = np.empty_like(itab), np.empty_like(dtab)
    table.fill(1.5, hs, zis, clss, 0, 0.0, S0, DS, out_i, out_d)
    assert (table.computed, table.reused) == (3, 0)
    # the next year: two of the groups again, one new (another lid), in another order
    groups2 = [(0.0, 1234.567, 5), (10.0, 900.0, 3), (10.0, 800.0, 3)]
    hs2, zis2, clss2, itab2, dtab2 = _direct(1.5, groups2, 0, 0.0)
    out_i, out_d = np.empty_like(itab2), np.empty_like(dtab2)
    table.fill(1.5, hs2, zis2, clss2, 0, 0.0, S0, DS, out_i, out_d)
    assert (table.computed, table.reused) == (4, 2)
    assert out_i.tobytes() == itab2.tobytes() and out_d.tobytes() == dtab2.tobytes()
    # what a row depends on besides its group: another receptor height is another row
    table.fill(2.0, hs2, zis2, clss2, 0, 0.0, S0, DS, out_i, out_d)
    assert (table.computed, table.reused) == (7, 2)


def test_process_table_is_released():
    depletion_rows.release()
    hs, zis, clss, itab, dtab = _direct(1.5, [(10.0, 800.0, 3)], 1, 0.0)
    out_i, out_d = np.empty_like(itab), np.empty_like(dtab)
    with depletion_rows.process_table() as table:
        table.fill(1.5, hs, zis, clss, 1, 0.0, S0, DS, out_i, out_d)
    assert out_i.tobytes() == itab.tobytes() and out_d.tobytes() == dtab.tobytes()
    assert depletion_rows._TABLE and len(depletion_rows._TABLE[0].rows) == 1
    depletion_rows.release()
    assert not depletion_rows._TABLE


def test_groups_of_one_row_in_a_call_computed_once():
    table = RowTable(2**20)
    groups = [(10.0, 800.0, 3), (0.0, 300.0, 1), (10.0, 800.0, 3), (10.0, 800.0, 3)]
    hs, zis, clss, itab, dtab = _direct(1.5, groups, 2, 0.0)
    out_i, out_d = np.empty_like(itab), np.empty_like(dtab)
    table.fill(1.5, hs, zis, clss, 2, 0.0, S0, DS, out_i, out_d)
    assert (table.computed, table.reused, len(table.rows)) == (2, 0, 2)
    assert out_i.tobytes() == itab.tobytes() and out_d.tobytes() == dtab.tobytes()
