"""The cumulative territory deposition written when the years are assembled (issue 15).

The fake pipeline of test_runner, with a ``territory_deposition`` (and its particle-number
twin) added to each year: the assembled ``territory_deposition_cumulative`` is the running
sum of the yearly values whether the run went through at once or was resumed after a crash,
and a run of years with a gap is written without it (a warning says why).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

import fake_pipeline
from fake_pipeline import write_config
from trajectoire.config import load_config
from trajectoire.errors import InputError, TrajectoireWarning
from trajectoire.io.outputs import cumulative_deposition
from trajectoire.runner import run


def _deposition(year: int) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic yearly deposition per (territory, pollutant): mass [t yr-1] and
    particle number [yr-1], different every year."""
    base = np.array([[1.0, 2.0, 0.5], [3.0, 0.25, 4.0]])
    return base * (1.0 + 0.1 * (year - 1990)), np.array([[2e18], [5e17]]) * (year - 1989)


class Depositing:
    """The fake pipeline with deposition; `fail_at` crashes a year."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.fail_at = fail_at

    def prepare(self, config: Any) -> Any:
        return fake_pipeline.prepare(config)

    def years(self, ctx: Any) -> list[int]:
        return fake_pipeline.years(ctx)

    def compute_year(self, ctx: Any, year: int) -> xr.Dataset:
        if year == self.fail_at:
            raise RuntimeError(f"simulated crash in {year}")
        ds = fake_pipeline.compute_year(ctx, year)
        mass, number = _deposition(year)
        ds = ds.assign_coords(territory=["T1", "T2"], pollutant_number=["UFP"])
        ds["territory_deposition"] = _pad(xr.DataArray(mass[None]), ds)
        ds["territory_deposition_number"] = (
            ("year", "territory", "pollutant_number"),
            number[None],
            {"units": "yr-1"},
        )
        return ds

    def static_variables(self, ctx: Any) -> xr.Dataset:
        return fake_pipeline.static_variables(ctx)

    def global_attributes(self, ctx: Any) -> dict[str, Any]:
        return fake_pipeline.global_attributes(ctx)


def _pad(td: xr.DataArray, ds: xr.Dataset) -> xr.DataArray:
    """The (territory, 3) values on the fake run's pollutants (cycled)."""
    n = ds.sizes["pollutant"]
    values = np.resize(td.values[0].T, (n, 2)).T[None]
    return xr.DataArray(
        values,
        dims=("year", "territory", "pollutant"),
        coords={"pollutant": ds["pollutant"].values},
        attrs={"units": "t yr-1"},
    )


def _expected(years: list[int], ds: xr.Dataset) -> np.ndarray:
    yearly = np.stack([_pad(xr.DataArray(_deposition(y)[0][None]), ds).values[0] for y in years])
    return np.cumsum(yearly, axis=0)


def test_cumulative_is_the_running_sum_at_once_and_after_a_resume(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path / "in"))
    once = run(config, tmp_path / "once.nc", pipeline=Depositing(), progress=False)
    out = tmp_path / "resumed.nc"
    with pytest.raises(RuntimeError, match="1992"):
        run(config, out, pipeline=Depositing(fail_at=1992), progress=False)
    run(config, out, pipeline=Depositing(), resume=True, progress=False)
    with xr.open_dataset(once) as a, xr.open_dataset(out) as b:
        years = [int(y) for y in a["year"].values]
        cum = a["territory_deposition_cumulative"]
        assert cum.attrs["units"] == "t" and int(cum.attrs["accumulated_since"]) == years[0]
        np.testing.assert_allclose(cum.values, _expected(years, a), rtol=1e-6)
        num = a["territory_deposition_cumulative_number"]
        assert num.attrs["units"] == "1"
        want = np.cumsum([_deposition(y)[1] for y in years], axis=0)
        np.testing.assert_allclose(num.values, want, rtol=1e-6)
        for name in ("territory_deposition_cumulative", "territory_deposition_cumulative_number"):
            np.testing.assert_array_equal(a[name].values, b[name].values)


def test_a_gap_in_the_years_leaves_the_cumulative_out(tmp_path: Path) -> None:
    """A run of chosen years is written whole, without the cumulative (a warning says why);
    the function itself refuses the gap."""
    config = load_config(write_config(tmp_path / "in"))
    out = tmp_path / "gap.nc"
    with pytest.warns(TrajectoireWarning, match="miss 1991"):
        run(config, out, pipeline=Depositing(), years=[1990, 1992], progress=False)
    with xr.open_dataset(out) as ds:
        assert "territory_deposition" in ds and list(ds["year"].values) == [1990, 1992]
        assert "territory_deposition_cumulative" not in ds
        with pytest.raises(InputError, match="miss 1991"):
            cumulative_deposition(ds)
