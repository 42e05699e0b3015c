"""The footprints of several kernel sets computed together are each set's, bit for bit.

``stack_footprint_sets`` (and ``year_stack_sets``, ``RunContext.stack_sets`` above it)
computes the geometry of each cell once for the stacks of every set; the footprints must
keep the bits ``stack_footprints`` gives each set alone, whatever the sets' losses,
meteorology, stacks and sector shapes.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import trajectoire.meteo as tm
from test_run_emerging import _config
from test_wind_sectors import synth
from trajectoire import Grid, TrajectoireWarning
from trajectoire import pipeline as P
from trajectoire.dispersion import stack_footprints
from trajectoire.dispersion.concentration import stack_footprint_sets
from trajectoire.dispersion.local import StackSet, year_stack_sets, year_stacks


def _same(a: list, b: list) -> None:
    """Two lists of footprints with the same windows and the same bits."""
    assert len(a) == len(b)
    for (ra, ca, fa), (rb, cb, fb) in zip(a, b, strict=True):
        assert (ra, ca) == (rb, cb)
        assert fa.shape == fb.shape and fa.dtype == fb.dtype
        assert fa.tobytes() == fb.tobytes()


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> P.RunContext:
    """The small run with the emerging species: kernel sets with decay and deposition,
    PFOA from stacks."""
    cfg = _config(tmp_path_factory.mktemp("stack_sets"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        return P.prepare(cfg)


def test_a_years_sets_together_are_each_set_alone(ctx: P.RunContext) -> None:
    """What ``compute_year`` asks (every kernel set of the year, the emitting stacks)."""
    sets = list(ctx.kernel_groups.items())
    assert len(sets) >= 2, "the fixture should have several kernel sets"
    for year in (ctx.years[0], ctx.years[-1]):
        together = ctx.stack_sets(year, sets)
        for (key, members), got in zip(sets, together, strict=True):
            alone = ctx.stack_set(year, key, members, emitting_only=True)
            assert got.sector == alone.sector and got.origin == alone.origin
            _same(got.footprints, alone.footprints)


@settings(max_examples=12, deadline=None)
@given(
    rates=st.lists(st.sampled_from([0.0, 2e-5, 1e-4]), min_size=1, max_size=3),
    vds=st.lists(st.sampled_from([0.0, 0.003, 0.01]), min_size=3, max_size=3),
    seed=st.integers(0, 2**16),
)
def test_year_stack_sets_is_year_stacks_of_each(ctx: P.RunContext, rates, vds, seed) -> None:
    """Sets with their own decay, deposition, meteorology and active stacks."""
    assert ctx.points is not None
    rng = np.random.default_rng(seed)
    n = ctx.points.sizes["source"]
    mets = [ctx.met_of(y) for y in ctx.years]
    requests = [
        StackSet(mets[i % len(mets)], rate, vds[i], rng.random(n) < 0.6)
        for i, rate in enumerate(rates)
    ]
    args = (ctx.points, ctx.grid, ctx.settings, ctx.sectors, ctx.origins)
    together = year_stack_sets(*args, requests)
    for req, got in zip(requests, together, strict=True):
        alone = year_stacks(ctx.points, req.met_year, ctx.grid, ctx.settings, ctx.sectors,
                            ctx.origins, decay_rate=req.decay_rate,
                            deposition_velocity=req.deposition_velocity, active=req.active)  # fmt: skip
        _same(got.footprints, alone.footprints)


@settings(max_examples=15, deadline=None)
@given(
    shapes=st.lists(st.sampled_from(["gauss", "hat", "flat"]), min_size=2, max_size=3),
    offsets=st.lists(st.tuples(st.floats(-400, 400), st.floats(-400, 400)), min_size=1, max_size=3),
    near=st.sampled_from([0.0, 300.0]),
    seed=st.integers(0, 3),
)
def test_stack_footprint_sets_is_stack_footprints_of_each(shapes, offsets, near, seed) -> None:
    """Sets of stacks placed alike or not, with plain or Gaussian sectors, near field or
    not: each set's footprints are those of :func:`stack_footprints` on it alone."""
    table = tm.met_classes(synth(seed=seed)).isel(year=0)
    x0, y0 = 700_000.0, 7_050_000.0
    grid = Grid.from_bounds(x0 - 1500, y0 - 1500, x0 + 1500, y0 + 1500, 100)
    sets = []
    for i, shape in enumerate(shapes):
        pos = offsets[: 1 + i % len(offsets)]
        kw = {
            "x": [x0 + dx for dx, _ in pos],
            "y": [y0 + dy for _, dy in pos],
            "stack_height": [20.0 + 15.0 * j for j in range(len(pos))],
            "stack_diameter": [1.0] * len(pos),
            "exit_temperature": [360.0 + 10.0 * i] * len(pos),
            "exit_velocity": [6.0] * len(pos),
            "decay_rate": 1e-4 * i,
            "sector_smoothing": shape,
            "near_field": near,
        }
        sets.append((table, kw))
    together = stack_footprint_sets(sets, grid=grid, radius=1200.0)
    for (freq, kw), got in zip(sets, together, strict=True):
        _same(got, stack_footprints(freq, grid=grid, radius=1200.0, **kw))


# two parameter sets, as a register's default stacks per activity give many sites
_KINDS = [
    {"stack_height": 30.0, "stack_diameter": 1.5, "exit_temperature": 430.0, "exit_velocity": 10.0},
    {"stack_height": 60.0, "stack_diameter": 3.0, "exit_temperature": 450.0, "exit_velocity": 12.0},
]


@settings(max_examples=10, deadline=None)
@given(
    kinds=st.lists(st.integers(0, 1), min_size=2, max_size=6),
    offsets=st.lists(
        st.tuples(st.floats(-900, 900), st.floats(-900, 900)), min_size=6, max_size=6
    ),  # fmt: skip
    aligned=st.booleans(),
    vd=st.sampled_from([0.0, 0.003]),
    decay=st.sampled_from([0.0, 1e-4]),
    shape=st.sampled_from(["gauss", "flat"]),
    seed=st.integers(0, 3),
)
def test_stacks_alike_share_their_profiles_each_footprint_kept(kinds, offsets, aligned, vd,
                                                               decay, shape, seed):  # fmt: skip
    """Stacks with the same parameters (their heights and wind factors the same bytes in
    every met group) are tabulated once per batch, from one row of the heights, factors and
    depletion tables per distinct stack; every footprint keeps the bits of
    :func:`stack_footprints` on its stack alone (where nothing can be shared), stacks on
    the same offsets to their cells or not, with Gaussian-smoothed or plain sectors (these
    read the distinct rows one stack at a time)."""
    from trajectoire.dispersion import concentration as C

    table = tm.met_classes(synth(seed=seed)).isel(year=0)
    x0, y0 = 700_000.0, 7_050_000.0
    grid = Grid.from_bounds(x0 - 1500, y0 - 1500, x0 + 1500, y0 + 1500, 100)
    if aligned:  # whole cells apart: the stacks share the geometry of each cell too
        offsets = [(100.0 * round(dx / 100), 100.0 * round(dy / 100)) for dx, dy in offsets]
    pos = offsets[: len(kinds)]
    one = {"decay_rate": decay, "deposition_velocity": vd, "near_field": 300.0,
           "sector_smoothing": shape}  # fmt: skip
    kw = {"x": [x0 + dx for dx, _ in pos], "y": [y0 + dy for _, dy in pos], **one}
    for key in _KINDS[0]:
        kw[key] = [_KINDS[k][key] for k in kinds]
    rows: list[int] = []
    stacks_asked: list[np.ndarray] = []
    kernel = C.profiles_with_terms  # profiles_stacks_last, the terms kept across calls

    def spy(a, fac, hs, *args):
        rows.append(fac.shape[0])
        stacks_asked.append(np.array(args[-3]))
        return kernel(a, fac, hs, *args)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(C, "profiles_with_terms", spy)
        (got,) = stack_footprint_sets([(table, kw)], grid=grid, radius=1200.0)
    n_kinds = len(set(kinds))
    if shape == "gauss":
        assert rows and all(r == n_kinds for r in rows)  # one row per distinct stack
        assert sum(np.unique(s).size for s in stacks_asked) == n_kinds  # each computed once
    for s, fp in enumerate(got):
        alone = {k: (v[s : s + 1] if isinstance(v, list) else v) for k, v in kw.items()}
        _same([fp], stack_footprints(table, grid=grid, radius=1200.0, **alone))


def test_alike_rows_by_bytes_in_order_of_first_stack() -> None:
    """Rows are told apart by their bytes in every array (``-0.0`` is not ``+0.0``; two
    NaN of the same bits are alike), and numbered in the order of their first stack."""
    from trajectoire.dispersion.concentration import _alike_rows

    hs = np.array([[1.0, 2.0], [3.0, 4.0], [1.0, 2.0], [0.0, np.nan], [-0.0, np.nan],
                   [0.0, np.nan], [3.0, 4.0]])  # fmt: skip
    fac = np.ones_like(hs)
    fac[6, 1] = 0.5  # the same heights, another wind factor
    row, first = _alike_rows(hs, fac)
    assert row.tolist() == [0, 1, 0, 2, 3, 2, 4]
    assert first.tolist() == [0, 1, 3, 4, 6]


def test_kept_rows_copy_what_they_keep_within_their_budget(monkeypatch) -> None:
    """Shared rows are kept once computed and copied into a later batch's slots; the least
    recently used goes when the budget is full, and rows of one stack are never kept."""
    from trajectoire.dispersion import concentration as C

    monkeypatch.setattr(C, "_KEPT_ROWS_BYTES", 2 * 6 * 5 * 4 * 8)  # two rows of (6, 5, 4)
    kept = C._KeptRows(np.array([True, True, True, False]))
    out = np.random.default_rng(0).random((6, 5, 4, 3))
    assert kept.copy_into(np.array([0, 3, 1]), [0, 1, 2], out) == [0, 1, 2]
    kept.keep(np.array([0, 3, 1]), [0, 1, 2], out)
    assert list(kept.rows) == [0, 1]  # row 3 belongs to one stack
    want0, want1 = out[..., 0].copy(), out[..., 2].copy()
    later = np.zeros((6, 5, 4, 2))
    assert kept.copy_into(np.array([1, 0]), [0, 1], later) == []
    assert later[..., 0].tobytes() == want1.tobytes()
    assert later[..., 1].tobytes() == want0.tobytes()
    assert list(kept.rows) == [1, 0]  # the most recently used last
    kept.keep(np.array([2]), [0], later)  # a third row: the least recently used (1) goes
    assert list(kept.rows) == [0, 2]


@settings(max_examples=40, deadline=None)
@given(
    picks=st.lists(
        st.tuples(st.integers(-3, 12), st.integers(-3, 12), st.sampled_from([0.0, 37.5, 50.0])),
        min_size=1,
        max_size=12,
    ),
    half=st.integers(1, 4),
)
def test_offset_groups_are_those_of_comparing_every_group(picks, half) -> None:
    """Grouping the stacks by their centre offsets first finds, for each stack, the same
    group as comparing it with every group in turn (the code before, quadratic): stacks on
    whole cells apart, on other offsets, on the same point, beyond the grid's edges."""
    from trajectoire.dispersion.concentration import _join_first, _offset_groups, _window_offsets

    x0, y0 = 700_000.0, 7_050_000.0
    grid = Grid.from_bounds(x0, y0, x0 + 1000.0, y0 + 1000.0, 100)
    xs = np.array([x0 + 100.0 * i + f for i, _, f in picks])
    ys = np.array([y0 + 100.0 * j + 50.0 for _, j, _ in picks])
    got = _offset_groups(grid, xs, ys, half)
    # the reference: each stack against every group, in their order
    want: list[tuple[list[int], np.ndarray, np.ndarray]] = []
    for s, (dx, dy) in enumerate(_window_offsets(grid, xs, ys, half)):
        if not _join_first(want, range(len(want)), s, dx, dy):
            want.append(([s], dx, dy))
    assert [g[0] for g in got] == [g[0] for g in want]
    for (_, gx, gy), (_, wx, wy) in zip(got, want, strict=True):
        assert gx.tobytes() == wx.tobytes() and gy.tobytes() == wy.tobytes()
