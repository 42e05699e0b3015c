"""Numba settings shared by every kernel.

``TRAJECTOIRE_NUMBA_CACHE`` (default ``1``) turns numba's on-disk cache on or off. The cache
removes the compilation cost (seconds) from every run after the first; turn it off
(``TRAJECTOIRE_NUMBA_CACHE=0``) when several processes start from a read-only install or when a
multiprocessing scheduler misbehaves with cached functions (numba issue #4807).
``NUMBA_CACHE_DIR`` chooses where the cache is written (numba's own variable).

``OMP_WAIT_POLICY`` defaults to ``PASSIVE`` (set before numba starts its threads).
"""

import os

# Idle OpenMP threads sleep instead of spinning: the chain alternates numba parallel loops
# with multi-threaded FFTs, and spinning workers stalled both for seconds on a busy machine.
# Set the variable yourself to override this default.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

#: the spellings of TRAJECTOIRE_NUMBA_CACHE, on and off
CACHE_ON, CACHE_OFF = frozenset({"1", "true", "yes", "on"}), frozenset({"0", "false", "no", "off"})


def cache_setting() -> bool | None:
    """Whether ``TRAJECTOIRE_NUMBA_CACHE`` (default ``1``) turns numba's on-disk cache on;
    None for a value that is neither on (``1``, ``true``, ``yes``, ``on``) nor off (``0``,
    ``false``, ``no``, ``off``), any case: the cache stays on, and ``trajectoire run``
    stops on it before it prepares anything."""
    value = os.environ.get("TRAJECTOIRE_NUMBA_CACHE", "1").strip().lower()
    if value in CACHE_ON | CACHE_OFF:
        return value in CACHE_ON
    return None


CACHE: bool = cache_setting() is not False
