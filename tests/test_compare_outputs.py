"""``benchmarks/compare_outputs.py``, the check behind "outputs identical": it must catch a
difference of one bit anywhere (a signed zero, a NaN payload, one cell of one slab), and
pass files that differ only in what it is told to leave out."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import netCDF4
import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "compare_outputs.py"


@pytest.fixture(scope="module")
def tool():
    spec = importlib.util.spec_from_file_location("compare_outputs", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write(path: Path, values: np.ndarray, *, history: str = "run 1", config: str = "a.toml"):
    with netCDF4.Dataset(path, "w") as nc:
        nc.history = history
        nc.trajectoire_config_file = config
        for d, n in zip(("year", "y", "x"), values.shape, strict=True):
            nc.createDimension(d, n)
        v = nc.createVariable("conc", "f4", ("year", "y", "x"), zlib=True, fill_value=np.nan)
        v.set_auto_maskandscale(False)
        v[:] = values
        v.units = "ug m-3"
        nc.createVariable("total", "f8", ())[...] = float(values[np.isfinite(values)].sum())
    return path


def _values():
    rng = np.random.default_rng(1)
    v = rng.random((3, 5, 4)).astype(np.float32)
    v[:, 0, 0] = np.nan
    return v


def test_the_same_values_pass_whatever_the_run_time(tool, tmp_path: Path):
    a = _write(tmp_path / "a.nc", _values())
    b = _write(tmp_path / "b.nc", _values(), history="run 2", config="b.toml")
    assert tool.compare(a, b, {"trajectoire_config_file"}) == []
    assert tool.main([str(a), str(b), "--ignore-attr", "trajectoire_config_file"]) == 0
    assert tool.compare(a, b, set()) == ["global attribute trajectoire_config_file differs"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda v: v.__setitem__((2, 3, 1), np.nextafter(v[2, 3, 1], np.float32(2))),
            "slab 2: 1 cell",
        ),
        (lambda v: v.__setitem__((1, 4, 3), np.float32(0.0)), "slab 1: 1 cell"),
        (lambda v: None, None),
    ],
)
def test_one_ulp_in_one_cell_is_found(tool, tmp_path: Path, change, expected):
    base = _values()
    other = base.copy()
    change(other)
    a = _write(tmp_path / "a.nc", base)
    b = _write(tmp_path / "b.nc", other)
    lines = tool.compare(a, b, {"trajectoire_config_file"})
    if expected is None:
        assert lines == []
    else:
        assert any(line.startswith("conc: values differ") and expected in line for line in lines)


def test_signed_zero_and_nan_payload_are_differences(tool, tmp_path: Path):
    base = _values()
    base[0, 2, 2] = 0.0
    signed = base.copy()
    signed[0, 2, 2] = -0.0  # equal as numbers, not as bits
    payload = base.copy()
    payload[1, 0, 0] = np.array([0x7FC00001], dtype=np.uint32).view(np.float32)[0]  # NaN too
    a = _write(tmp_path / "a.nc", base)
    for name, other in (("signed", signed), ("payload", payload)):
        b = _write(tmp_path / f"{name}.nc", other)
        lines = tool.compare(a, b, {"trajectoire_config_file"})
        assert lines and lines[0].startswith("conc: values differ"), (name, lines)
        assert tool.main([str(a), str(b), "--ignore-attr", "trajectoire_config_file"]) == 1


def test_a_missing_variable_and_an_attribute_are_differences(tool, tmp_path: Path):
    a = _write(tmp_path / "a.nc", _values())
    b = _write(tmp_path / "b.nc", _values())
    with netCDF4.Dataset(b, "a") as nc:
        nc["conc"].units = "ng m-3"
        nc.createVariable("extra", "i4", ())[...] = 1
    lines = tool.compare(a, b, {"trajectoire_config_file"})
    assert f"extra: only in {b}" in lines
    assert "conc: attributes differ" in lines
