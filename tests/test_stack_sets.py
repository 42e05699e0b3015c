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
