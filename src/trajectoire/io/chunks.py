"""Direct chunk I/O for the large gridded variables of NetCDF-4 (HDF5) outputs.

netCDF-C compresses the chunks of a variable one after the other, on one core, and writes
every chunk, even those that hold only the fill value. The outputs of a run are mostly such
chunks: the cells beyond the territories' buffer are NaN (``[output] mask_beyond_buffer``)
and cover about 80 % of the sample's bounding box. This module writes the chunks of a
variable that netCDF-C has *defined* (dims, attributes, chunk shape, ``shuffle`` and
``zlib`` filters, ``_FillValue``) itself, through HDF5's direct chunk write (h5py):

* chunks that hold only NaN are not written at all; HDF5 returns the fill value (NaN) for
  them, to netCDF-C, GDAL, h5py and xarray alike;
* the other chunks are byte-shuffled (where the variable has the ``shuffle`` filter) and
  deflated in a thread pool (the encoders release the GIL), exactly as HDF5's ``shuffle``
  and ``deflate`` filters would, so any HDF5 reader decodes them. At levels 1-3 the
  deflate stream is ISA-L's (python-isal) where it is installed: a standard zlib stream,
  3.9 times faster to make than zlib's level 3 on the sample's tiles, 4 % larger
  (``benchmarks/bench_write.py --levels``);
  ``TRAJECTOIRE_DEFLATE=zlib`` asks for zlib's own (:func:`deflate_encoder`);
* :func:`copy_chunks` moves compressed chunks from one file to another without decoding
  them: a run's per-year part files are assembled into the output this way, so each chunk
  is compressed once.

References
----------
The HDF Group. HDF5 User's Guide, "Filters" (shuffle, deflate) and the direct chunk write
function ``H5Dwrite_chunk``. https://docs.hdfgroup.org/hdf5/develop/

P. Deutsch, J-L. Gailly (1996). ZLIB Compressed Data Format Specification version 3.3,
RFC 1950, and P. Deutsch (1996), DEFLATE Compressed Data Format Specification version 1.3,
RFC 1951: any conforming encoder's stream is decoded by HDF5's deflate filter (zlib).

Intel Intelligent Storage Acceleration Library (ISA-L), ``igzip``, and its Python bindings
python-isal (``isal.isal_zlib``). https://github.com/pycompression/python-isal
"""

from __future__ import annotations

import itertools
import os
import weakref
import zlib
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import numpy as np

from trajectoire._validate import env_threads
from trajectoire.errors import ConfigError

_isal_zlib: Any
try:  # ISA-L's deflate: optional, zlib's is used without it
    from isal import isal_zlib as _isal_zlib
except ImportError:  # pragma: no cover - python-isal has wheels for the usual platforms
    _isal_zlib = None

__all__ = [
    "DEFLATE_ENV",
    "chunk_filters",
    "copy_chunks",
    "deflate_encoder",
    "deflate_level",
    "io_pool",
    "io_threads",
    "verify_chunks",
    "write_array",
]

_H5Z_DEFLATE = 1
_H5Z_SHUFFLE = 2
#: A compressed chunk at most this long may be all fill value: decoded to check.
_SMALL_CHUNK = 4096


#: Environment variable: the threads that compress the output chunks.
IO_THREADS_ENV = "TRAJECTOIRE_IO_THREADS"


def io_threads() -> int:
    """Threads that compress chunks: ``TRAJECTOIRE_IO_THREADS`` or the usable cores (max 8).

    Raises
    ------
    trajectoire.ConfigError
        The variable is set but is not an integer >= 1.
    """
    value = env_threads(
        IO_THREADS_ENV, "threads that compress the output chunks", "the usable cores (at most 8)"
    )
    if value is not None:
        return value
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        cores = os.cpu_count() or 1
    return max(1, min(8, cores))


#: Environment variable: the deflate encoder of the chunks, ``isal`` or ``zlib``.
DEFLATE_ENV = "TRAJECTOIRE_DEFLATE"
_ENCODERS = ("isal", "zlib")


def deflate_encoder() -> str:
    """The encoder :func:`write_array` deflates chunks with: ``"isal"`` or ``"zlib"``.

    ``TRAJECTOIRE_DEFLATE`` when set, else ``"isal"`` where python-isal is installed, else
    ``"zlib"``. Both make standard zlib streams that every HDF5 reader decodes; the values
    read back are the same, the compressed bytes differ. ISA-L serves levels 1-3 (with its
    level 1: 3.9 times faster than zlib's level 3 on the sample's tiles, streams 4 %
    larger); level 0 and levels 4-9 always use zlib.

    Raises
    ------
    ConfigError
        The variable holds another value, or asks for ``isal`` where it is not installed.
    """
    raw = os.environ.get(DEFLATE_ENV, "").strip().lower()
    if not raw:
        return "isal" if _isal_zlib is not None else "zlib"
    if raw not in _ENCODERS:
        raise ConfigError(
            f"environment variable {DEFLATE_ENV}={raw!r}: expected one of {list(_ENCODERS)} "
            "(the deflate encoder of the output chunks); unset it for the fastest available."
        )
    if raw == "isal" and _isal_zlib is None:
        raise ConfigError(
            f"environment variable {DEFLATE_ENV}=isal, but python-isal is not installed: "
            "pip install isal, or unset the variable (zlib is then used)."
        )
    return raw


def _deflate(data: bytes | memoryview, level: int, encoder: str) -> bytes:
    """A zlib stream of `data` at deflate `level` by `encoder` (:func:`deflate_encoder`)."""
    if encoder == "isal" and 1 <= level <= 3 and _isal_zlib is not None:
        return bytes(_isal_zlib.compress(data, 1))
    return zlib.compress(data, level)


@contextmanager
def io_pool(threads: int | None = None) -> Iterator[Executor]:
    """A thread pool for :func:`write_array` (closed on exit)."""
    with ThreadPoolExecutor(max_workers=threads or io_threads()) as pool:
        yield pool


def chunk_filters(dset: Any) -> tuple[int, bool] | None:
    """The deflate level of an h5py dataset and whether its chunks are shuffled first.

    Returns ``(level, shuffled)`` for the two pipelines this module encodes, shuffle +
    deflate (``shuffled`` True) and deflate alone (False); None for any other (no filter,
    another order, other filters) and for a contiguous dataset.
    """
    if dset.chunks is None:
        return None
    plist = dset.id.get_create_plist()
    filters = [plist.get_filter(i) for i in range(plist.get_nfilters())]
    ids = [f[0] for f in filters]
    if ids not in ([_H5Z_SHUFFLE, _H5Z_DEFLATE], [_H5Z_DEFLATE]):
        return None
    opts = filters[-1][2]
    if not len(opts):
        return None
    return int(opts[0]), ids[0] == _H5Z_SHUFFLE


def deflate_level(dset: Any) -> int | None:
    """The deflate level of an h5py dataset whose filters are exactly shuffle + deflate.

    Returns None for any other pipeline (no filter, another order, other filters); see
    :func:`chunk_filters` for deflate alone too.
    """
    found = chunk_filters(dset)
    return found[0] if found is not None and found[1] else None


def _is_nan_fill(dset: Any) -> bool:
    fill = dset.fillvalue
    return dset.dtype.kind == "f" and np.isnan(fill)


def _shuffle(block: np.ndarray) -> bytes:
    """HDF5's shuffle filter: byte k of every element, for k = 0 .. itemsize - 1."""
    size = block.dtype.itemsize
    flat = np.ascontiguousarray(block).reshape(-1)
    return np.ascontiguousarray(flat.view(np.uint8).reshape(-1, size).T).tobytes()


def _shuffled_tiles(
    slab: np.ndarray, chunks: Sequence[int], fill: Any, skip_nan: bool
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The chunks of a slab (one chunk along the leading dims) to store, shuffled.

    Returns ``(n, chunk bytes)`` uint8, row ``t`` the bytes of chunk ``t`` as HDF5's
    shuffle filter leaves them (:func:`_shuffle` of the chunk, the cells beyond the slab's
    edge set to `fill`), and the tile row and column of each chunk, in row-major order:
    with `skip_nan`, only the chunks holding a value that is not NaN; else all. The same
    bytes as chunk by chunk (:mod:`trajectoire._kernels.shuffle`), without a Python step
    and two copies per chunk.
    """
    return _laid_out_tiles(slab, chunks, fill, skip_nan, shuffled=True)


def _plain_tiles(
    slab: np.ndarray, chunks: Sequence[int], fill: Any, skip_nan: bool
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """As :func:`_shuffled_tiles`, each chunk's bytes unshuffled (for deflate alone)."""
    return _laid_out_tiles(slab, chunks, fill, skip_nan, shuffled=False)


def _laid_out_tiles(
    slab: np.ndarray, chunks: Sequence[int], fill: Any, skip_nan: bool, *, shuffled: bool
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """:func:`_shuffled_tiles` (`shuffled`) or :func:`_plain_tiles`."""
    from trajectoire._kernels.shuffle import plain_tiles, shuffle_tiles, tiles_with_values

    lead, (ty, tx) = tuple(int(c) for c in chunks[:-2]), (int(chunks[-2]), int(chunks[-1]))
    ny, nx = slab.shape[-2:]
    if tuple(slab.shape[:-2]) != lead:  # a slab cut short along a leading dim: fill it
        whole = np.full((*lead, ny, nx), fill, dtype=slab.dtype)
        whole[tuple(slice(0, n) for n in slab.shape)] = slab
        slab = whole
    flat = np.ascontiguousarray(slab).reshape(-1, ny, nx)
    if skip_nan:
        stored = tiles_with_values(flat, ty, tx)
    else:
        stored = np.ones((-(-ny // ty), -(-nx // tx)), dtype=bool)
    rows, cols = (np.asarray(i, dtype=np.int64) for i in np.nonzero(stored))
    size = slab.dtype.itemsize
    fill_bytes = np.array([fill], dtype=slab.dtype).view(np.uint8)
    raw = flat.view(np.uint8)
    if shuffled:
        out = np.empty((rows.size, size, flat.shape[0], ty, tx), dtype=np.uint8)
        shuffle_tiles(raw, size, rows, cols, ty, tx, fill_bytes, out)
    else:
        out = np.empty((rows.size, flat.shape[0], ty, tx * size), dtype=np.uint8)
        plain_tiles(raw, size, rows, cols, ty, tx, fill_bytes, out)
    return out.reshape(rows.size, size * flat.shape[0] * ty * tx), list(
        zip(rows.tolist(), cols.tolist(), strict=True)
    )


def _chunk_offsets(shape: Sequence[int], chunks: Sequence[int]) -> list[tuple[int, ...]]:
    return list(itertools.product(*(range(0, n, c) for n, c in zip(shape, chunks, strict=True))))


def _owner(a: np.ndarray) -> np.ndarray:
    """The array that owns the memory of `a` (the end of its chain of views)."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def _memory_key(a: np.ndarray) -> tuple[Any, ...] | None:
    """Where the values of `a` lie, when `a` is a view of all the memory of another array
    (a plane shared as it is): its owner's identity, its shape, strides and type. None for
    an array that owns its memory (a freshly computed slab), a part of a larger array (the
    slabs of one array are not shared: keeping their chunks would hold the whole variable's)
    or an owner that is not a NumPy array."""
    owner = _owner(a)
    if owner is a or not owner.flags.owndata or a.nbytes != owner.nbytes:
        return None
    if a.__array_interface__["data"][0] != owner.__array_interface__["data"][0]:
        return None
    return (id(owner), a.shape, a.strides, a.dtype.str)


def write_array(dset: Any, data: np.ndarray, pool: Executor) -> int:
    """Write `data` (the whole variable) into the h5py dataset `dset`, chunk by chunk.

    Chunks that hold only NaN are skipped when the dataset's fill value is NaN. With a
    shuffle + deflate or a deflate pipeline (:func:`chunk_filters`) the chunks are encoded
    in `pool` and written directly; otherwise HDF5 writes them through its own filters.

    A slab that is a view of all the memory of an array already encoded as a slab (the
    constant planes of a year's maps, :class:`trajectoire.io.outputs.YearMaps`, which every
    blank plane shares: half the emission planes of a sample year) takes that slab's
    encoded chunks instead of encoding them again: the same values, so the same bytes. The
    memory is known to be the same while its owner lives: a weak reference to the owner,
    checked by identity, guards against memory freed and reused by another array, and drops
    the chunks kept when the owner goes (`data` must not be modified while it is written,
    as for any writer).

    Parameters
    ----------
    dset : h5py.Dataset
        Chunked dataset of the same shape as `data`.
    data : numpy.ndarray
        Values, converted to the dataset's dtype chunk by chunk.
    pool : concurrent.futures.Executor
        Thread pool that compresses the chunks.

    Returns
    -------
    int
        Number of chunks written.
    """
    if tuple(data.shape) != tuple(dset.shape):
        raise ValueError(f"{dset.name}: data of shape {data.shape}, dataset {dset.shape}")
    chunks = tuple(dset.chunks)
    dtype = dset.dtype
    filters = chunk_filters(dset)
    level = filters[0] if filters is not None else None
    tiles_of = _shuffled_tiles if filters is None or filters[1] else _plain_tiles
    encoder = deflate_encoder()
    skip_nan = _is_nan_fill(dset)
    lead, tile = chunks[:-2], chunks[-2:]
    # encoded slabs by the memory they were read from: (owner's weak reference, chunks)
    seen: dict[tuple[Any, ...], tuple[Any, list[tuple[tuple[int, int], Any]]]] = {}

    def encode_slab(lead_off: tuple[int, ...]) -> list[tuple[tuple[int, ...], Any]]:
        """Encode the chunks of one slab (one chunk along every dim but y and x)."""
        sl = tuple(
            slice(o, min(o + c, n)) for o, c, n in zip(lead_off, lead, data.shape[:-2], strict=True)
        )
        slab = np.asarray(data[sl], dtype=dtype)
        key = _memory_key(slab) if level is not None else None
        if key is not None and key in seen:
            ref, encoded = seen[key]
            if ref() is _owner(slab):
                return [((*lead_off, y0, x0), payload) for (y0, x0), payload in encoded]
        done: list[tuple[tuple[int, int], Any]] = []
        if level is not None:
            tiles, where = tiles_of(slab, chunks, dset.fillvalue, skip_nan)
            for t, (a, b) in enumerate(where):
                payload = _deflate(memoryview(tiles[t]), level, encoder)
                done.append(((a * tile[0], b * tile[1]), payload))
        else:
            for y0, x0 in itertools.product(
                range(0, data.shape[-2], tile[0]), range(0, data.shape[-1], tile[1])
            ):
                block = slab[..., y0 : y0 + tile[0], x0 : x0 + tile[1]]
                if not (skip_nan and np.isnan(block).all()):
                    done.append(((y0, x0), np.ascontiguousarray(block)))
        if key is not None:  # forgotten when the owner goes (its chunks are not held on)

            def forget(_: Any, k: tuple[Any, ...] = key) -> None:
                seen.pop(k, None)

            seen[key] = (weakref.ref(_owner(slab), forget), done)
        return [((*lead_off, y0, x0), payload) for (y0, x0), payload in done]

    slabs = _chunk_offsets(data.shape[:-2], lead)
    written = 0
    for encoded in pool.map(encode_slab, slabs):
        for off, payload in encoded:
            if isinstance(payload, bytes):
                dset.id.write_direct_chunk(off, payload)
            else:
                dset[tuple(slice(o, o + s) for o, s in zip(off, payload.shape, strict=True))] = (
                    payload
                )
            written += 1
    return written


def _stored_chunks(dset: Any) -> list[tuple[int, ...]]:
    """Offsets of the chunks of `dset` that are stored in the file."""
    found: list[tuple[int, ...]] = []
    if hasattr(dset.id, "chunk_iter"):
        dset.id.chunk_iter(lambda info: found.append(tuple(info.chunk_offset)))
        return found
    for off in _chunk_offsets(dset.shape, dset.chunks):  # pragma: no cover - old HDF5
        if dset.id.get_chunk_info_by_coord(off).byte_offset is not None:
            found.append(off)
    return found


def _compatible(src: Any, dst: Any) -> bool:
    def pipeline(d: Any) -> list[tuple[Any, ...]]:
        plist = d.id.get_create_plist()
        return [plist.get_filter(i)[:3] for i in range(plist.get_nfilters())]

    return (
        src.dtype == dst.dtype
        and src.chunks is not None
        and tuple(src.chunks) == tuple(dst.chunks or ())
        and pipeline(src) == pipeline(dst)
        and _is_nan_fill(src) == _is_nan_fill(dst)
    )


def copy_chunks(src: Any, dst: Any, offset: Sequence[int], *, drop_nan_chunks: bool = False) -> int:
    """Copy the variable `src` into `dst` at `offset`, compressed chunks as they are.

    `src` is placed at ``dst[offset[0]:offset[0] + src.shape[0], ...]``. When both datasets
    have the same dtype, chunk shape, filters and a NaN fill value, and `offset` falls on
    chunk boundaries, the stored chunks are copied without being decoded; otherwise the
    values are copied plane by plane through HDF5.

    Parameters
    ----------
    src, dst : h5py.Dataset
        Source and destination variables (same number of dims).
    offset : sequence of int
        Position of ``src[0, 0, ...]`` in `dst`.
    drop_nan_chunks : bool, default False
        Decode the small chunks (deflate, shuffled or not) and drop those that hold only
        NaN, as netCDF-C writes them (:func:`write_array` never stores them, so its files
        need no check: it costs about 60 us per chunk).

    Returns
    -------
    int
        Number of chunks copied (0 on the plane-by-plane path).
    """
    off = tuple(int(o) for o in offset)
    if len(off) != src.ndim or src.ndim != dst.ndim:
        raise ValueError(f"{src.name}: offset {off} does not match {src.ndim} dims")
    aligned = dst.chunks is not None and all(
        o % c == 0 for o, c in zip(off, dst.chunks, strict=True)
    )
    if not (aligned and _compatible(src, dst)):
        for idx in np.ndindex(*src.shape[:-2]):
            target = tuple(i + o for i, o in zip(idx, off, strict=False))
            dst[
                target
                + (slice(off[-2], off[-2] + src.shape[-2]), slice(off[-1], off[-1] + src.shape[-1]))
            ] = src[idx]
        return 0
    filters = chunk_filters(src)
    nan_chunk = None
    if drop_nan_chunks and filters is not None and _is_nan_fill(src):
        nans = np.full(src.chunks, np.nan, dtype=src.dtype)
        nan_chunk = _shuffle(nans) if filters[1] else nans.tobytes()
    copied = 0
    for chunk in _stored_chunks(src):
        mask, payload = src.id.read_direct_chunk(chunk)
        if nan_chunk is not None and mask == 0 and len(payload) <= _SMALL_CHUNK:
            if zlib.decompress(payload) == nan_chunk:
                continue
        dst.id.write_direct_chunk(
            tuple(c + o for c, o in zip(chunk, off, strict=True)), payload, filter_mask=mask
        )
        copied += 1
    return copied


def verify_chunks(path: Any, *, limit: int = 10) -> list[str]:
    """Read back every stored chunk of every chunked variable of an HDF5/NetCDF-4 file.

    Deflate streams end with an Adler-32 checksum of their content (RFC 1950), so a chunk
    whose bytes changed on disk almost surely fails to decode: this is how ``trajectoire
    info`` tells a damaged output from an intact one without a checksum of its own.

    Parameters
    ----------
    path : str or pathlib.Path
        The file.
    limit : int, default 10
        Stop after this many problems.

    Returns
    -------
    list of str
        One line per chunk that cannot be read (variable, chunk offset, the reader's error);
        empty when every chunk reads back.
    """
    import h5py

    problems: list[str] = []

    def visit(name: str, obj: Any) -> None:
        if len(problems) >= limit or not isinstance(obj, h5py.Dataset) or obj.chunks is None:
            return
        for offset in _stored_chunks(obj):
            sel = tuple(
                slice(o, min(o + c, n))
                for o, c, n in zip(offset, obj.chunks, obj.shape, strict=True)
            )
            try:
                obj[sel]
            except (OSError, ValueError, RuntimeError) as exc:
                problems.append(f"variable {name!r}, chunk at {offset}: {str(exc).splitlines()[0]}")
                if len(problems) >= limit:
                    return

    with h5py.File(path, "r") as f:
        f.visititems(visit)
    return problems
