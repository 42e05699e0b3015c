"""Run safety: one run per output at a time, and part files checked before they are reused.

* :func:`output_lock` holds an exclusive lock on ``OUT.nc.lock`` for the whole run
  (:func:`fcntl.flock`): a second run to the same output stops at once with a message naming
  the process that holds it. The kernel releases the lock when the process ends, however it
  ends (``SIGKILL`` included), so a crashed run never blocks the next one.
* Each part file gets a SHA-256 checksum written beside it (``year-2019.nc.sha256``) once the
  part is complete; :func:`part_checksum_state` recomputes it before ``--resume`` reuses a
  part, so a part damaged on disk (flipped bytes) is recomputed instead of being copied
  into the output.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import logging
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from trajectoire.errors import InputError

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock (documented)
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "CHECKSUM_SUFFIX",
    "lock_path_of",
    "output_lock",
    "part_checksum_state",
    "write_part_checksum",
]

log = logging.getLogger(__name__)

#: Suffix of the checksum file written beside each part.
CHECKSUM_SUFFIX = ".sha256"
_BLOCK = 1 << 20


def lock_path_of(out: str | Path) -> Path:
    """The lock file of output `out` (``OUT.nc.lock``)."""
    out = Path(out)
    return out.with_name(out.name + ".lock")


@contextlib.contextmanager
def output_lock(out: str | Path) -> Iterator[Path]:
    """Hold the exclusive lock of output `out` while the block runs.

    Parameters
    ----------
    out : str or pathlib.Path
        The run's output file.

    Yields
    ------
    pathlib.Path
        The lock file; it holds the pid, host and start time of the run, and is removed
        when the block ends.

    Raises
    ------
    trajectoire.InputError
        Another process holds the lock: the message names it.
    """
    path = lock_path_of(out)
    if fcntl is None:  # pragma: no cover
        yield path
        return
    fd = -1
    try:  # acquired inside the try: a stop (SIGTERM) right after it still cleans up
        fd = _acquire(path, Path(out))
        holder = (
            f"pid {os.getpid()} on {socket.gethostname()}, started "
            f"{_dt.datetime.now(_dt.UTC).isoformat(timespec='seconds')}"
        )
        os.ftruncate(fd, 0)
        os.pwrite(fd, holder.encode(), 0)
        yield path
    finally:
        if fd >= 0:
            with contextlib.suppress(OSError):
                path.unlink()
            os.close(fd)  # releases the lock


def _acquire(path: Path, out: Path) -> int:
    """Open and lock `path`; retry when the file was replaced under us (a run just ended)."""
    for _ in range(10):
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise InputError(
                f"--out {out}: another trajectoire run is writing this output ({holder}); "
                f"wait for it to end, or give another --out. (Lock file: {path}.)"
            ) from None
        except BaseException:  # stopped while waiting for nothing: not ours, leave the file
            os.close(fd)
            raise
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        except BaseException:  # stopped while holding the lock: leave nothing behind
            with contextlib.suppress(OSError):
                path.unlink()
            os.close(fd)
            raise
        if same:
            return fd
        os.close(fd)  # the previous holder removed the file between our open and lock
    raise InputError(f"--out {out}: could not take the lock {path}; try again.")


def _holder(fd: int, wait: float = 2.0) -> str:
    """Who holds the lock, as its holder wrote it (it writes just after locking: wait for it
    a moment rather than naming nobody)."""
    deadline = time.monotonic() + wait
    while True:
        text = os.pread(fd, 512, 0).decode(errors="replace").strip()
        if text or time.monotonic() > deadline:
            return text or "a process"
        time.sleep(0.02)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def write_part_checksum(part: Path) -> Path:
    """Write the SHA-256 of a finished part beside it (atomically); returns its path."""
    target = part.with_name(part.name + CHECKSUM_SUFFIX)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(f"{_sha256(part)}  {part.name}\n")
    os.replace(tmp, target)
    return target


def part_checksum_state(part: Path) -> str:
    """``"ok"`` when `part` matches its checksum, ``"missing"`` or ``"damaged"`` otherwise."""
    target = part.with_name(part.name + CHECKSUM_SUFFIX)
    try:
        stored = target.read_text().split()[0]
    except (OSError, IndexError):
        return "missing"
    return "ok" if stored == _sha256(part) else "damaged"
