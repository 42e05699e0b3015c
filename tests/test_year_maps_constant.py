"""The year's constant planes not held (issue 18: a map year under 4 GB at 100 m).

:class:`~trajectoire.io.outputs.YearMaps` keeps only the emission and contribution planes
that differ from the constant plane (0 inside the mask, NaN beyond), bit for bit. Checked
against the dense arrays it replaces, computed here the way the previous code did (one
array, blanked by a multiplication, NO2's emission NaN, the stacks added with
``numpy.add.at``): the same bits, for random planes holding zeros, -0, NaN and stacks in
sectors that emit nothing on the grid. The writer's path for such arrays (dask, one chunk
per plane) gives the same file as a numpy array, and the particle-number split reorders
them lazily with the same values. The planes held keep only their cells inside the mask
when every cell beyond is the plain NaN, else the whole plane (a NaN of other bits there),
and are written whole again bit for bit; no whole-grid emission plane is held (the planes
are given one at a time, in one reused plane).
"""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from trajectoire.io.netcdf import write_netcdf
from trajectoire.io.outputs import YearMaps, split_number_species

SHAPE = (7, 9)


def _bits(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float32).view(np.uint32)


#: a NaN of other bits than ``float32("nan")`` (sign and payload): kept through blanking
ODD_NAN = np.array([0xFFC00001], dtype=np.uint32).view(np.float32)[0]


def _planes(rng: np.random.Generator, n_s: int, kinds: list[int]) -> np.ndarray:
    """``(sector, y, x)`` float32 planes: 0 random, 1 all +0, 2 all -0, 3 +0 with a NaN,
    4 zero inside a random mask's complement only (non-zero somewhere), 5 random with a
    NaN of odd bits in a random cell (the plane is then held whole if it lies beyond the
    mask)."""
    out = rng.random((n_s, *SHAPE)).astype(np.float32)
    for s, k in enumerate(kinds[:n_s]):
        if k == 1:
            out[s] = 0.0
        elif k == 2:
            out[s] = -0.0
        elif k == 3:
            out[s] = 0.0
            out[s, 1, 2] = np.nan
        elif k == 4:
            out[s] = 0.0
            out[s, 0, 0] = 5.0
        elif k == 5:
            out[s, rng.integers(SHAPE[0]), rng.integers(SHAPE[1])] = ODD_NAN
    return out


@settings(max_examples=40, deadline=None)
@given(
    kinds=st.lists(st.integers(0, 5), min_size=6, max_size=6),
    seed=st.integers(0, 2**16),
    stack_sectors=st.lists(st.integers(0, 2), min_size=0, max_size=4),
    kept=st.sampled_from(["none", "read", "told"]),
)
def test_emission_as_written_is_the_dense_array_bit_for_bit(kinds, seed, stack_sectors, kept):
    """Given to finish_emission, or the first pollutant kept before it (keep_emission: its
    planes read, or told which hold +0 in every cell and not read): the same bits."""
    rng = np.random.default_rng(seed)
    n_s, n_disp, n_p = 3, 2, 3  # the last pollutant is NO2: not emitted
    mask = rng.random(SHAPE) < 0.5
    mask[0, 0] = False  # kind 4: its only non-zero cell is beyond the mask
    emission = [_planes(rng, n_s, kinds[3 * ip :]) for ip in range(n_disp)]
    rows = rng.integers(0, SHAPE[0], len(stack_sectors))
    cols = rng.integers(0, SHAPE[1], len(stack_sectors))
    q = rng.random((n_disp, len(stack_sectors))) * 10
    q[rng.random(q.shape) < 0.4] = 0.0  # stacks that emit nothing of a pollutant
    q[rng.random(q.shape) < 0.2] = -0.0
    maps = YearMaps(n_s, n_p, mask, with_contribution=False)
    given = [e.copy() for e in emission]
    # plane by plane, each in one reused plane as trajectory.basis.sector_emissions gives them
    planes = [_reused(e) for e in given]
    if kept != "none":
        if kept == "told":
            planes[0] = ((p, bool((_bits(p) == 0).all())) for p in planes[0])
        maps.keep_emission(0, rows, cols, stack_sectors, q[0], planes[0])
        planes[0] = None
    maps.finish_emission(n_disp, rows, cols, stack_sectors, q, planes)
    for ip in range(n_disp):  # the planes given are not modified
        assert np.array_equal(_bits(given[ip]), _bits(emission[ip]))
    got = np.asarray(maps.written_emission())
    # the dense array of before
    keep = np.where(mask, np.float32(1.0), np.float32(np.nan))
    dense = np.empty((n_s, n_p, *SHAPE), dtype=np.float32)
    for ip in range(n_disp):
        dense[:, ip] = emission[ip]
    for s, ip in np.ndindex(n_s, n_disp):
        # NaN x NaN gives either NaN, depending on numpy's loop (its vector body or tail):
        # blanked plane by plane, as YearMaps does (and did) it
        dense[s, ip] *= keep
    dense[:, n_disp:] = np.nan
    on = mask[rows, cols]
    where = (np.asarray(stack_sectors, dtype=int)[on], rows[on], cols[on])
    for ip in range(n_disp):
        np.add.at(dense[:, ip], where, q[ip][on].astype(np.float32))
    assert got.shape == (1, n_s, n_p, *SHAPE)
    assert np.array_equal(_bits(got[0]), _bits(dense))
    _check_held(maps._written, dense, mask)


def _reused(planes: np.ndarray):
    """`planes` one at a time in one reused plane (valid until the next is asked for)."""
    scratch = np.empty(planes.shape[1:], dtype=np.float32)
    for plane in planes:
        scratch[...] = plane
        yield scratch


def _check_held(held: dict, dense: np.ndarray, mask: np.ndarray) -> None:
    """Each plane held is its cells inside the mask when every cell beyond is the plain
    NaN, else the whole plane; the whole-grid emission planes are released."""
    plain = _bits(np.float32(np.nan))
    for (s, ip), plane in held.items():
        beyond = _bits(dense[s, ip])[~mask]
        if (beyond == plain).all():
            assert plane.shape == (int(mask.sum()),)
            assert np.array_equal(_bits(plane), _bits(dense[s, ip])[mask])
        else:
            assert plane.shape == SHAPE and plane.base is None


def test_planes_that_emit_nothing_are_not_held():
    mask = np.zeros(SHAPE, dtype=bool)
    mask[2:5, 3:8] = True
    maps = YearMaps(3, 2, mask, with_contribution=True)
    e = np.zeros((3, *SHAPE), dtype=np.float32)
    e[1, 3, 4] = 2.0
    # -e: sectors 0 and 2 hold -0, not +0: held
    rows, cols, q = np.array([3, 3]), np.array([5, 6]), np.array([[1.0, -0.0], [-0.0, 0.0]])
    maps.finish_emission(2, rows, cols, [2, 0], q, [e, -e])
    # (0, 0): +0 with a stack adding -0, not held; (2, 0): +0 with a stack of 1 in the mask
    assert sorted(maps._written) == [(0, 1), (1, 0), (1, 1), (2, 0), (2, 1)]
    by_sector = np.zeros((3, *SHAPE))
    by_sector[0] = -0.0  # -0 inside the mask: not the constant plane, held
    by_sector[2, 0, 0] = 1.0  # non-zero beyond the mask only: the constant plane once masked
    maps.set_contribution(1, by_sector)
    assert sorted(maps._contribution) == [(0, 1)]
    assert maps.contribution is not None
    zero = np.where(mask, np.float32(0.0), np.float32(np.nan))
    for s, ip in [(1, 1), (2, 1), (0, 0), (1, 0), (2, 0)]:  # never set: the constant plane
        assert np.array_equal(_bits(maps.contribution[0, s, ip]), _bits(zero))
    assert np.signbit(maps.contribution[0, 0, 1][mask]).all()


def test_contribution_as_written_is_the_masked_planes_bit_for_bit():
    rng = np.random.default_rng(11)
    mask = rng.random(SHAPE) < 0.4
    maps = YearMaps(4, 2, mask, with_contribution=True)
    planes = rng.random((4, 2, *SHAPE))
    planes[1, 0] = 0.0
    planes[3, 1] = 0.0
    planes[2, 1, 0, 0] = np.inf
    for ip in range(2):
        maps.set_contribution(ip, planes[:, ip])
    keep = np.where(mask, np.float32(1.0), np.float32(np.nan))
    expected = np.empty((4, 2, *SHAPE), dtype=np.float32)
    for ip in range(2):
        np.multiply(planes[:, ip], keep, out=expected[:, ip], casting="same_kind")
    assert len(maps._contribution) == 6
    got = maps.written_contribution()
    assert isinstance(got, da.Array)
    assert np.array_equal(_bits(np.asarray(got)[0]), _bits(expected))


def test_contribution_with_odd_nan_is_written_bit_for_bit():
    rng = np.random.default_rng(5)
    mask = rng.random(SHAPE) < 0.5
    maps = YearMaps(SHAPE[0] * SHAPE[1], 1, mask, with_contribution=True)
    planes = rng.random((SHAPE[0] * SHAPE[1], *SHAPE)).astype(np.float32)
    for s in range(len(planes)):  # an odd NaN in every cell, in turn
        planes[s].flat[s] = ODD_NAN
    maps.set_contribution(0, planes)
    keep = np.where(mask, np.float32(1.0), np.float32(np.nan))
    expected = np.empty_like(planes)
    for s in range(len(planes)):
        np.multiply(planes[s], keep, out=expected[s])
    _check_held(maps._contribution, expected[:, None], mask)
    got = np.asarray(maps.written_contribution())[0, :, 0]
    assert np.array_equal(_bits(got), _bits(expected))


def test_plane_with_odd_nan_beyond_the_mask_is_held_whole():
    mask = np.zeros(SHAPE, dtype=bool)
    mask[2:5, 3:8] = True
    maps = YearMaps(1, 1, mask, with_contribution=True)
    masked = np.where(mask, np.float32(2.0), np.float32(np.nan))
    masked[0, 0] = ODD_NAN
    held: dict = {}
    maps._hold(held, (0, 0), masked.copy())
    assert held[0, 0].shape == SHAPE
    assert np.array_equal(_bits(held[0, 0]), _bits(masked))
    masked[0, 0] = np.nan
    maps._hold(held, (0, 0), masked.copy())
    assert np.array_equal(_bits(held[0, 0]), _bits(masked[mask]))


def test_no_whole_grid_emission_is_held():
    mask = np.ones(SHAPE, dtype=bool)
    with pytest.raises(RuntimeError, match="before finish_emission"):
        YearMaps(2, 3, mask, with_contribution=False).written_emission()
    maps = _written_maps()
    assert not hasattr(maps, "emission_planes")
    assert {p.ndim for p in maps._written.values()} == {1}


def _maps_dataset(data) -> xr.Dataset:
    dims = ("year", "sector", "pollutant", "y", "x")
    coords = {
        "year": [2020],
        "sector": ["a", "b"],
        "pollutant": ["NOx", "UFP", "PM10"],
        "y": 6_900_000.0 + 100.0 * np.arange(SHAPE[0])[::-1],
        "x": 650_000.0 + 100.0 * np.arange(SHAPE[1]),
    }
    ds = xr.Dataset({"emission": (dims, data, {"units": "t yr-1"})}, coords=coords)
    ds.attrs["crs"] = "EPSG:2154"
    return ds


def _written_maps() -> YearMaps:
    rng = np.random.default_rng(4)
    mask = rng.random(SHAPE) < 0.5
    maps = YearMaps(2, 3, mask, with_contribution=False)
    e = rng.random((2, *SHAPE)).astype(np.float32)
    e[1] = 0.0
    maps.finish_emission(
        2, np.zeros(0, int), np.zeros(0, int), [], np.zeros((2, 0)), [e, e[::-1].copy()]
    )
    return maps


def test_written_file_is_that_of_the_dense_array(tmp_path):
    maps = _written_maps()
    lazy = maps.written_emission()
    dense = np.asarray(lazy)
    a = write_netcdf(_maps_dataset(lazy), tmp_path / "lazy.nc")
    b = write_netcdf(_maps_dataset(dense), tmp_path / "dense.nc")
    with xr.open_dataset(a) as x, xr.open_dataset(b) as y:
        assert np.array_equal(_bits(x["emission"].values), _bits(y["emission"].values))
        assert np.array_equal(_bits(x["emission"].values), _bits(dense))


def test_number_split_reorders_the_planes_lazily():
    lazy = _written_maps().written_emission()
    expected = split_number_species(_maps_dataset(np.asarray(lazy)), ["UFP"])
    got = split_number_species(_maps_dataset(lazy), ["UFP"], in_place=True)
    assert isinstance(got["emission"].data, da.Array)
    assert set(got["emission"].chunks[2]) == {1}  # still one chunk per plane: written direct
    xr.testing.assert_identical(got.compute(), expected)


def test_writer_reads_each_plane_from_the_graph_bit_for_bit():
    """The writer computes a one-plane slab from the array's graph (culled, run by
    ``get_sync``), other keys by slicing: both give the bits ``compute`` gives, for the
    planes as held and reordered lazily by the number split."""
    from trajectoire._planes import Planes as _Planes

    lazy = _written_maps().written_emission()
    reordered = split_number_species(_maps_dataset(lazy), ["UFP"], in_place=True)["emission"]
    for data in (lazy, reordered.data):
        planes = _Planes(data)
        for s in range(data.shape[1]):
            for ip in range(data.shape[2]):
                key = (slice(0, 1), slice(s, s + 1), slice(ip, ip + 1))
                assert planes._block(key) is not None
                want = np.asarray(data[key].compute(scheduler="synchronous"))
                got = planes[key]
                assert got.shape == want.shape == (1, 1, 1, *SHAPE)
                assert np.array_equal(_bits(got), _bits(want))
        for key in [  # not one whole plane: sliced and computed
            (slice(0, 1), slice(0, 2), slice(1, 2)),
            (slice(0, 1), slice(1, 2), slice(0, 1), slice(0, 3)),
            (slice(0, 1), slice(0, 1)),
        ]:
            assert planes._block(key) is None
            want = np.asarray(data[key].compute(scheduler="synchronous"))
            assert np.array_equal(_bits(planes[key]), _bits(want))


def test_an_emission_plane_non_zero_beyond_the_mask_only_is_the_constant_plane():
    """Once blanked, a plane of +0 inside the mask (whatever finite values lie beyond) is
    the constant plane: not held, written as 0 inside and NaN beyond."""
    mask = np.zeros(SHAPE, dtype=bool)
    mask[2:5, 3:8] = True
    e = np.zeros((2, *SHAPE), dtype=np.float32)
    e[:, 0, 0] = 7.0  # beyond the mask
    e[1, 3, 4] = -0.0  # inside: -0 is not +0, held
    maps = YearMaps(2, 1, mask, with_contribution=False)
    maps.finish_emission(1, np.array([0]), np.array([1]), [0], np.array([[3.0]]), [e])
    assert sorted(maps._written) == [(1, 0)]
    got = np.asarray(maps.written_emission())[0, :, 0]
    assert np.array_equal(_bits(got[0][mask]), np.zeros(int(mask.sum()), np.uint32))
    assert np.isnan(got[:, ~mask]).all()
    assert np.signbit(got[1, 3, 4]) and got[1, 3, 4] == 0.0


def test_planes_told_plus_zero_are_not_read_and_take_their_stacks():
    """keep_emission's ``plus_zero``: a plane said to hold +0 everywhere is not read (a NaN
    plane given in its place changes nothing) and gets its stacks as a +0 plane does."""
    mask = np.zeros(SHAPE, dtype=bool)
    mask[1:5, 2:7] = True
    planes = np.zeros((3, *SHAPE), dtype=np.float32)
    planes[1] = np.arange(planes[1].size, dtype=np.float32).reshape(SHAPE)
    rows, cols, sectors = np.array([2, 3, 0]), np.array([3, 3, 0]), [0, 2, 0]
    q = np.array([[2.5, 0.0, 7.0]])  # sector 0: a stack inside the mask, one beyond
    dense = YearMaps(3, 2, mask, with_contribution=False)
    dense.finish_emission(1, rows, cols, sectors, q, [planes])
    kept = YearMaps(3, 2, mask, with_contribution=False)
    unread = planes.copy()
    unread[[0, 2]] = np.nan  # not read: told +0
    told = zip(unread, [True, False, True], strict=True)
    kept.keep_emission(0, rows, cols, sectors, q[0], told)
    kept.finish_emission(1, rows, cols, sectors, q, [None])
    assert np.array_equal(_bits(kept.written_emission()), _bits(dense.written_emission()))
    assert (0, 0) in kept._written and (2, 0) not in kept._written  # the stack's sector held


def test_a_pollutant_kept_beyond_the_emitted_ones_is_written_nan():
    """finish_emission closes the emission: planes kept before it for a pollutant it says
    is not emitted (NO2's place) are not written, that pollutant is NaN."""
    mask = np.ones(SHAPE, dtype=bool)
    none = np.zeros(0, dtype=int)
    maps = YearMaps(1, 2, mask, with_contribution=False)
    maps.keep_emission(1, none, none, [], np.zeros(0), [np.ones(SHAPE, dtype=np.float32)])
    maps.finish_emission(1, none, none, [], np.zeros((1, 0)), [[np.ones(SHAPE, np.float32)]])
    got = np.asarray(maps.written_emission())
    assert (got[0, 0, 0] == 1.0).all() and np.isnan(got[0, 0, 1]).all()
