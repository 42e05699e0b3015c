"""A line in the log while numba compiles the kernels, so that a first run is not a mystery.

The first run after an install (or after an upgrade, or with ``TRAJECTOIRE_NUMBA_CACHE=0``)
compiles the numerical kernels: about a minute of CPU on 2 cores before the first year
(``docs/dispersion.md``, "Compilation cost"); later runs load them from numba's on-disk
cache in milliseconds. :func:`compile_notice` listens to numba's ``numba:compile`` events
(numba's event API, :mod:`numba.core.event`: fired for a real compilation, not for a
kernel loaded from the cache) and logs one line when the first kernel starts compiling and
one line at the end with the number compiled.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CompileCount", "compile_notice"]

log = logging.getLogger("trajectoire")


@dataclass
class CompileCount:
    """What :func:`compile_notice` saw: the kernels compiled (outermost compilations: a
    kernel's includes those of the functions it calls, in the same thread), the wall time
    `seconds` [s] and the CPU time `cpu` [s] of the compiling threads they took, each
    summed over the threads that compiled, and `cpu_of` each kernel [s] (its signatures
    together; ``module.function`` as in `kernels`, in the order they were compiled)."""

    seconds: float = 0.0
    cpu: float = 0.0
    kernels: list[str] = field(default_factory=list)
    cpu_of: dict[str, float] = field(default_factory=dict)

    @property
    def count(self) -> int:
        """The number of kernels compiled (a kernel compiled for two signatures: twice)."""
        return len(self.kernels)


@contextlib.contextmanager
def compile_notice(logger: logging.Logger = log) -> Iterator[CompileCount]:
    """Log at INFO when numba starts compiling kernels inside the block, and how many.

    Parameters
    ----------
    logger : logging.Logger, default the ``trajectoire`` logger
        Where the two lines go.

    Yields
    ------
    CompileCount
        Filled as kernels compile (read it after the block).
    """
    from numba.core import event

    from trajectoire._kernels import CACHE

    seen = CompileCount()
    lock = threading.Lock()
    local = threading.local()  # the writer's threads compile their own kernels
    told = [False]

    class _Listener(event.Listener):
        def on_start(self, ev: Any) -> None:
            depth = getattr(local, "depth", 0)
            local.depth = depth + 1
            if depth:
                return
            local.start = time.perf_counter()
            local.cpu = time.thread_time()
            with lock:
                first, told[0] = not told[0], True
            if first:
                logger.info(
                    "compiling the numerical kernels (numba): about a minute on 2 cores, %s",
                    "once after an install or an upgrade (later runs load them from numba's cache)"
                    if CACHE
                    else "in every run, as numba's cache is off (TRAJECTOIRE_NUMBA_CACHE=0)",
                )

        def on_end(self, ev: Any) -> None:
            depth = getattr(local, "depth", 0)
            if depth == 0:  # a compilation already under way when the block began
                return
            local.depth = depth - 1
            if local.depth:
                return
            func = ev.data["dispatcher"].py_func
            name = f"{func.__module__}.{func.__qualname__}"
            cpu = time.thread_time() - local.cpu
            with lock:
                seen.seconds += time.perf_counter() - local.start
                seen.cpu += cpu
                seen.kernels.append(name)
                seen.cpu_of[name] = seen.cpu_of.get(name, 0.0) + cpu

    listener = _Listener()
    event.register("numba:compile", listener)
    try:
        yield seen
    finally:
        event.unregister("numba:compile", listener)
        if seen.count:
            logger.info(
                "compiled %d numerical kernel(s) in %.0f s%s",
                seen.count,
                seen.seconds,
                "; they are cached for the next runs" if CACHE else "",
            )
