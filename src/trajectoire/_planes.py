"""Whole planes of a lazy array, computed from its graph one at a time.

The run reads lazy arrays of ``(..., y, x)`` planes one plane at a time: the writer stores
the year's maps slab by slab (:func:`trajectoire.io.netcdf.write_netcdf`) and prepare makes
the float32 basis field by field (:func:`trajectoire.trajectory.basis.basis_array`).
Slicing the dask array and computing the slice builds and optimises a new graph each time,
which cost more than the values; :class:`Planes` runs only the tasks of the one chunk that
holds the plane (Dask's ``cull`` and synchronous ``get_sync``: the same task functions, so
the same bits).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Planes"]


class Planes:
    """Slabs of an array of whole ``(y, x)`` planes (its last two dims each one chunk),
    computed one at a time in the calling thread.

    A slab that is one chunk (one index along every dim but y and x, the whole plane) is
    computed from the array's graph directly: only the tasks it needs
    (``dask.optimization.cull``), run by ``dask.local.get_sync``, without slicing the array
    and optimising a new graph for each slab (``compute``: ~4 ms a slab, 1.2 s for the 312
    planes of a 200 m map year of the sample, a fifth of the part's writing). Other keys, and
    arrays that are not dask's, are sliced (and computed). The values are the same tasks'
    results, bit for bit.
    """

    def __init__(self, data: Any) -> None:
        self._data = data
        self.shape = data.shape
        # a plain dict of a dask array's tasks, built once (None: not a dask array)
        self._graph = dict(data.__dask_graph__()) if hasattr(data, "__dask_graph__") else None

    def __getitem__(self, key: Any) -> np.ndarray:
        block = None if self._graph is None else self._block(key)
        if block is None:
            part = self._data[key]
            if hasattr(part, "compute"):
                part = part.compute(scheduler="synchronous")
            return np.asarray(part)
        import dask.local
        import dask.optimization

        assert self._graph is not None
        needed, _ = dask.optimization.cull(self._graph, [block])
        return np.asarray(dask.local.get_sync(needed, block))

    def _block(self, key: Any) -> tuple[Any, ...] | None:
        """The graph key of the chunk `key` selects whole, or None."""
        key = key if isinstance(key, tuple) else (key,)
        lead = len(self.shape) - 2
        if not lead <= len(key) <= len(self.shape) or not all(isinstance(k, slice) for k in key):
            return None
        index = []
        for d, k in enumerate(key):
            start, stop, step = k.indices(self.shape[d])
            if d < lead and (stop - start != 1 or step != 1):
                return None  # not one plane along this dim
            if d >= lead and (start, stop, step) != (0, self.shape[d], 1):
                return None  # part of a plane
            index.append(start if d < lead else 0)
        index += [0] * (len(self.shape) - len(key))
        return (self._data.name, *index)
