"""The real-data example runs from its configuration alone (issue 12).

``examples/hauts-de-france/config.toml`` reads the region's open data in ``../shared/data``
as it is (territories, communes and their INSEE population, IREP sites, Eurostat series,
stations); only the IREP sites' emission amounts and the meteorology are labelled
illustrative or synthetic. Skipped where ``../shared`` is absent.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest
import xarray as xr

from trajectoire.cli import main
from trajectoire.errors import TrajectoireWarning

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "hauts-de-france" / "config.toml"
#: where the example's relative paths lead (``../../../shared/data`` from its folder)
EXAMPLE_DATA = REPO.parent / "shared" / "data"

pytestmark = pytest.mark.requires_shared


@pytest.fixture(scope="module")
def output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not EXAMPLE_DATA.is_dir():
        pytest.skip(f"real open data not found at {EXAMPLE_DATA}")
    out = tmp_path_factory.mktemp("hdf") / "hdf.nc"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = main(["run", str(EXAMPLE), "--out", str(out), "--years", "2018:2019", "-q"])
    assert code == 0
    said = [str(w.message) for w in caught if issubclass(w.category, TrajectoireWarning)]
    # what the real data lack is said, never dropped in silence
    assert any("no air emission row" in m for m in said)  # IREP sites without amounts
    assert any("60054" in m for m in said)  # communes without some census values
    return out


def test_the_example_has_the_seven_territories(output: Path) -> None:
    with xr.open_dataset(output) as ds:
        assert sorted(map(str, ds["territory"].values)) == sorted(
            ["MEL", "CUD", "DOUAISIS", "CCHF", "ACSO", "ARC", "CCVT"]
        )
        assert [int(y) for y in ds["year"].values] == [2018, 2019]
        conc = ds["concentration"].sel(pollutant="NOx", year=2019)
        assert float(conc.max()) > 0  # the illustrative stacks were dispersed
        # the emissions' uncertainty reaches the territory means near the sites
        p = ds["territory_concentration_percentile"].sel(pollutant="NOx", year=2019)
        assert (p.sel(percentile=97.5) >= p.sel(percentile=2.5)).all()
        assert float((p.sel(percentile=97.5) - p.sel(percentile=2.5)).max()) > 0


def test_population_per_territory_matches_insee(output: Path) -> None:
    """The inhabitants the exposure weighs are INSEE's legal population (within 0.5 %)."""
    ref = pd.read_csv(EXAMPLE_DATA / "population" / "population_territoires_cog2026.csv")
    ref = ref.set_index("territoire")
    with xr.open_dataset(output) as ds:
        for t in map(str, ds["territory"].values):
            used = float(ds["population_total"].sel(year=2019, territory=t))
            assert used == pytest.approx(float(ref.loc[t, "pmun_2019"]), rel=5e-3), t


def test_stations_are_read_from_the_real_file(output: Path) -> None:
    with xr.open_dataset(output) as ds:
        stations = set(map(str, ds["station"].values))
    real = pd.read_csv(EXAMPLE_DATA / "stations" / "stations_hdf_lcsqa2021_rtelga.csv")
    assert stations and stations <= set(real["code_station"])
