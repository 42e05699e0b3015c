"""A run's context shared with Dask workers through read-only memory-mapped files (issue 18).

Before, a Dask run pickled the whole prepared context (:class:`trajectoire.batch.RunContext`,
about 490 MiB at 200 m, most of it the emission basis) and copied it into every worker: the
peak memory grew by one context per worker and the broadcast took seconds. Now
:func:`share_context` writes the context's large NumPy arrays once, each to a ``.npy`` file in
a folder of the run's parts directory (``OUT.nc.parts/.context-TOKEN/``), and gives a
:class:`SharedContext`: the context without those arrays (a few MiB) and the files'
names. A worker opens it once (:meth:`SharedContext.open`, kept for the worker's next
tasks): the arrays come back with :func:`numpy.load` ``mmap_mode="r"``, so every worker
reads the same pages of the operating system's page cache (no copy per worker), and they are
read-only (a year that wrote into the shared context would raise instead of silently
changing the next years).

Safety (:mod:`trajectoire.batch.safety`): the folder belongs to the run that holds the
output's lock; it is created under a fresh token, written completely before any task is
sent, and removed when the computation ends, whether it succeeds or fails
(:func:`remove_shared`). A folder left by a killed run is never reused: the next run of the
same output (``--resume`` or not) removes it (:func:`remove_stale`) and prepares and shares
its context again, and the parts it resumes are verified by their checksums as in a serial
run. Each worker checks that every file still has the shape and type that were written.
"""

from __future__ import annotations

import copy
import dataclasses
import shutil
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from trajectoire.errors import InputError

__all__ = [
    "CONTEXT_PREFIX",
    "MIN_SHARED_BYTES",
    "SharedContext",
    "forget_context",
    "new_context_folder",
    "remove_shared",
    "remove_stale",
    "share_context",
]

#: Prefix of the folders of shared arrays in a run's parts directory.
CONTEXT_PREFIX = ".context-"
#: Arrays of at least this many bytes are shared through files; the smaller ones travel
#: with the context.
MIN_SHARED_BYTES = 2**20

_OPENED: dict[str, Any] = {}
_OPENED_LOCK = threading.Lock()


@dataclass(frozen=True)
class SharedContext:
    """A context whose large arrays live in memory-mapped files.

    Attributes
    ----------
    token : str
        Identifies this run's sharing (the folder is ``.context-TOKEN``).
    skeleton : object
        The context with its shared attributes set to None.
    arrays : dict
        Attribute (or key) -> ``(path, shape, dtype)`` of each shared array.
    """

    token: str
    skeleton: Any
    arrays: dict[str, tuple[str, tuple[int, ...], str]] = field(default_factory=dict)

    def open(self) -> Any:
        """The context with its arrays mapped read-only; opened once per process.

        Returns
        -------
        object
            A context equal to the one shared, its large arrays read-only memory maps.

        Raises
        ------
        trajectoire.InputError
            A file is missing or no longer holds the array written (removed or replaced
            by another process while the run lasted).
        """
        with _OPENED_LOCK:
            ctx = _OPENED.get(self.token)
            if ctx is None:
                ctx = _OPENED[self.token] = self._load()
            return ctx

    def adopt(self, ctx: Any) -> None:
        """Replace in `ctx` (the context shared) its shared arrays by read-only maps of their
        files, so that the process that prepared it gives their memory back."""
        opened = self.open()
        for name in self.arrays:
            _set(ctx, name, _members(opened)[name])

    def _load(self) -> Any:
        ctx = copy.copy(self.skeleton)
        for name, (path, shape, dtype) in self.arrays.items():
            try:
                arr = np.load(path, mmap_mode="r", allow_pickle=False)
            except (OSError, ValueError) as exc:
                raise InputError(
                    f"{path}: the run's shared context cannot be read ({exc}); it is written "
                    "by the run and removed at its end: run again (with --resume to keep the "
                    "finished years)."
                ) from None
            if arr.shape != tuple(shape) or arr.dtype.str != dtype:
                raise InputError(
                    f"{path}: shared array {name!r} is {arr.dtype.str}{arr.shape}, expected "
                    f"{dtype}{tuple(shape)} as written by this run: another process changed "
                    "it; run again (with --resume to keep the finished years)."
                )
            _set(ctx, name, arr)
        return ctx


def _members(ctx: Any) -> dict[str, Any]:
    """The attributes (or keys) of `ctx` that may be shared."""
    if isinstance(ctx, dict):
        return {k: v for k, v in ctx.items() if isinstance(k, str)}
    if dataclasses.is_dataclass(ctx) and not isinstance(ctx, type):
        return {f.name: getattr(ctx, f.name) for f in dataclasses.fields(ctx)}
    return {}


def _set(ctx: Any, name: str, value: Any) -> None:
    if isinstance(ctx, dict):
        ctx[name] = value
    else:  # frozen dataclasses too
        object.__setattr__(ctx, name, value)


def _shareable(value: Any, min_bytes: int) -> bool:
    return type(value) is np.ndarray and value.dtype.kind in "biufc" and value.nbytes >= min_bytes


def share_context(ctx: Any, folder: Path, *, min_bytes: int = MIN_SHARED_BYTES) -> SharedContext:
    """Write the large arrays of `ctx` to `folder` and return the context to send to workers.

    Parameters
    ----------
    ctx : object
        A pipeline's context: a dataclass instance (:class:`~trajectoire.batch.RunContext`)
        or a dict; its plain numeric :class:`numpy.ndarray` members of at least `min_bytes`
        bytes are shared. Any other context is sent whole (nothing is written).
    folder : pathlib.Path
        A new folder (created; it must not exist), e.g. ``OUT.nc.parts/.context-TOKEN``:
        its name's end after :data:`CONTEXT_PREFIX` is the token.
    min_bytes : int, default :data:`MIN_SHARED_BYTES`
        Smallest array shared [bytes].

    Returns
    -------
    SharedContext
        The skeleton (a shallow copy of `ctx`: `ctx` itself is not changed) and the files.
    """
    token = folder.name.removeprefix(CONTEXT_PREFIX)
    chosen = {k: v for k, v in _members(ctx).items() if _shareable(v, min_bytes)}
    if not chosen:
        return SharedContext(token, ctx)
    skeleton = copy.copy(ctx)
    folder.mkdir(parents=True, exist_ok=False)
    arrays: dict[str, tuple[str, tuple[int, ...], str]] = {}
    for k, (name, value) in enumerate(chosen.items()):
        path = folder / f"{k:03d}.npy"
        np.save(path, value, allow_pickle=False)
        arrays[name] = (str(path), tuple(value.shape), value.dtype.str)
        _set(skeleton, name, None)
    return SharedContext(token, skeleton, arrays)


def new_context_folder(parts: Path) -> Path:
    """A fresh folder name for the shared arrays of a run whose parts are in `parts`."""
    return parts / f"{CONTEXT_PREFIX}{uuid.uuid4().hex[:12]}"


def forget_context(token: str) -> None:
    """Drop this process's opened copy of the shared context `token` (its memory maps)."""
    with _OPENED_LOCK:
        _OPENED.pop(token, None)


def remove_shared(folder: Path) -> None:
    """Remove a folder of shared arrays (already unmapped or not: on POSIX the pages of a
    worker still mapping them stay valid until it lets them go)."""
    if folder.name.startswith(CONTEXT_PREFIX):
        shutil.rmtree(folder, ignore_errors=True)


def remove_stale(parts: Path) -> None:
    """Remove the folders of shared arrays left in `parts` by a killed run.

    Only call this while holding the output's lock
    (:func:`trajectoire.batch.safety.output_lock`): no other run uses them then.
    """
    if parts.is_dir():
        for p in parts.iterdir():
            if p.is_dir() and p.name.startswith(CONTEXT_PREFIX):
                remove_shared(p)
