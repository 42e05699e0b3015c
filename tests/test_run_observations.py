"""A run's observations and background against the years and units it is given (probe 15).

The sample's inputs on a small domain (``test_bad_inputs._mini``: ACSO and ARC, 1 km,
2017-2018, two stations inside the grid), run through the command line in-process:

* a ``units`` column in ``[inputs] observations`` is honoured for every species (it was
  read only for particle numbers: NO2 in ppb was written as ug m-3, 1.9 times too low);
* ``--years`` narrows the check of the background table's years, as its message says.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from test_bad_inputs import _mini, _own
from trajectoire.cli import main

# the small domain leaves roads and zones of the sample outside its grid (warned, not errors)
pytestmark = pytest.mark.filterwarnings("ignore::trajectoire.errors.TrajectoireWarning")

#: ug m-3 of NO2 and SO2 per ppb at 293.15 K and 101.325 kPa (M / molar volume)
NO2_PER_PPB = 46.0055 * 101_325.0 / (8.314462618 * 293.15) * 1e-3


def test_a_units_column_of_the_observations_is_converted(tmp_path: Path, capsys) -> None:
    """NO2 in ppb, PM10 in ng m-3, PM2.5 in ug m-3 in one file: the run writes each in ug m-3
    (ppb x 1.9125, ng / 1000) and says in its log what it converted. Before, the ppb were
    written unchanged and the ng m-3 refused as "far above anything measured"."""
    d = tmp_path / "run"
    cfg = _mini(d)
    path = _own(d, "observations_annual.csv")
    table = pd.read_csv(path)
    given = table.copy()
    no2, pm10 = table["pollutant"] == "NO2", table["pollutant"] == "PM10"
    given.loc[no2, "value"] = (table.loc[no2, "value"] / NO2_PER_PPB).round(6)
    given.loc[pm10, "value"] = table.loc[pm10, "value"] * 1000.0
    given["units"] = np.where(no2, "ppb", np.where(pm10, "ng m-3", "ug m-3"))
    given.to_csv(path, index=False)
    out = tmp_path / "out.nc"
    assert main(["run", str(cfg), "--out", str(out)]) == 0  # its log on stderr
    log = capsys.readouterr().err
    assert "observations_annual.csv ([inputs] observations): column 'units':" in log
    assert "row(s) in ppb, " in log and "row(s) in ng m-3 converted to ug m-3" in log
    with xr.open_dataset(out) as ds:
        written = ds["station_observation"].to_series().dropna()
        assert ds["station_observation"].attrs["units"] == "ug m-3"
    assert len(written) >= 6
    expected = table.set_index(["year", "station_id", "pollutant"])["value"]
    for (year, station, pol), value in written.items():
        assert value == pytest.approx(expected[(year, station, pol)], rel=1e-5), (year, station)


def test_an_unknown_unit_in_the_observations_is_one_line(tmp_path: Path, capsys) -> None:
    """Exit 2 and one line naming the file and its key, the line, the column, the unit and
    the units expected."""
    d = tmp_path / "run"
    cfg = _mini(d)
    path = _own(d, "observations_annual.csv")
    table = pd.read_csv(path)
    table["units"] = "ug m-3"
    table.loc[3, "units"] = "ug/furlong"
    table.to_csv(path, index=False)
    assert main(["run", str(cfg), "--out", str(tmp_path / "out.nc"), "-q"]) == 2
    err = [ln for ln in capsys.readouterr().err.splitlines() if "error" in ln]
    assert len(err) == 1, err
    for part in ("observations_annual.csv ([inputs] observations)", "line 5",
                 "column 'units'", "'ug/furlong'", "expected one of", "ug m-3"):  # fmt: skip
        assert part in err[0], (part, err[0])


def test_years_narrow_the_background_check(tmp_path: Path, capsys) -> None:
    """A background table with 2018 only, the configuration 2017-2018: the whole run is
    refused naming 2017 and the fixes; ``--years 2018`` (one of the fixes the message
    gives) runs. Before, it was refused the same with --years 2018."""
    d = tmp_path / "run"
    cfg = _mini(d)
    path = _own(d, "background.csv")
    bg = pd.read_csv(path)
    bg[bg["year"] == 2018].to_csv(path, index=False)
    assert main(["run", str(cfg), "--out", str(tmp_path / "all.nc"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "background.csv ([inputs] background): no background for years [2017]" in err
    assert "--years" in err
    out = tmp_path / "2018.nc"
    assert main(["run", str(cfg), "--out", str(out), "--years", "2018", "-q"]) == 0
    with xr.open_dataset(out) as ds:
        assert ds["year"].values.tolist() == [2018]
        assert float(ds["background"].sel(year=2018, pollutant="NO2")) == pytest.approx(
            float(bg[(bg["year"] == 2018) & (bg["pollutant"] == "NO2")]["value"].iloc[0])
        )
