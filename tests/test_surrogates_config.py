"""The surrogate method from a run's configuration: ``[inputs] surrogates`` and the methods a
configuration cannot feed (interpolation without anchors, a surrogate without a driver)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from test_pipeline import small_config
from trajectoire import TrajectoireWarning
from trajectoire import pipeline as P
from trajectoire.config import load_config
from trajectoire.errors import ConfigError, InputError, MissingVariableError
from trajectoire.trajectory.trends import read_surrogates

DRIVER = {2016: 80.0, 2017: 90.0, 2018: 100.0, 2019: 130.0}


def _surrogates(d: Path, text: str | None = None) -> Path:
    path = d / "drivers.csv"
    if text is None:
        rows = "".join(f"vkm,{y},{v},Mveh.km\n" for y, v in DRIVER.items())
        text = "driver,year,value,unit\n" + rows + "heads,2018,5,head\n"
    path.write_text(text)
    return path


def _config(d: Path, methods: str, surrogates: bool = True) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    cfg = small_config(d)
    text = cfg.read_text()
    if surrogates:
        text = text.replace("[inputs]\n", f'[inputs]\nsurrogates = "{_surrogates(d)}"\n', 1)
    text, n = re.subn(r"(?m)^\[trajectory\.methods\]\n", f"[trajectory.methods]\n{methods}\n", text)
    assert n == 1
    cfg.write_text(text)
    return cfg


def test_a_sector_follows_its_driver(tmp_path: Path) -> None:
    """F_RoadTransport's emissions follow the vehicle-km ratio to the reference year, every
    pollutant alike; the other sectors keep their trend index."""
    road = 'F_RoadTransport = { kind = "surrogate", driver = "vkm" }'
    lead = load_config(_config(tmp_path / "a", road))
    (tmp_path / "b").mkdir()
    plain = load_config(small_config(tmp_path / "b"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        got, ref = P.prepare(lead), P.prepare(plain)
    w = got.basis_weight.sel(sector="F_RoadTransport")
    ratio = w / w.sel(year=2018)
    for year in got.years:
        want = DRIVER[year] / DRIVER[2018]
        vals = ratio.sel(year=year).values
        vals = vals[np.isfinite(vals)]
        assert vals.size and np.allclose(vals, want, rtol=1e-12), (year, vals, want)
    other = got.basis_weight.sel(sector="C_OtherStationaryComb")
    np.testing.assert_array_equal(
        other.values, ref.basis_weight.sel(sector="C_OtherStationaryComb").values
    )
    assert not np.allclose(
        ratio.sel(year=2016).values,
        (
            ref.basis_weight.sel(sector="F_RoadTransport")
            / ref.basis_weight.sel(sector="F_RoadTransport", year=2018)
        )
        .sel(year=2016)
        .values,
        equal_nan=True,
    )


def test_a_driver_missing_from_the_file_names_file_and_drivers(tmp_path: Path) -> None:
    cfg = load_config(_config(tmp_path, 'F = { kind = "surrogate", driver = "vkn" }'))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        with pytest.raises(MissingVariableError) as info:
            P.prepare(cfg)
    msg = str(info.value)
    for part in (
        "drivers.csv ([inputs] surrogates)",
        "'vkn'",
        "F_RoadTransport",
        "['heads', 'vkm']",
    ):
        assert part in msg, (part, msg)


@pytest.mark.parametrize(
    ("methods", "surrogates", "fragments"),
    [
        (
            'F = { kind = "surrogate", driver = "vkm" }',
            False,
            ["[trajectory.methods] F_RoadTransport", "[inputs] surrogates"],
        ),
        (
            'F = "surrogate"',
            True,
            ["[trajectory.methods] F:", "names no driver", 'kind = "surrogate"'],
        ),
        (
            'F = { NOx = "index", PM10 = { kind = "surrogate", driver = "vkm" } }',
            False,
            ["[trajectory.methods] F_RoadTransport.PM10", "[inputs] surrogates"],
        ),
        ('B = "interpolation"', True, ["[trajectory.methods] B_Industry", "anchor", "2018"]),
    ],
)
def test_methods_a_configuration_cannot_feed_are_refused_when_read(
    tmp_path: Path, methods: str, surrogates: bool, fragments: list[str]
) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(_config(tmp_path, methods, surrogates))
    msg = str(info.value)
    for part in fragments:
        assert part in msg, (part, msg)


@pytest.mark.parametrize(
    ("method", "fragment"),
    [("surrogate", "names no driver"), ("interpolation", "anchor inventories")],
)
def test_a_default_method_a_configuration_cannot_feed(
    tmp_path: Path, method: str, fragment: str
) -> None:
    cfg = small_config(tmp_path)
    text = cfg.read_text().replace('default_method = "index"', f'default_method = "{method}"')
    cfg.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(cfg)
    assert "[trajectory] default_method" in str(info.value) and fragment in str(info.value)


def test_read_surrogates(tmp_path: Path) -> None:
    table = read_surrogates(_surrogates(tmp_path))
    assert list(table.columns) == ["driver", "year", "value"]
    assert table["year"].dtype == np.int64 and table["value"].dtype == np.float64
    assert table["driver"].tolist() == ["heads"] + ["vkm"] * 4
    pd.testing.assert_series_equal(
        table.loc[table["driver"] == "vkm", "value"].reset_index(drop=True),
        pd.Series(list(DRIVER.values()), name="value"),
    )


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("driver,year,value\nvkm,2018,-1\n", ["line 2", "negative", "-1"]),
        ("driver,year,value\nvkm,2018,1\n,2019,2\n", ["line 3", "empty driver"]),
        ("driver,year,value\nvkm,2018.5,1\n", ["line 2", "not whole", "2018.5"]),
        ("driver,year,value\nvkm,2018,1\nvkm,2019,2\nvkm,2018,3\n", ["line 2, line 4", "twice"]),
        ("driver,year,value\nvkm,2018,many\n", ["line 2", "'many'"]),
        ("driver,year\nvkm,2018\n", ["value"]),
    ],
)
def test_read_surrogates_refuses_a_bad_row_in_one_line(
    tmp_path: Path, text: str, fragments: list[str]
) -> None:
    with pytest.raises((InputError, MissingVariableError)) as info:
        read_surrogates(_surrogates(tmp_path, text))
    msg = str(info.value)
    assert "\n" not in msg and "drivers.csv" in msg
    for part in fragments:
        assert part in msg, (part, msg)


@pytest.mark.parametrize("folder", [False, True])
def test_read_surrogates_without_a_file(tmp_path: Path, folder: bool) -> None:
    path = tmp_path / "drivers.csv"
    if folder:
        path.mkdir()
    with pytest.raises(
        InputError, match=r"surrogates file .*(does not exist|is a folder).*\[inputs\] surrogates"
    ):
        read_surrogates(path)
