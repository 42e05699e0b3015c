"""The emissions' uncertainty through a run: ``[trajectory.uncertainty]`` read and checked,
:func:`propagate` against an independent computation, and the percentiles a run writes."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from test_pipeline import small_config
from trajectoire import TrajectoireWarning
from trajectoire.batch import runner
from trajectoire.config import load_config
from trajectoire.errors import ConfigError
from trajectoire.trajectory.uncertainty import Uncertainty, monte_carlo, propagate

SECTORS = ["B_Industry", "C_OtherStationaryComb", "F_RoadTransport"]


def _outputs(rng: np.random.Generator, years: list[int], pols: list[str]) -> xr.Dataset:
    """Small variables shaped as a run's: totals = background + parts (summed over origins)."""
    ny, nr, ns, no, npl = len(years), 3, len(SECTORS), 2, len(pols)
    parts = rng.random((ny, nr, ns, no, npl)) * (rng.random((ny, nr, ns, no, npl)) < 0.8)
    background = rng.random((ny, npl)) * 10
    total = background[:, None, :] + parts.sum(axis=(2, 3))
    coords = {"year": years, "receptor": ["A", "B", "C"], "sector": SECTORS,
              "origin": ["A", "rest"], "pollutant": pols}  # fmt: skip
    return xr.Dataset(
        {
            "territory_concentration": (("year", "receptor", "pollutant"), total),
            "territory_contribution": (
                ("year", "receptor", "sector", "origin", "pollutant"),
                parts,
            ),
            "exposure": (("year", "territory", "pollutant"), total * 1.1),
            "exposure_contribution": (
                ("year", "receptor", "sector", "origin", "pollutant"),
                parts * 1.1,
            ),
        },
        coords={**coords, "territory": ["A", "B", "C"]},
    )


@settings(max_examples=25, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.floats(0.0, 120.0),
    st.floats(0.0, 1.0),
    st.integers(1, 60),
    st.booleans(),
)
def test_propagate_is_the_ensemble_of_its_factors(seed, half_width, rho, n, no2):
    """Each realization is the total plus each sector's part times (f - 1), f the factors
    monte_carlo draws (NO2 takes NOx's); the percentiles are numpy's over them."""
    rng = np.random.default_rng(seed)
    years = [2010, 2011, 2013]
    pols = ["NOx", "PM10"] + (["NO2"] if no2 else [])
    ds = _outputs(rng, years, pols)
    unc = Uncertainty({"default": half_width, "F_RoadTransport": 2 * half_width}, n, rho, seed)
    got = propagate(ds, unc)
    ones = xr.DataArray(np.ones((3, 3, 2)), dims=("year", "sector", "pollutant"),
                        coords={"year": years, "sector": SECTORS, "pollutant": ["NOx", "PM10"]})  # fmt: skip
    f = monte_carlo(ones, unc)["uncertainty_factor"].values  # (r, year, sector, pollutant)
    for total_name, parts_name, out_name, place in (
        ("territory_concentration", "territory_contribution", "territory_concentration_percentile", "receptor"),
        ("exposure", "exposure_contribution", "exposure_percentile", "territory"),
    ):  # fmt: skip
        total = ds[total_name].values
        parts = ds[parts_name].values.sum(axis=3)  # over origins
        want = np.empty((3, *total.shape))
        for t in range(3):
            for x in range(total.shape[1]):
                for j, p in enumerate(pols):
                    k = ["NOx", "PM10"].index("NOx" if p == "NO2" else p)
                    real = [total[t, x, j] + sum((f[r, t, s, k] - 1.0) * parts[t, x, s, j]
                                                 for s in range(3)) for r in range(n)]  # fmt: skip
                    want[:, t, x, j] = np.percentile(real, [2.5, 50.0, 97.5])
        out = got[out_name]
        assert out.dims == ("percentile", "year", place, "pollutant")
        np.testing.assert_allclose(out.values, want, rtol=1e-12, atol=1e-12)
        assert (np.diff(out.values, axis=0) >= -1e-12).all()  # percentiles in order
    fp = got["emission_factor_percentile"]
    assert fp.sizes["pollutant"] == len(pols)
    if no2:
        assert fp.sel(pollutant="NO2").isnull().all()
    np.testing.assert_allclose(
        fp.sel(pollutant="PM10").values, np.percentile(f[..., 1], [2.5, 50.0, 97.5], axis=0)
    )


def _with_numbers(ds: xr.Dataset, rng: np.random.Generator) -> xr.Dataset:
    """`ds` with a particle-number species (UFP, cm-3) in its own ``*_number`` variables."""
    out = ds.copy()
    number = _outputs(rng, [int(y) for y in ds["year"].values], ["UFP"]) * 1000.0
    for name, da in number.data_vars.items():
        out[f"{name}_number"] = da.rename(pollutant="pollutant_number")
        out[f"{name}_number"].attrs["units"] = "cm-3"
    return out


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(1.0, 120.0), st.integers(2, 40))
def test_number_species_get_their_own_percentiles(seed, half_width, n):
    """The particle-number species' percentiles, on ``pollutant_number``, are those of their
    own draws (seed ``SeedSequence([seed, 1])``); the masses' do not change with them."""
    rng = np.random.default_rng(seed)
    years = [2015, 2016]
    mass = _outputs(rng, years, ["NOx", "NO2"])
    ds = _with_numbers(mass, rng)
    unc = Uncertainty({"default": half_width, ("F_RoadTransport", "UFP"): 3 * half_width},
                      n, 0.8, seed)  # fmt: skip
    got = propagate(ds, unc)
    alone = propagate(mass, unc)
    for name in alone.data_vars:
        assert np.array_equal(got[name].values, alone[name].values, equal_nan=True), name
    derived = int(np.random.SeedSequence([seed, 1]).generate_state(1)[0])
    ones = xr.DataArray(np.ones((2, 3, 1)), dims=("year", "sector", "pollutant"),
                        coords={"year": years, "sector": SECTORS, "pollutant": ["UFP"]})  # fmt: skip
    f = monte_carlo(ones, Uncertainty(unc.half_width, n, 0.8, derived))["uncertainty_factor"]
    f = f.values[..., 0]  # (r, year, sector)
    total = ds["exposure_number"].values[..., 0]  # (year, territory)
    parts = ds["exposure_contribution_number"].values[..., 0].sum(axis=3)  # (year, x, sector)
    real = total[None] + np.einsum("rts,txs->rtx", f - 1.0, parts)
    out = got["exposure_percentile_number"]
    assert out.dims == ("percentile", "year", "territory", "pollutant_number")
    assert out.attrs["units"] == "cm-3"
    np.testing.assert_allclose(out.values[..., 0], np.percentile(real, [2.5, 50, 97.5], axis=0),
                               rtol=1e-12)  # fmt: skip
    fp = got["emission_factor_percentile_number"]
    assert fp.dims == ("percentile", "year", "sector", "pollutant_number")
    np.testing.assert_allclose(fp.values[..., 0], np.percentile(f, [2.5, 50, 97.5], axis=0))
    assert "territory_concentration_percentile_number" in got


def test_no_uncertainty_gives_the_run_values_exactly():
    ds = _outputs(np.random.default_rng(1), [2018, 2019], ["NOx", "NO2"])
    got = propagate(ds, Uncertainty(0.0, realizations=7))
    for p in got["territory_concentration_percentile"].values:
        assert np.array_equal(p, ds["territory_concentration"].values)
    assert (got["emission_factor_percentile"].sel(pollutant="NOx") == 1.0).all()


# ------------------------------------------------------------------ the configuration
def _config(tmp_path: Path, block: str, **over: str) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    cfg = small_config(tmp_path, **over)
    text = cfg.read_text()
    start = text.index("[trajectory.uncertainty]")
    end = text.index("\n\n", start)
    cfg.write_text(text[:start] + "[trajectory.uncertainty]\n" + block + text[end:])
    return cfg


def test_the_uncertainty_section_becomes_the_settings(tmp_path: Path) -> None:
    block = (
        "realizations = 40\nseed = 3\nrho = 0.5\npercentiles = [5, 50, 95]\n"
        "half_width = { default = 20, F = 50, B = { NOx = 10, pm25 = 40 } }\n"
    )
    unc = load_config(_config(tmp_path, block)).trajectory.uncertainty.settings()
    assert unc is not None
    assert (unc.realizations, unc.seed, unc.rho, unc.percentiles) == (40, 3, 0.5, (5.0, 50.0, 95.0))
    assert unc.half_width == {
        "default": 20.0,
        "F_RoadTransport": 50.0,
        ("B_Industry", "NOx"): 10.0,
        ("B_Industry", "PM2.5"): 40.0,
    }
    table = unc.table(["B_Industry", "F_RoadTransport", "J_Waste"], ["NOx", "PM2.5", "SO2"])
    assert table.tolist() == [[10.0, 40.0, 20.0], [50.0, 50.0, 50.0], [20.0, 20.0, 20.0]]
    assert (
        load_config(_config(tmp_path / "z", "realizations = 0\n")).trajectory.uncertainty.settings()
        is None
    )


@pytest.mark.parametrize(
    ("block", "fragments"),
    [
        ("realizations = 10\nhalf_width = { F = 50 }\n", ["half_width", "without 'default'"]),
        ("realizations = 10\nhalf_width = -5\n", ["half_width", "-5.0", ">= 0"]),
        ("realizations = 10\nhalf_width = { default = 10, Q = 5 }\n", ["half_width", "Q"]),
        ("realizations = 10\nrho = 1.5\n", ["rho", "1.5"]),
        ("realizations = 10\npercentiles = [97.5, 2.5]\n", ["percentiles", "increasing"]),
        ("realizations = 10\npercentiles = [2.5, 150]\n", ["percentiles", "150"]),
        ("realizations = 10\nseed = -1\n", ["seed", "-1", "greater than or equal to 0"]),
        ("realizations = 10.5\n", ["realizations", "10.5"]),
        ("realizations = 10\nhalf_widht = 20\n", ["half_widht", "Did you mean 'half_width'"]),
    ],
)
def test_uncertainty_mistakes_are_one_line(tmp_path: Path, block: str, fragments: list[str]):
    with pytest.raises(ConfigError) as info:
        load_config(_config(tmp_path, block))
    line = str(info.value).splitlines()[0]
    assert "[trajectory.uncertainty]" in line
    for part in fragments:
        assert part in line, (part, line)


# ------------------------------------------------------------------ a run
def test_a_run_writes_the_percentiles_and_draws_them(tmp_path: Path) -> None:
    block = "realizations = 200\nseed = 2\nhalf_width = { default = 30, F = 60 }\n"
    cfg = _config(tmp_path, block, **{r"^resolution = [\d.]+": "resolution = 1000.0"})
    out = tmp_path / "u.nc"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        runner.run(cfg, out, progress=False)
    with xr.open_dataset(out) as ds:
        p = ds["territory_concentration_percentile"].load()
        c = ds["territory_concentration"].load()
        assert p.dims == ("percentile", "year", "receptor", "pollutant")
        assert p["percentile"].values.tolist() == [2.5, 50.0, 97.5]
        assert p.attrs["units"] == "ug m-3"
        lo, mid, hi = p.values
        ok = np.isfinite(c.values)
        assert (lo[ok] <= mid[ok]).all() and (mid[ok] <= hi[ok]).all()
        assert (hi[ok] > lo[ok]).any()  # the emissions' spread reaches the concentrations
        # the median stays near the run's value (mean-1 factors; the background is fixed)
        np.testing.assert_allclose(mid[ok], c.values[ok], rtol=0.05)
        assert "exposure_percentile" in ds and "station_concentration_percentile" in ds
        numbers = (
            [str(v) for v in ds["pollutant_number"].values] if "pollutant_number" in ds else []
        )
        for pol in numbers:  # a particle-number species: its own percentiles, in cm-3
            pn = ds["exposure_percentile_number"].sel(pollutant_number=pol)
            assert ds["exposure_percentile_number"].attrs["units"] == "cm-3"
            assert (pn.isel(percentile=-1) >= pn.isel(percentile=0)).all()
        import matplotlib

        matplotlib.use("Agg")
        from trajectoire.plot import trajectories

        fig, ax = trajectories(ds, variable="concentration", territory="ARC", pollutant="NOx")
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert "2.5–97.5 % band" in labels
        import matplotlib.pyplot as plt

        plt.close(fig)


def test_the_ensemble_keys_enter_the_hash_only_with_an_ensemble(tmp_path: Path) -> None:
    """With realizations = 0 the other keys change nothing the run computes: the same hash;
    with an ensemble they do."""
    base = load_config(_config(tmp_path / "a", "realizations = 0\n")).config_hash()
    other = load_config(_config(tmp_path / "b", "realizations = 0\nrho = 0.3\n")).config_hash()
    assert other == base
    one = load_config(_config(tmp_path / "c", "realizations = 10\nrho = 0.3\n")).config_hash()
    two = load_config(_config(tmp_path / "d", "realizations = 10\nrho = 0.5\n")).config_hash()
    assert len({base, one, two}) == 3
