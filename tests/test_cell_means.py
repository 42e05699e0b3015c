"""Cell means of the stacks' footprints near each stack (``cell_mean``, the default).

A cell's value near a stack is its mean over the cell (midpoint rule on sub-points,
:data:`trajectoire.dispersion.cell_means.CELL_MEAN_LEVELS`), not the value at its centre.
Checked against closed forms (the midpoint rule of a quadratic), against the mean of a
much finer grid of centre values computed by the library's centre path, and on the
property that motivated it: a block's mass does not depend on where the stack lies within
its cell (hypothesis).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import trajectoire.meteo as tm
from test_wind_sectors import synth
from trajectoire import Grid
from trajectoire import dispersion as disp
from trajectoire.dispersion.cell_means import CELL_MEAN_LEVELS, band_means, sub_offsets
from trajectoire.errors import InputError

X0, Y0 = 700_000.0, 7_050_000.0  # Lambert-93 [m]


@pytest.fixture(scope="module")
def table():
    return tm.met_classes(synth(n=2000, seed=3)).isel(year=0)


def _stack(height: float, fx: float, fy: float, cell: float) -> dict:
    """One stack `fx`, `fy` cells east and north of the cell centre at (X0, Y0)."""
    return dict(x=[X0 + fx * cell], y=[Y0 + fy * cell], stack_height=[height],
                stack_diameter=[3.0], exit_temperature=[400.0], exit_velocity=[12.0])  # fmt: skip


def _grid(cell: float, m: int) -> Grid:
    """A grid of 2 m + 1 cells a side centred on (X0, Y0)."""
    half = (m + 0.5) * cell
    return Grid.from_bounds(X0 - half, Y0 - half, X0 + half, Y0 + half, cell)


def _field(table, grid: Grid, spacing: float, **kw) -> np.ndarray:
    """The stacks' footprints added on the whole grid [ug m-3 per t yr-1]."""
    out = np.zeros((grid.ny, grid.nx))
    for rows, cols, fp in disp.stack_footprints(table, grid=grid, radius=60_000.0,
                                                node_spacing=spacing, **kw):  # fmt: skip
        out[rows, cols] += fp
    return out


def test_sub_offsets_are_the_midpoints():
    np.testing.assert_array_equal(sub_offsets(4), [-0.375, -0.125, 0.125, 0.375])
    for n in (2, 4, 8):
        assert sub_offsets(n).sum() == 0.0 and 0.0 not in sub_offsets(n)


def test_band_means_of_a_quadratic_are_the_midpoint_rule_closed_form():
    """f = x^2 + 3 y: the midpoint rule's mean over a cell of size h with n x n points is
    xc^2 + h^2 (1 - 1 / n^2) / 12 + 3 yc (exact, plain arithmetic)."""
    h = 100.0
    gx = (np.arange(21) - 10) * h + 20.0
    gy = (10 - np.arange(21)) * h - 35.0  # north-up rows
    gx[2] = np.nan  # a column beyond the grid: left out

    def evaluate(fx, fy, points):
        assert np.all(np.diff(fx) > 0) and np.all(np.diff(fy) < 0)  # regular, as the rows
        return fx[None, :] ** 2 + 3.0 * fy[:, None]

    seen = set()
    for (edge, n), (rows, cols, means) in zip(CELL_MEAN_LEVELS, band_means(gx, gy, h, evaluate),
                                              strict=True):  # fmt: skip
        want = gx[cols] ** 2 + h * h * (1 - 1 / n**2) / 12 + 3.0 * gy[rows]
        np.testing.assert_allclose(means, want, rtol=1e-12)
        dist = np.maximum(np.abs(rows - 10), np.abs(cols - 10))
        assert dist.max() <= edge
        seen.update(zip(rows.tolist(), cols.tolist(), strict=True))
    edge = CELL_MEAN_LEVELS[-1][0]
    assert len(seen) == (2 * edge + 1) ** 2 - (2 * edge + 1)  # every cell once, column 2 out
    assert all(c != 2 for _, c in seen)


@pytest.mark.parametrize(("height", "cell", "fine"), [(20.0, 1000.0, 24), (150.0, 1000.0, 24),
                                                      (20.0, 200.0, 12)])  # fmt: skip
def test_cell_means_are_the_mean_of_a_fine_grid(table, height, cell, fine):
    """Against the centre values of a grid `fine` times finer, averaged cell by cell: within
    1 % of the largest of the 17 x 17 cells around the stack, where the centre values are
    several per cent off."""
    m = 10
    stack = _stack(height, 0.13, -0.27, cell)
    spacing = cell / fine / 2
    ref = _field(table, Grid.from_bounds(*_grid(cell, m).bounds, cell / fine), spacing,
                 cell_mean=False, **stack)  # fmt: skip
    ref = ref.reshape(2 * m + 1, fine, 2 * m + 1, fine).mean(axis=(1, 3))
    got = _field(table, _grid(cell, m), spacing, **stack)
    centre = _field(table, _grid(cell, m), spacing, cell_mean=False, **stack)
    near = slice(m - 8, m + 9)
    scale = ref[near, near].max()
    assert np.abs(got - ref)[near, near].max() < 0.01 * scale
    assert np.abs(centre - ref)[near, near].max() > 0.02 * scale


@settings(max_examples=8, deadline=None)
@given(fx=st.floats(-0.49, 0.49), fy=st.floats(-0.49, 0.49),
       height=st.sampled_from([20.0, 40.0, 100.0]))  # fmt: skip
def test_a_blocks_mass_does_not_depend_on_the_stack_within_its_cell(table, fx, fy, height):
    """The mass of the 9 x 9 cells around a stack on a 1 km grid: within 1 % wherever the
    stack lies in its cell (0.5 % measured; the block's edges move with the stack, so not
    0). The centre values moved it by up to 3 % (below)."""
    cell = 1000.0
    grid = _grid(cell, 10)
    block = (slice(6, 15), slice(6, 15))
    centred = _field(table, grid, 50.0, **_stack(height, 0.0, 0.0, cell))[block].sum()
    moved = _field(table, grid, 50.0, **_stack(height, fx, fy, cell))[block].sum()
    assert moved == pytest.approx(centred, rel=0.01)


def test_the_centre_values_of_a_stack_in_a_corner_move_a_block_more(table):
    """The same check on the centre values fails for a stack near a cell's corner: what
    the cell means fix."""
    cell = 1000.0
    grid = _grid(cell, 10)
    block = (slice(6, 15), slice(6, 15))
    centred = _field(table, grid, 50.0, cell_mean=False, **_stack(20.0, 0.0, 0.0, cell))
    corner = _field(table, grid, 50.0, cell_mean=False, **_stack(20.0, 0.45, 0.45, cell))
    assert abs(corner[block].sum() / centred[block].sum() - 1) > 0.02


def test_point_sources_annual_takes_the_same_cell_means(table):
    """The direct path (no radial nodes) and the footprints agree near the stack, and the
    weights of several outputs stay linear."""
    cell = 1000.0
    grid = _grid(cell, 6)
    stacks = {k: v * 2 for k, v in _stack(60.0, 0.2, 0.3, cell).items()}
    stacks["x"] = [X0 + 200.0, X0 + 2300.0]
    got = disp.point_sources_annual(table, weights=[[1.0, 2.0], [0.5, 0.0]], grid=grid,
                                    radius=20_000.0, **stacks)  # fmt: skip
    fp = np.zeros((grid.ny, grid.nx))
    for s, (rows, cols, f) in enumerate(
        disp.stack_footprints(table, grid=grid, radius=20_000.0, node_spacing=5.0, **stacks)
    ):
        fp[rows, cols] += (1.0, 0.5)[s] * f
    np.testing.assert_allclose(got[0], fp, rtol=5e-3, atol=1e-3 * fp.max())
    # the second output has the first stack alone, twice
    alone = {k: v[:1] for k, v in stacks.items()}
    one = disp.point_sources_annual(table, weights=[2.0], grid=grid, radius=20_000.0, **alone)
    np.testing.assert_allclose(got[1], one[0], rtol=1e-12, atol=1e-15)
    centre = disp.point_sources_annual(table, weights=[2.0], grid=grid, radius=20_000.0,
                                       cell_mean=False, **alone)  # fmt: skip
    assert not np.allclose(centre, one, rtol=1e-3)


def test_cell_mean_is_a_boolean(table):
    with pytest.raises(InputError, match=r"^cell_mean='yes'; expected True"):
        disp.stack_footprints(table, grid=_grid(1000.0, 3), radius=5000.0, cell_mean="yes",
                              **_stack(50.0, 0.0, 0.0, 1000.0))  # fmt: skip


def test_a_stack_on_a_cell_edge_has_symmetric_bands():
    """Both columns beside a stack on their common edge are its own (distance 0): the bands
    cover 2 edge + 2 columns, symmetric about the stack (no rounding half to even)."""
    h = 200.0
    gx = (np.arange(24) - 11.5) * h  # the stack on the edge between columns 11 and 12
    gy = np.array([0.0])
    cols = set()
    for _rows, c, _ in band_means(gx, gy, h, lambda fx, fy, p: np.zeros((fy.size, fx.size))):
        cols.update(c.tolist())
    edge = CELL_MEAN_LEVELS[-1][0]
    assert sorted(cols) == list(range(11 - edge, 12 + edge + 1))


def test_point_sources_annual_averages_every_band_cell_of_a_stack_on_a_cell_edge(table):
    """A stack on the edge between two columns has bands one column wider on one side
    (both columns beside it are at distance 0): the direct path averaged only 8 columns
    beyond the stack's own cell, leaving the ninth at its centre value. Both paths agree
    on every cell of the bands."""
    cell = 1000.0
    grid = _grid(cell, 12)
    stack = _stack(60.0, 0.5, 0.2, cell)  # x on the edge east of the centre column
    got = disp.point_sources_annual(table, weights=[1.0], grid=grid, radius=30_000.0, **stack)[0]
    fp = _field(table, grid, 5.0, **stack)
    near = (slice(12 - 9, 12 + 10), slice(12 - 9, 12 + 11))
    np.testing.assert_allclose(got[near], fp[near], rtol=5e-3, atol=1e-3 * fp.max())
