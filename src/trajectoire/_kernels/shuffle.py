"""The chunks of a slab as HDF5's shuffle filter leaves them (or unshuffled), in one pass.

HDF5's shuffle filter (The HDF Group, "HDF5 User's Guide", Filters: H5Z_FILTER_SHUFFLE)
stores byte ``k`` of every element of a chunk, for ``k = 0 .. itemsize - 1``, the elements
in C order; deflate then finds the runs of equal exponent bytes. The writer
(:func:`trajectoire.io.chunks.write_array`) compresses the chunks of one slab (one chunk
along every dim but ``y`` and ``x``) that hold a value other than NaN: :func:`tiles_with_values`
finds them and :func:`shuffle_tiles` lays their bytes out, each chunk contiguous, the cells
beyond the slab's edge set to the fill value. The bytes are those of shuffling each chunk
on its own (``tests/test_kernels_shuffle.py`` checks them against numpy).
:func:`plain_tiles` lays out the chunks of a variable stored without the shuffle filter
(the fields spread by proxies, :data:`trajectoire.io.netcdf.UNSHUFFLED_VARIABLES`).
"""

import numpy as np
from numba import njit

from ._config import CACHE


@njit(cache=CACHE, nogil=True)
def tiles_with_values(slab, ty, tx):
    """Which ``ty`` × ``tx`` tiles of a slab hold a value that is not NaN.

    Parameters
    ----------
    slab : float32 or float64 array (n_lead, ny, nx)
        The slab, its leading dims flattened.
    ty, tx : int
        Chunk rows and columns.

    Returns
    -------
    numpy.ndarray
        ``(ceil(ny / ty), ceil(nx / tx))`` bool: the tile holds at least one value that is
        not NaN (the cells of a tile beyond the slab's edge are not read).
    """
    _, ny, nx = slab.shape
    nty = (ny + ty - 1) // ty
    ntx = (nx + tx - 1) // tx
    found = np.zeros((nty, ntx), dtype=np.bool_)
    for a in range(nty):
        for b in range(ntx):
            found[a, b] = _has_value(
                slab, a * ty, min(ny, (a + 1) * ty), b * tx, min(nx, (b + 1) * tx)
            )
    return found


@njit(cache=CACHE, nogil=True)
def _has_value(slab, y0, y1, x0, x1):
    """Whether rows ``y0:y1``, columns ``x0:x1`` of the slab hold a value that is not NaN
    (stops after the first row that holds one). Each row's values are counted whole
    (``v == v`` is false for NaN alone), a loop the compiler vectorises: a tile of NaN only,
    which is read to its end, costs about 1.8 times less than testing cell by cell with an
    exit at each (``benchmarks/bench_write_part.py``)."""
    for layer in range(slab.shape[0]):
        for y in range(y0, y1):
            row = slab[layer, y, x0:x1]
            n = 0
            for x in range(row.shape[0]):
                v = row[x]
                n += v == v
            if n > 0:
                return True
    return False


#: Unsigned integer of each element size read whole by :func:`shuffle_tiles`.
_WORDS = {4: np.uint32, 8: np.uint64}


def shuffle_tiles(raw, size, rows, cols, ty, tx, fill, out):
    """The shuffled bytes of the tiles ``(rows[t], cols[t])`` of a slab.

    Parameters
    ----------
    raw : uint8 array (n_lead, ny, nx * size)
        The slab's bytes (a C-contiguous slab viewed as ``uint8``).
    size : int
        Bytes per element.
    rows, cols : int64 arrays (n,)
        Tile row and column of each chunk to lay out.
    ty, tx : int
        Chunk rows and columns.
    fill : uint8 array (size,)
        The bytes of the fill value, for the cells beyond the slab's edge.
    out : uint8 array (n, size, n_lead, ty, tx)
        Filled: ``out[t, k, l, y, x]`` is byte ``k`` of element ``(l, y, x)`` of chunk
        ``t``, so that ``out[t]`` is the chunk after the shuffle filter.

    Notes
    -----
    Elements of 4 or 8 bytes on a little-endian machine are read whole, as unsigned
    integers, and byte ``k`` taken as ``(word >> 8 k) & 0xFF`` (:func:`_shuffle_words`: one
    contiguous read per row, shifts the compiler vectorises; 2.3-2.9 times faster than
    reading byte by byte with a stride of `size` on a 100 m year's slabs,
    ``benchmarks/bench_write_part.py``);
    other sizes, or a big-endian machine, are read byte by byte (:func:`_shuffle_bytes`).
    Both give the same bytes.
    """
    word = _WORDS.get(int(size)) if np.little_endian else None
    if word is not None and raw.flags.c_contiguous and raw.shape[-1] % size == 0:
        _shuffle_words(raw.view(word), size, rows, cols, ty, tx, fill, out)
    else:
        _shuffle_bytes(raw, size, rows, cols, ty, tx, fill, out)


@njit(cache=CACHE, nogil=True)
def _tile_at(row, col, ty, tx, nx):
    """Grid row and column of the first cell of tile ``(row, col)`` and its number of
    columns inside a slab of `nx` columns (the rest lies beyond the edge)."""
    x0 = col * tx
    return row * ty, x0, min(tx, nx - x0)


@njit(cache=CACHE, nogil=True)
def _shuffle_words(words, size, rows, cols, ty, tx, fill, out):
    """:func:`shuffle_tiles` from the slab's elements read as little-endian unsigned
    integers ``words`` (n_lead, ny, nx): byte ``k`` of an element is ``(w >> 8 k) & 0xFF``."""
    nl, ny, nx = words.shape
    for t in range(rows.shape[0]):
        y0, x0, w = _tile_at(rows[t], cols[t], ty, tx, nx)
        for layer in range(nl):
            for y in range(ty):
                gy = y0 + y
                if gy >= ny:
                    for k in range(size):
                        out[t, k, layer, y, :] = fill[k]
                    continue
                src = words[layer, gy, x0 : x0 + w]  # read once, from L1 for each k
                for k in range(size):
                    row = out[t, k, layer, y]
                    shift = 8 * k
                    for x in range(w):
                        row[x] = np.uint8((src[x] >> shift) & 0xFF)
                    for x in range(w, tx):
                        row[x] = fill[k]


@njit(cache=CACHE, nogil=True)
def _shuffle_bytes(raw, size, rows, cols, ty, tx, fill, out):
    """:func:`shuffle_tiles` byte by byte (any element size, any byte order)."""
    nl, ny, nxb = raw.shape
    nx = nxb // size
    for t in range(rows.shape[0]):
        y0, x0, w = _tile_at(rows[t], cols[t], ty, tx, nx)
        for k in range(size):
            for layer in range(nl):
                for y in range(ty):
                    row = out[t, k, layer, y]
                    gy = y0 + y
                    if gy < ny:
                        src = raw[layer, gy]
                        for x in range(w):
                            row[x] = src[(x0 + x) * size + k]
                        for x in range(w, tx):
                            row[x] = fill[k]
                    else:
                        for x in range(tx):
                            row[x] = fill[k]


#: Unsigned integer of each element size :func:`plain_tiles` copies whole.
_UINTS = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def plain_tiles(raw, size, rows, cols, ty, tx, fill, out):
    """The bytes of the tiles ``(rows[t], cols[t])`` of a slab, unshuffled.

    The layout HDF5 stores for a variable without the shuffle filter (its chunks deflated
    as they are): the elements of each chunk one after the other, in C order. The
    arguments are those of :func:`shuffle_tiles` but `out`, uint8 ``(n, n_lead, ty, tx *
    size)``, filled so that ``out[t, l, y, x * size + k]`` is byte ``k`` of element
    ``(l, y, x)`` of chunk ``t`` (the cells beyond the slab's edge: the bytes of `fill`).

    Elements of 1, 2, 4 or 8 bytes are copied whole, as unsigned integers of their size (the
    same bits; four times faster than byte by byte on a 100 m slab of float32); others byte
    by byte. Both give the same bytes.
    """
    word = _UINTS.get(int(size))
    if (
        word is not None
        and raw.flags.c_contiguous
        and out.flags.c_contiguous
        and raw.shape[-1] % size == 0
    ):
        _copy_tiles(raw.view(word), rows, cols, ty, tx, fill.view(word), out.view(word))
    else:
        _copy_tiles(raw, rows, cols, ty, tx * size, fill, out)


@njit(cache=CACHE, nogil=True)
def _copy_tiles(src, rows, cols, ty, tx, fill, out):
    """Tiles ``(rows[t], cols[t])`` of `src` (n_lead, ny, nx) into `out` (n, n_lead, ty,
    tx), the cells beyond the edge set to ``fill[x % len(fill)]`` (`fill`: one element, or
    the bytes of one element when `src` is a slab's bytes and `tx` a tile's width in
    bytes)."""
    nl, ny, nx = src.shape
    period = fill.shape[0]
    for t in range(rows.shape[0]):
        y0, x0, w = _tile_at(rows[t], cols[t], ty, tx, nx)
        for layer in range(nl):
            for y in range(ty):
                row = out[t, layer, y]
                gy = y0 + y
                n = 0
                if gy < ny:
                    n = w
                    row[:w] = src[layer, gy, x0 : x0 + w]
                for x in range(n, tx):
                    row[x] = fill[x % period]
