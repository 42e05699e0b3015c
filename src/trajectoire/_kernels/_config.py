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

CACHE: bool = os.environ.get("TRAJECTOIRE_NUMBA_CACHE", "1").strip().lower() not in {
    "0",
    "false",
    "no",
    "off",
}
