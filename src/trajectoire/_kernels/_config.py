"""Numba settings shared by every kernel.

``TRAJECTOIRE_NUMBA_CACHE`` (default ``1``) turns numba's on-disk cache on or off. The cache
removes the compilation cost (seconds) from every run after the first; turn it off
(``TRAJECTOIRE_NUMBA_CACHE=0``) when several processes start from a read-only install or when a
multiprocessing scheduler misbehaves with cached functions (numba issue #4807).
``NUMBA_CACHE_DIR`` chooses where the cache is written (numba's own variable).
"""

import os

CACHE: bool = os.environ.get("TRAJECTOIRE_NUMBA_CACHE", "1").strip().lower() not in {
    "0",
    "false",
    "no",
    "off",
}
