"""``benchmarks/bench_run.py``'s warm-up: the years it runs to fill numba's cache (the count
of compilations it reports is ``trajectoire._compile_notice``'s, tested with it)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_run.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_run", SCRIPT)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = mod
    spec.loader.exec_module(mod)
    yield mod
    sys.modules.pop("bench_run", None)


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(
        "[run]\nfirst_year = 1990\nlast_year = 2023\n\n"
        "[attribution]\nmap_years = [1990, 2000, 2010, 2020, 2023]\n"
    )
    return path


@pytest.mark.parametrize(
    ("years", "expected"),
    [
        (None, "2022,2023"),  # the last map year of the configuration's years
        ("2019:2020", "2019,2020"),
        ("2005:2008", "2007,2008"),  # no map year selected: the last two
        ("1990:1991", "1990,1991"),  # no year before the map year: the one after
        ("1990", "1990"),
        ("1995,2010,2015", "2010"),  # a map year alone among years not next to it
    ],
)
def test_warmup_years(bench, config, years, expected):
    assert bench.warmup_years(config, years) == expected


def test_warmup_years_without_map_years(bench, tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[run]\nfirst_year = 2000\nlast_year = 2004\n")
    assert bench.warmup_years(path, None) == "2003,2004"


def test_measure_splits_the_system_cpu(bench, tmp_path):
    """The run's CPU and its system part (the kernel's: here the pages of a new 200 MB array,
    written once), from the children's ``getrusage``."""
    out = tmp_path / "out.bin"
    code = (
        "import numpy as np, pathlib; a = np.ones(25_000_000); "
        f"pathlib.Path({str(out)!r}).write_bytes(a[:8].tobytes())"
    )
    r = bench.measure([sys.executable, "-c", code], out)
    assert 0.0 < r["system"] <= r["cpu"]
    assert r["peak"] >= 150e6 and r["size"] == 64.0
