"""Guards of the import of trajectoire against the environment it runs in.

Imported first by :mod:`trajectoire` (before numpy and scipy).

numpy's f2py reads ``SOURCE_DATE_EPOCH`` with ``int()`` when it is imported (scipy imports
it), so a value that is not an integer would stop ``import trajectoire`` with numpy's
traceback. f2py is then imported with the variable unset (it only stamps the files f2py
generates) and the variable restored: :func:`trajectoire.cf.utc_stamp` reports it in one
line when a run starts (:class:`trajectoire.ConfigError`).
"""

from __future__ import annotations

import os

__all__: list[str] = []

_EPOCH = "SOURCE_DATE_EPOCH"


def _import_f2py_safely() -> None:
    """Import ``numpy.f2py`` with a ``SOURCE_DATE_EPOCH`` that ``int()`` rejects hidden."""
    raw = os.environ.get(_EPOCH)
    if raw is None:
        return
    try:
        int(raw)
        return
    except ValueError:
        pass
    del os.environ[_EPOCH]
    try:
        import numpy.f2py  # noqa: F401
    finally:
        os.environ[_EPOCH] = raw


_import_f2py_safely()
