"""Shared fixtures, hypothesis profiles and the pytest report header."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "dev", max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# CI: the same 200 examples on every run (derandomize), so that what lands does not depend
# on the draw; "dev" (the default) keeps drawing new examples on each run.
settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

# Every ``history`` line carries the UTC second of its call (trajectoire.cf.utc_stamp): two
# calls that straddle a second made ``assert_identical`` fail at random in CI. Fix the stamp
# for the whole run (and the CLI subprocesses, which inherit it); test_cf checks both ways.
os.environ.setdefault("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01T00:00:00Z

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("TRAJECTOIRE_SHARED_DATA", REPO.parent / "shared" / "data"))


def pytest_report_header(config: pytest.Config) -> list[str]:
    import dask
    import netCDF4
    import numba
    import numpy
    import xarray

    return [
        f"numpy {numpy.__version__}, numba {numba.__version__}, xarray {xarray.__version__}, "
        f"dask {dask.__version__}, netCDF4 {netCDF4.__version__}",
        f"shared data: {SHARED_DATA} ({'present' if SHARED_DATA.is_dir() else 'absent'})",
    ]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep ``slow`` tests out of the default run; ``-m slow`` selects them."""
    markexpr = config.getoption("-m") or ""
    if "slow" in markexpr:
        return
    skip_slow = pytest.mark.skip(reason="slow: run with -m slow (a separate CI step does)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of the real open data (``../shared/data``); skips the test where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real open data not found at {SHARED_DATA}")
    return SHARED_DATA
