"""Direct chunk I/O: what netCDF-C, h5py and GDAL read back equals what was written."""

from __future__ import annotations

import zlib as stdlib_zlib
from pathlib import Path

import h5py
import netCDF4
import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from trajectoire.errors import ConfigError
from trajectoire.grid import Grid
from trajectoire.io import chunks as chunkio
from trajectoire.io import tile_size, write_netcdf
from trajectoire.io.chunks import chunk_filters, copy_chunks, deflate_level, io_pool, write_array


def _define(path: Path, shape, chunks, *, dtype="f4", zlib=True, shuffle=True, level=3):
    dims = [f"d{i}" for i in range(len(shape))]
    with netCDF4.Dataset(path, "w") as nc:
        for d, n in zip(dims, shape, strict=True):
            nc.createDimension(d, n)
        nc.createVariable(
            "v",
            dtype,
            dims,
            zlib=zlib,
            complevel=level,
            shuffle=shuffle,
            chunksizes=chunks,
            fill_value=np.dtype(dtype).type(np.nan),
        )


def _field(rng, shape, dtype):
    data = rng.normal(size=shape).astype(dtype)
    data[..., : shape[-2] // 2, :] = np.nan  # whole NaN tiles, as beyond the buffer
    data[rng.random(shape) < 0.1] = np.nan
    data[rng.random(shape) < 0.2] = 0.0
    return data


@settings(deadline=None, max_examples=25)
@given(
    seed=st.integers(0, 2**32 - 1),
    lead=st.integers(1, 3),
    ny=st.integers(1, 23),
    nx=st.integers(1, 19),
    ty=st.integers(1, 8),
    tx=st.integers(1, 8),
    dtype=st.sampled_from(["f4", "f8"]),
    filters=st.sampled_from([(True, True), (False, False), (True, False)]),
)
def test_write_array_round_trips(tmp_path_factory, seed, lead, ny, nx, ty, tx, dtype, filters):
    """Any shape, chunking and filter pipeline: netCDF-C and h5py read the values back."""
    path = tmp_path_factory.mktemp("w") / "a.nc"
    rng = np.random.default_rng(seed)
    shape, chunks = (lead, ny, nx), (1, min(ty, ny), min(tx, nx))
    data = _field(rng, shape, dtype)
    zlib, shuffle = filters
    _define(path, shape, chunks, dtype=dtype, zlib=zlib, shuffle=shuffle)
    with h5py.File(path, "r+") as f, io_pool(2) as pool:
        written = write_array(f["v"], data, pool)
        n_chunks = f["v"].id.get_num_chunks()
    assert written == n_chunks
    with netCDF4.Dataset(path) as nc:
        back = nc["v"][:].filled(np.nan)
    np.testing.assert_array_equal(back, data)
    with h5py.File(path, "r") as f:
        np.testing.assert_array_equal(f["v"][:], data)


needs_isal = pytest.mark.skipif(chunkio._isal_zlib is None, reason="python-isal not installed")


@pytest.mark.parametrize("encoder", [pytest.param("isal", marks=needs_isal), "zlib"])
@pytest.mark.parametrize("level", [1, 3, 6])
def test_each_encoder_reads_back_in_netcdf_and_h5py(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, encoder: str, level: int
) -> None:
    """Both encoders give chunks that netCDF-C and h5py (zlib) decode to the same values;
    ISA-L serves levels 1-3 only (its streams differ from zlib's), zlib the others."""
    monkeypatch.setenv(chunkio.DEFLATE_ENV, encoder)
    data = _field(np.random.default_rng(level), (2, 40, 36), "f4")
    path = tmp_path / "a.nc"
    _define(path, data.shape, (1, 16, 16), level=level)
    with h5py.File(path, "r+") as f, io_pool(2) as pool:
        write_array(f["v"], data, pool)
    with netCDF4.Dataset(path) as nc:
        np.testing.assert_array_equal(nc["v"][:].filled(np.nan), data)
    with h5py.File(path, "r") as f:
        np.testing.assert_array_equal(f["v"][:], data)
        stored = f["v"].id.read_direct_chunk((1, 16, 0))[1]
    raw = chunkio._shuffle(np.ascontiguousarray(data[1:2, 16:32, 0:16]))
    assert stdlib_zlib.decompress(stored) == raw
    assert (stored == stdlib_zlib.compress(raw, level)) == (encoder == "zlib" or level > 3)


def test_deflate_encoder_default_and_bad_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(chunkio.DEFLATE_ENV, raising=False)
    assert chunkio.deflate_encoder() == ("isal" if chunkio._isal_zlib is not None else "zlib")
    monkeypatch.setenv(chunkio.DEFLATE_ENV, " ZLIB ")
    assert chunkio.deflate_encoder() == "zlib"
    monkeypatch.setenv(chunkio.DEFLATE_ENV, "gzip")
    with pytest.raises(ConfigError, match=r"TRAJECTOIRE_DEFLATE='gzip'.*\['isal', 'zlib'\]"):
        chunkio.deflate_encoder()
    monkeypatch.setattr(chunkio, "_isal_zlib", None)
    monkeypatch.delenv(chunkio.DEFLATE_ENV)
    assert chunkio.deflate_encoder() == "zlib"
    monkeypatch.setenv(chunkio.DEFLATE_ENV, "isal")
    with pytest.raises(ConfigError, match="python-isal is not installed"):
        chunkio.deflate_encoder()


def test_nan_chunks_are_not_stored(tmp_path: Path) -> None:
    path = tmp_path / "a.nc"
    data = np.full((2, 8, 8), np.nan, dtype="f4")
    data[0, 0, 0] = 1.0  # one chunk of 16 holds data
    data[1, 5, 7] = 0.0  # and one of the second plane
    _define(path, data.shape, (1, 4, 4))
    with h5py.File(path, "r+") as f, io_pool(1) as pool:
        assert write_array(f["v"], data, pool) == 2
        assert f["v"].id.get_num_chunks() == 2
    with xr.open_dataset(path) as ds:
        np.testing.assert_array_equal(ds["v"].values, data)


def test_deflate_level_reads_the_pipeline(tmp_path: Path) -> None:
    cases = (
        (True, True, 5, (5, True)),
        (False, False, None, None),
        (True, False, None, (5, False)),
        (False, True, None, None),  # shuffle alone: not encoded here
    )
    for zlib, shuffle, expected, filters in cases:
        path = tmp_path / f"{zlib}{shuffle}.nc"
        _define(path, (4, 4), (2, 2), zlib=zlib, shuffle=shuffle, level=5)
        with h5py.File(path, "r") as f:
            assert deflate_level(f["v"]) == expected
            assert chunk_filters(f["v"]) == filters


@pytest.mark.parametrize("same_filters", [True, False])
def test_copy_chunks_places_a_year(tmp_path: Path, same_filters: bool) -> None:
    """Raw copy (same encoding) and value copy (other encoding) give the same values."""
    rng = np.random.default_rng(3)
    parts = []
    for k in range(3):
        p = tmp_path / f"part{k}.nc"
        _define(p, (1, 2, 9, 7), (1, 1, 4, 3))
        data = _field(rng, (1, 2, 9, 7), "f4")
        with h5py.File(p, "r+") as f, io_pool() as pool:
            write_array(f["v"], data, pool)
        parts.append((p, data))
    out = tmp_path / "out.nc"
    _define(out, (3, 2, 9, 7), (1, 1, 4, 3), level=3 if same_filters else 1)
    with h5py.File(out, "r+") as dst:
        for k, (p, _) in enumerate(parts):
            with h5py.File(p, "r") as src:
                n = copy_chunks(src["v"], dst["v"], (k, 0, 0, 0))
                assert (n > 0) == same_filters
    with netCDF4.Dataset(out) as nc:
        back = nc["v"][:].filled(np.nan)
    np.testing.assert_array_equal(back, np.concatenate([d for _, d in parts]))


@pytest.mark.parametrize("shuffle", [True, False])
def test_copy_chunks_drops_netcdf_nan_chunks(tmp_path: Path, shuffle: bool) -> None:
    """Chunks of NaN written by netCDF-C are dropped on request, values unchanged."""
    src_path, out = tmp_path / "src.nc", tmp_path / "out.nc"
    data = np.full((1, 8, 8), np.nan, dtype="f4")
    data[0, :4, :4] = 2.5
    _define(src_path, data.shape, (1, 4, 4), shuffle=shuffle)
    with netCDF4.Dataset(src_path, "a") as nc:
        nc["v"][:] = data
    _define(out, data.shape, (1, 4, 4), shuffle=shuffle)
    with h5py.File(src_path, "r") as src, h5py.File(out, "r+") as dst:
        assert src["v"].id.get_num_chunks() == 4
        assert copy_chunks(src["v"], dst["v"], (0, 0, 0), drop_nan_chunks=True) == 1
    with netCDF4.Dataset(out) as nc:
        np.testing.assert_array_equal(nc["v"][:].filled(np.nan), data)


def test_copy_chunks_rejects_bad_offset(tmp_path: Path) -> None:
    p = tmp_path / "a.nc"
    _define(p, (2, 4, 4), (1, 2, 2))
    with h5py.File(p, "r+") as f, pytest.raises(ValueError, match="offset"):
        copy_chunks(f["v"], f["v"], (0, 0))


def test_tile_size_evens_tiles() -> None:
    for n in (1, 5, 128, 129, 614, 1111, 2222, 10_000):
        t = tile_size(n)
        pieces = -(-n // t)
        assert t <= 128 and pieces * t - n < pieces  # less than one cell of padding per tile


def test_write_netcdf_output_reads_in_gdal(tmp_path: Path) -> None:
    """A map with NaN tiles (not stored) reads in GDAL with NaN there and the right values."""
    rasterio = pytest.importorskip("rasterio")
    g = Grid.from_bounds(700_000, 7_000_000, 730_000, 7_020_000, 100)
    vals = np.arange(g.ny * g.nx, dtype="f4").reshape(g.shape)
    vals[: g.ny // 2] = np.nan
    ds = xr.Dataset(coords={"year": [2000], **g.coords()})
    ds["concentration"] = (("year", "y", "x"), vals[None], {"units": "ug m-3"})
    ds.attrs["crs"] = "EPSG:2154"
    path = write_netcdf(ds, tmp_path / "a.nc")
    with h5py.File(path, "r") as f:
        stored = f["concentration"].id.get_num_chunks()
        chunks = f["concentration"].chunks
    total = -(-g.ny // chunks[1]) * -(-g.nx // chunks[2])
    assert 0 < stored < total
    with rasterio.open(f"netcdf:{path}:concentration") as src:
        band = src.read(1)
        assert src.crs.to_epsg() == 2154
    np.testing.assert_array_equal(band, vals)


def test_write_netcdf_reopens_its_file_while_another_process_holds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process that has the temporary file open (a child forked at that moment, as Dask's
    nannies spawning their workers were in CI) holds HDF5's lock on it; the writer's own
    reopen of its private file does not wait for that lock, and the output is whole."""
    import subprocess
    import sys

    from trajectoire.io import netcdf as nc_module

    g = Grid.from_bounds(700_000, 7_000_000, 705_000, 7_004_000, 100)
    vals = np.arange(g.ny * g.nx, dtype="f4").reshape(g.shape)
    ds = xr.Dataset(coords={"year": [2000], **g.coords()})
    ds["concentration"] = (("year", "y", "x"), vals[None], {"units": "ug m-3"})
    ds.attrs["crs"] = "EPSG:2154"
    holders: list[subprocess.Popen[str]] = []
    define = nc_module._define_variables

    def define_then_hold(path: Path, *args: object) -> None:
        define(path, *args)  # type: ignore[arg-type]
        holder = subprocess.Popen(
            [sys.executable, "-c", _HOLD, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        holders.append(holder)
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"

    monkeypatch.setattr(nc_module, "_define_variables", define_then_hold)
    try:
        path = write_netcdf(ds, tmp_path / "held.nc")
    finally:
        for holder in holders:
            holder.communicate(timeout=60)  # closes its stdin: it closes the file and exits
    assert len(holders) == 1
    with xr.open_dataset(path) as back:
        np.testing.assert_array_equal(back["concentration"].values[0], vals)


_HOLD = """import sys, h5py
f = h5py.File(sys.argv[1], "r")  # a shared HDF5 lock, held until stdin closes
print("open", flush=True)
sys.stdin.read()
f.close()
"""
