""":mod:`trajectoire._kernels.shuffle` against numpy chunk by chunk, and the writer that uses
it (:func:`trajectoire.io.chunks.write_array`) against HDF5's own filters, byte for byte."""

from __future__ import annotations

import itertools
import zlib
from pathlib import Path

import dask.array as dask_array
import h5py
import netCDF4
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trajectoire._kernels.shuffle import (
    _copy_tiles,
    _shuffle_bytes,
    _shuffle_words,
    plain_tiles,
    shuffle_tiles,
    tiles_with_values,
)
from trajectoire._planes import Planes
from trajectoire.io import chunks as chunkio
from trajectoire.io.chunks import io_pool, write_array


def reference_chunks(slab, chunks, fill, skip_nan, shuffled=True):
    """Chunk by chunk as HDF5 sees them: each chunk padded with `fill`, then numpy's shuffle
    (byte k of every element, elements in C order; unless not `shuffled`: the elements'
    bytes one after the other); NaN-only chunks left out."""
    lead, (ty, tx) = tuple(chunks[:-2]), chunks[-2:]
    ny, nx = slab.shape[-2:]
    out = []
    for y0, x0 in itertools.product(range(0, ny, ty), range(0, nx, tx)):
        block = slab[..., y0 : y0 + ty, x0 : x0 + tx]
        if skip_nan and np.isnan(block).all():
            continue
        full = np.full((*lead, ty, tx), fill, dtype=slab.dtype)
        full[tuple(slice(0, n) for n in block.shape)] = block
        size = slab.dtype.itemsize
        laid = full.reshape(-1).view(np.uint8).reshape(-1, size)
        out.append(((y0 // ty, x0 // tx), (laid.T if shuffled else laid).tobytes()))
    return out


def _slab(rng, shape, dtype):
    a = rng.standard_normal(shape).astype(dtype)
    a[rng.random(shape) < 0.5] = np.nan
    rows = rng.random(shape[-2]) < 0.4  # whole NaN rows: NaN-only tiles
    a[..., rows, :] = np.nan
    a[rng.random(shape) < 0.1] = -0.0
    return a


@settings(max_examples=120, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    lead=st.sampled_from([(), (1,), (2,), (1, 3)]),
    ny=st.integers(1, 21),
    nx=st.integers(1, 17),
    ty=st.integers(1, 9),
    tx=st.integers(1, 9),
    dtype=st.sampled_from([np.float32, np.float64]),
    skip_nan=st.booleans(),
    shuffled=st.booleans(),
)
def test_tiles_are_numpy_chunk_by_chunk(seed, lead, ny, nx, ty, tx, dtype, skip_nan, shuffled):
    """Any slab, chunk shape (edge chunks included), type: the kernels give the bytes and the
    set of chunks of the chunk-by-chunk numpy reference, shuffled or not (a variable stored
    without the shuffle filter: each chunk's elements one after the other)."""
    rng = np.random.default_rng(seed)
    slab = _slab(rng, (*lead, ny, nx), dtype)
    chunks = (*lead, ty, tx)
    fill = dtype(-7.25)  # not NaN: the padding's bytes are checked, not only read as NaN
    laid_out = chunkio._shuffled_tiles if shuffled else chunkio._plain_tiles
    tiles, where = laid_out(slab, chunks, fill, skip_nan)
    expected = reference_chunks(slab, chunks, fill, skip_nan, shuffled)
    assert where == [w for w, _ in expected]
    assert [tiles[t].tobytes() for t in range(len(where))] == [b for _, b in expected]


def test_plain_tiles_fills_beyond_the_edge():
    slab = np.arange(6, dtype=np.float32).reshape(1, 2, 3)
    fill = np.array([np.float32(-1.5)]).view(np.uint8)
    out = np.empty((1, 1, 2, 2 * 4), dtype=np.uint8)
    plain_tiles(slab.view(np.uint8), 4, np.array([0]), np.array([1]), 2, 2, fill, out)
    assert out[0].tobytes() == np.array([[2.0, -1.5], [5.0, -1.5]], dtype=np.float32).tobytes()


@pytest.mark.parametrize("shuffle", [True, False])
def test_writer_stores_the_bytes_of_hdf5s_own_filters(tmp_path: Path, shuffle: bool) -> None:
    """Each stored chunk inflates to the bytes HDF5's own filters store for it (netCDF-C
    writing the same values through its filter pipeline), shuffled or not."""
    rng = np.random.default_rng(11)
    data = _slab(rng, (2, 13, 10), np.float32)
    data[0, :5] = 1.25  # repeated values
    ours, theirs = tmp_path / "ours.nc", tmp_path / "theirs.nc"
    for path in (ours, theirs):
        _define(path, data.shape, (1, 4, 4), shuffle=shuffle)
    with h5py.File(ours, "r+") as f, io_pool(1) as pool:
        write_array(f["v"], data, pool)
    with netCDF4.Dataset(theirs, "a") as nc:
        nc["v"][:] = data
    mine, hdf5 = _stored(ours), _stored(theirs)
    assert set(mine) <= set(hdf5)
    assert {k: zlib.decompress(v) for k, v in mine.items()} == {
        k: zlib.decompress(hdf5[k]) for k in mine
    }
    with netCDF4.Dataset(ours) as nc:
        np.testing.assert_array_equal(nc["v"][:].filled(np.nan), data)


def test_tiles_with_values_reads_only_the_slab():
    """A tile is kept for one value that is not NaN, wherever it is; the cells beyond the
    edge (not part of the slab) are never read."""
    slab = np.full((1, 5, 7), np.nan)
    slab[0, 4, 6] = 0.0  # the last cell of the last (edge) tile
    slab[0, 0, 3] = np.inf  # an infinity is a value
    found = tiles_with_values(slab, 3, 3)
    np.testing.assert_array_equal(found, [[False, True, False], [False, False, True]])
    wide = np.full((1, 5, 9), 1.0)
    wide[0, :, :7] = slab[0]
    view = wide[:, :, :7]  # a view: the 1.0 beyond it must not count
    np.testing.assert_array_equal(tiles_with_values(view, 3, 3), found)


def test_shuffle_tiles_fills_beyond_the_edge():
    slab = np.arange(6, dtype=np.float32).reshape(1, 2, 3)
    fill = np.array([np.float32(-1.5)]).view(np.uint8)
    out = np.empty((1, 4, 1, 2, 2), dtype=np.uint8)
    shuffle_tiles(slab.view(np.uint8), 4, np.array([0]), np.array([1]), 2, 2, fill, out)
    chunk = np.array([[2.0, -1.5], [5.0, -1.5]], dtype=np.float32)
    expected = chunk.reshape(-1).view(np.uint8).reshape(-1, 4).T.tobytes()
    assert out[0].tobytes() == expected


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    nl=st.integers(1, 3),
    ny=st.integers(1, 19),
    nx=st.integers(1, 19),
    ty=st.integers(1, 8),
    tx=st.integers(1, 8),
    dtype=st.sampled_from([np.float32, np.float64, np.int32, np.uint64]),
)
def test_word_path_is_the_byte_path(seed, nl, ny, nx, ty, tx, dtype):
    """Elements read whole (4 and 8 bytes) give the bytes of reading them one by one,
    shuffled or not (:func:`plain_tiles`), for any bits (integers: every byte pattern, not
    only those of floats) and every tile, those at the edges included."""
    rng = np.random.default_rng(seed)
    size = np.dtype(dtype).itemsize
    raw = rng.integers(0, 256, size=(nl, ny, nx * size), dtype=np.uint8)
    nty, ntx = -(-ny // ty), -(-nx // tx)
    rows, cols = (np.asarray(i, dtype=np.int64).ravel() for i in np.indices((nty, ntx)))
    fill = rng.integers(0, 256, size=size, dtype=np.uint8)
    word = {4: np.uint32, 8: np.uint64}[size]
    words = np.empty((rows.size, size, nl, ty, tx), dtype=np.uint8)
    bytewise = np.empty_like(words)
    dispatched = np.empty_like(words)
    _shuffle_words(raw.view(word), size, rows, cols, ty, tx, fill, words)
    _shuffle_bytes(raw, size, rows, cols, ty, tx, fill, bytewise)
    shuffle_tiles(raw, size, rows, cols, ty, tx, fill, dispatched)
    np.testing.assert_array_equal(words, bytewise)
    np.testing.assert_array_equal(dispatched, bytewise)
    # unshuffled: elements copied whole (the dispatcher) or byte by byte
    plain = np.empty((rows.size, nl, ty, tx * size), dtype=np.uint8)
    plain_bytes = np.empty_like(plain)
    plain_tiles(raw, size, rows, cols, ty, tx, fill, plain)
    _copy_tiles(raw, rows, cols, ty, tx * size, fill, plain_bytes)
    np.testing.assert_array_equal(plain, plain_bytes)
    # and the shuffled bytes put back in element order
    unshuffled = bytewise.transpose(0, 2, 3, 4, 1).reshape(plain.shape)
    np.testing.assert_array_equal(plain, unshuffled)


def _define(path: Path, shape, chunks, shuffle=True):
    dims = [f"d{i}" for i in range(len(shape))]
    with netCDF4.Dataset(path, "w") as nc:
        for d, n in zip(dims, shape, strict=True):
            nc.createDimension(d, n)
        nc.createVariable(
            "v", "f4", dims, zlib=True, complevel=3, shuffle=shuffle, chunksizes=chunks,
            fill_value=np.float32(np.nan),
        )  # fmt: skip


def _stored(path: Path) -> dict[tuple[int, ...], bytes]:
    found: dict[tuple[int, ...], bytes] = {}
    with h5py.File(path, "r") as f:
        d = f["v"]
        d.id.chunk_iter(lambda i: found.setdefault(tuple(i.chunk_offset), b""))
        return {k: bytes(d.id.read_direct_chunk(k)[1]) for k in found}


def test_shared_planes_are_encoded_once_with_the_same_bytes(tmp_path: Path, monkeypatch):
    """Planes that are views of one array (the constant planes of a year's maps) take the
    chunks encoded for the first: the file holds the bytes of encoding each plane."""
    rng = np.random.default_rng(3)
    shared = _slab(rng, (7, 11), np.float32)
    own = [_slab(rng, (7, 11), np.float32) for _ in range(3)]
    planes = [shared, own[0], shared, own[1], shared, own[2]]
    graph = {("p", i, 0, 0): p[None] for i, p in enumerate(planes)}
    lazy = dask_array.Array(graph, "p", chunks=((1,) * 6, (7,), (11,)), dtype=np.float32)
    dense = np.stack(planes)  # the same values, each plane its own memory
    calls = []
    deflate = chunkio._deflate
    monkeypatch.setattr(chunkio, "_deflate", lambda *a: calls.append(1) or deflate(*a))
    # zlib's streams: the same bytes for the same chunk every time (ISA-L's are not promised
    # to be; one chunk of a map year was seen to differ by a bit, inflating the same)
    monkeypatch.setenv(chunkio.DEFLATE_ENV, "zlib")
    files = {}
    for name, data in [("dense", dense), ("lazy", Planes(lazy))]:
        files[name] = tmp_path / f"{name}.nc"
        _define(files[name], (6, 7, 11), (1, 4, 4))
        calls.clear()
        with h5py.File(files[name], "r+") as f, io_pool(1) as pool:
            write_array(f["v"], data, pool)
        files[name + "_calls"] = len(calls)
    assert _stored(files["dense"]) == _stored(files["lazy"])
    per_plane = [len(reference_chunks(p, (4, 4), np.float32(np.nan), True)) for p in planes]
    assert files["dense_calls"] == sum(per_plane)
    assert files["lazy_calls"] == sum(per_plane) - 2 * per_plane[0]  # the shared one once
    with netCDF4.Dataset(files["lazy"]) as nc:
        np.testing.assert_array_equal(nc["v"][:].filled(np.nan), dense)


class FreshViews:
    """Slabs that are views of arrays made afresh for each read, each freed after use: their
    memory is reused at the same addresses with other values."""

    def __init__(self, planes: list[np.ndarray]) -> None:
        self.planes = planes
        self.shape = (len(planes), *planes[0].shape)

    def __getitem__(self, key):
        fresh = np.array(self.planes[key[0].start])  # owns its memory; freed after the slab
        return fresh[None]


def test_memory_freed_and_reused_is_not_taken_for_a_shared_plane(tmp_path: Path):
    rng = np.random.default_rng(5)
    planes = [_slab(rng, (64, 64), np.float32) for _ in range(12)]
    path = tmp_path / "fresh.nc"
    _define(path, (12, 64, 64), (1, 16, 16))
    with h5py.File(path, "r+") as f, io_pool(1) as pool:
        write_array(f["v"], FreshViews(planes), pool)
    with netCDF4.Dataset(path) as nc:
        np.testing.assert_array_equal(nc["v"][:].filled(np.nan), np.stack(planes))


def test_only_views_of_a_whole_array_are_keyed_for_sharing():
    """A slab of a larger array is never kept for sharing (its chunks would hold the whole
    variable's); a view of all of an array is, while that array lives."""
    plane = np.zeros((4, 5), dtype=np.float32)
    stack = np.zeros((3, 4, 5), dtype=np.float32)
    assert chunkio._memory_key(plane[None]) is not None
    assert chunkio._memory_key(plane[None]) == chunkio._memory_key(plane[None][:, :, :])
    assert chunkio._memory_key(stack[1:2]) is None  # a part of a larger array
    assert chunkio._memory_key(stack[:1]) is None
    assert chunkio._memory_key(plane) is None  # owns its memory
    assert chunkio._memory_key(np.broadcast_to(plane, (2, 4, 5))) is None
