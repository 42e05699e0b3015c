"""Are two runs' NetCDF outputs the same, bit for bit? Variable by variable, slab by slab.

The check behind every "outputs identical" of ``docs/performance.md``: a change meant to be
exact (a faster kernel, another memory layout) must leave every stored value with the same
bits, ``-0`` against ``+0`` and NaN payloads included (a tolerance would hide a change of
summation order). Each variable is read one slab at a time along its first dimension (a
34-year 100 m output holds 50 GB of values once decompressed; one slab is at most a few
hundred MB) with masking and scaling off, so the stored values are compared, not a
decoded copy. Attributes are compared too; the global ``history`` (it holds the time of the
run) and the attributes given with ``--ignore-attr`` (for example
``trajectoire_config_file``, the path of each run's configuration) are left out.

For a variable that differs it prints the first slab that differs, how many cells of it
differ and the largest absolute difference there, so that a round-off change (a few cells,
1e-17) is told from a wrong result at a glance.

Usage::

    python benchmarks/compare_outputs.py A.nc B.nc [--ignore-attr trajectoire_config_file]

Exit status 0 when the files hold the same variables with the same bits and attributes,
1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import netCDF4
import numpy as np

#: Global attributes never compared: the time of the run.
ALWAYS_IGNORED = ("history",)


def _bits(values: Any) -> np.ndarray:
    """The stored values as raw bytes, flat (strings: their values)."""
    a = np.ascontiguousarray(np.asarray(values))
    return a.view(np.uint8).reshape(-1) if a.dtype.kind != "O" else np.asarray(a.tolist())


def _difference(x: Any, y: Any) -> str | None:
    """Where two variables of the same shape and type first differ, and by how much (None:
    the same bits). Reads one slab at a time along the first dimension, once."""
    slabs = range(x.shape[0]) if x.ndim else [Ellipsis]
    for i in slabs:
        a, b = np.asarray(x[i]), np.asarray(y[i])
        if np.array_equal(_bits(a), _bits(b)):
            continue
        where = "the value" if i is Ellipsis else f"slab {i}"
        if a.dtype.kind not in "fiu":
            return f"{where} differs"
        unsigned = f"u{a.itemsize}"
        differ = a.view(unsigned) != b.view(unsigned)
        da, db = a.astype(np.float64), b.astype(np.float64)
        diff = np.abs(da - db)[differ & np.isfinite(da) & np.isfinite(db)]
        largest = f"{diff.max():.3g}" if diff.size else "n/a (NaN, inf or signed zero)"
        return (
            f"{where}: {int(np.count_nonzero(differ))} cell(s) differ, largest absolute "
            f"difference {largest}"
        )
    return None


def _attrs(obj: Any, ignored: set[str]) -> dict[str, str]:
    return {k: repr(obj.getncattr(k)) for k in obj.ncattrs() if k not in ignored}


def compare(a_path: Path, b_path: Path, ignored: set[str]) -> list[str]:
    """The differences between two NetCDF files, one line each (empty: the same).

    Parameters
    ----------
    a_path, b_path : pathlib.Path
        The two files.
    ignored : set of str
        Global attributes left out (besides ``history``).

    Returns
    -------
    list of str
        One line per difference: a variable only in one file, a shape or type, values
        (:func:`_difference`), a variable's or the file's attribute.
    """
    out: list[str] = []
    with netCDF4.Dataset(a_path) as a, netCDF4.Dataset(b_path) as b:
        a.set_auto_maskandscale(False)
        b.set_auto_maskandscale(False)
        for name in sorted(set(a.variables) ^ set(b.variables)):
            out.append(f"{name}: only in {a_path if name in a.variables else b_path}")
        for name in sorted(set(a.variables) & set(b.variables)):
            x, y = a.variables[name], b.variables[name]
            if x.shape != y.shape or x.dtype != y.dtype:
                out.append(f"{name}: shape or type {x.shape} {x.dtype} against {y.shape} {y.dtype}")
                continue
            where = _difference(x, y)
            if where is not None:
                out.append(f"{name}: values differ, {where}")
            if _attrs(x, set()) != _attrs(y, set()):
                out.append(f"{name}: attributes differ")
        skip = set(ALWAYS_IGNORED) | ignored
        ga, gb = _attrs(a, skip), _attrs(b, skip)
        for key in sorted(set(ga) | set(gb)):
            if ga.get(key) != gb.get(key):
                out.append(f"global attribute {key} differs")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a", type=Path)
    ap.add_argument("b", type=Path)
    ap.add_argument(
        "--ignore-attr",
        action="append",
        default=[],
        help="a global attribute to leave out (repeat it; 'history' always is)",
    )
    args = ap.parse_args(argv)
    differences = compare(args.a, args.b, set(args.ignore_attr))
    with netCDF4.Dataset(args.a) as a, netCDF4.Dataset(args.b) as b:
        common = len(set(a.variables) & set(b.variables))
    for line in differences:
        print(line)
    verdict = f"{len(differences)} difference(s)" if differences else "the same, bit for bit"
    print(f"{common} common variables; {verdict}")
    return 0 if not differences else 1


if __name__ == "__main__":
    sys.exit(main())
