"""The stacks' group terms kept from one call (one year) to the next
(:mod:`trajectoire.dispersion.stack_terms`): the profiles keep their bits, the terms held
are not computed again, the table keeps to its budget."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from test_kernels_sharing import NO_DEPOSITION_STACKS, deposition, groups
from trajectoire._kernels.stacks import profiles_stacks_last
from trajectoire.dispersion import stack_terms as T

NODES = np.arange(5.0, 2500.0, 10.0)


def _year(seed: int, n_st: int, base: tuple[np.ndarray, ...] | None = None):
    """One year's groups and stack rows ``(a, fac, hs, zis, cls, invus)``; with `base` (an
    earlier year's), the same classes and lids, some heights, wind factors and speeds
    changed (as a new year's met groups: partly the same terms)."""
    rng = np.random.default_rng(seed)
    a, _, zis, cls, invus = groups(seed, speeds=2)
    if base is None:
        fac = rng.uniform(0.5, 1.0, (n_st, cls.size))
        fac[rng.random(fac.shape) < 0.1] = 0.0  # groups of wind factor 0: left out
        hs = 20.0 + 15.0 * rng.random((n_st, cls.size))
        return a, fac, hs, zis, cls, invus
    _, fac0, hs0, zis, cls, invus0 = base
    fac, hs, invus = fac0.copy(), hs0.copy(), invus0.copy()
    moved = rng.random(hs.shape) < 0.4
    hs[moved] += rng.uniform(1.0, 5.0, int(moved.sum()))
    fac[rng.random(fac.shape) < 0.1] = 0.0
    invus[rng.random(invus.size) < 0.5] *= 1.1
    return a, fac, hs, zis, cls, invus


def _dep(vd: float, hs: np.ndarray, zis: np.ndarray, cls: np.ndarray) -> tuple:
    if vd == 0.0:
        return NO_DEPOSITION_STACKS
    deps = [deposition(1.5, hs[s], zis, cls, vd) for s in range(hs.shape[0])]
    return (*deps[0][:3], np.stack([d[3] for d in deps]), np.stack([d[4] for d in deps]))


def _both(year, decay, vd, stacks, slots):
    """The profiles of `stacks` into `slots` by :func:`profiles_stacks_last` and by
    :func:`stack_terms.profiles_with_terms` (the process's table as it is)."""
    a, fac, hs, zis, cls, invus = year
    dep = _dep(vd, hs, zis, cls)
    shape = (6, NODES.size, a.shape[1], stacks.size)
    want, got = np.full(shape, np.nan), np.full(shape, np.nan)
    args = (a, fac, hs, zis, cls, invus, 1, 1.5, decay, NODES, dep, stacks, slots)
    profiles_stacks_last(*args, want)
    T.profiles_with_terms(*args, got)
    return want, got


def _keys(year, decay, rows) -> set[bytes]:
    """The distinct terms of `rows` (what a term depends on, as bytes), wind factor 0 out."""
    _, fac, hs, zis, cls, invus = year
    out = set()
    for u in set(rows.tolist()):
        for g in range(zis.size):
            if fac[u, g] != 0.0:
                iu = invus[g] if decay > 0.0 else 0.0
                out.add(np.array([fac[u, g], hs[u, g], zis[g], cls[g], iu, decay]).tobytes())
    return out


@settings(max_examples=25, deadline=None)
@given(
    vd=st.sampled_from([0.0, 0.003]),
    decay=st.sampled_from([0.0, 1e-4]),
    rows=st.lists(st.lists(st.integers(0, 4), min_size=1, max_size=6), min_size=1, max_size=4),
    budget=st.sampled_from([0, 20, 60, 10_000]),
    seed=st.integers(0, 20),
)
def test_profiles_with_terms_are_the_kernels_bit_for_bit(vd, decay, rows, budget, seed):
    """Years in turn, each with some terms of the years before: every call's profiles
    are :func:`profiles_stacks_last`'s, bit for bit, whatever the table holds, evicts
    (a budget of a few terms) or cannot hold (0: every call without it)."""
    years = [_year(seed, 5)]
    for i in range(1, len(rows)):
        years.append(_year(seed + 100 * i, 5, years[-1]))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(T, "TERM_TABLE_BYTES", budget * 8 * NODES.size)
        T.release()
        rng = np.random.default_rng(seed)
        for year, asked in zip(years, rows, strict=True):
            stacks = np.array(asked, dtype=np.int64)
            slots = rng.permutation(stacks.size).astype(np.int64)
            want, got = _both(year, decay, vd, stacks, slots)
            assert got.tobytes() == want.tobytes()
        T.release()


def test_terms_held_are_read_not_computed_again(monkeypatch) -> None:
    """A second year computes only the terms the first did not have; the same year again
    computes none. Without loss, the speeds of the groups do not tell terms apart; with
    it, they do."""
    monkeypatch.setattr(T, "TERM_TABLE_BYTES", 10**9)
    y1 = _year(3, 4)
    y2 = _year(4, 4, y1)
    stacks = np.array([0, 1, 2, 3], dtype=np.int64)
    slots = np.arange(4, dtype=np.int64)
    for decay in (0.0, 1e-4):
        T.release()
        _both(y1, decay, 0.0, stacks, slots)
        table = T._TABLE[0]
        first = _keys(y1, decay, stacks)
        assert (table.computed, table.reused) == (len(first), 0)
        _both(y2, decay, 0.0, stacks, slots)
        second = _keys(y2, decay, stacks)
        assert table.computed == len(first) + len(second - first)
        assert table.reused == len(second & first) > 0
        assert second - first  # the years differ
        done = table.computed
        want, got = _both(y2, decay, 0.0, stacks, slots)
        assert table.computed == done
        assert got.tobytes() == want.tobytes()
    T.release()


def test_the_least_recently_used_terms_go_first(monkeypatch) -> None:
    """With room for two stacks' terms, a third stack evicts the terms of the one used
    least recently, and the table never grows beyond its budget."""
    y = _year(7, 3)
    y[1][:] = 1.0  # every group counts
    y[2][:] = np.array([[10.0], [20.0], [30.0]])  # three stacks, no term in common
    ng = len(_keys(y, 0.0, np.array([0])))  # a stack's distinct terms (two speeds a class)
    assert ng == len(_keys(y, 0.0, np.array([1]))) < y[3].size
    monkeypatch.setattr(T, "TERM_TABLE_BYTES", 2 * ng * 8 * NODES.size)
    T.release()
    one = np.array([0], dtype=np.int64)
    for s in (0, 1, 0, 2):  # stack 1 is the least recently used when 2 comes
        _both(y, 0.0, 0.0, one * 0 + s, one * 0)
    table = T._TABLE[0]
    held = {round(np.frombuffer(k, dtype=T._KEY)["h"][0]) for k in table.columns}
    assert held == {10, 30}
    assert table.table.shape[1] == table.capacity == 2 * ng
    assert (table.computed, table.reused) == (3 * ng, ng)
    T.release()


def test_terms_that_do_not_fit_are_computed_without_the_table(monkeypatch) -> None:
    """A call whose terms are more than the table holds leaves it as it is and gives the
    kernel's profiles."""
    y = _year(9, 3)
    monkeypatch.setattr(T, "TERM_TABLE_BYTES", 3 * 8 * NODES.size)  # three terms
    T.release()
    stacks = np.array([2, 0], dtype=np.int64)
    want, got = _both(y, 1e-4, 0.003, stacks, np.array([1, 0], dtype=np.int64))
    assert got.tobytes() == want.tobytes()
    table = T._TABLE[0]
    assert (table.computed, table.reused, len(table.columns)) == (0, 0, 0)
    T.release()


def test_a_table_per_nodes_scheme_and_height_and_released_by_the_runner() -> None:
    """Other nodes (another grid), scheme or receptor height start a new table; the
    serial runner's block of years and a worker's release drop it."""
    from trajectoire.batch import runner

    T.release()
    first = T._table_for(NODES, 1, 1.5)
    assert T._table_for(NODES.copy(), 1, 1.5) is first
    for other in ((NODES * 2, 1, 1.5), (NODES, 2, 1.5), (NODES, 1, 2.0)):
        assert T._table_for(*other) is not first
    with runner._years_resources():
        T._table_for(NODES, 1, 1.5)
    assert not T._TABLE
    T._table_for(NODES, 1, 1.5)
    runner._release_worker("no-such-context")
    assert not T._TABLE
