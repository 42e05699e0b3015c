"""Scenario mistakes that need no run: numpy numbers in ``Cut`` and ``Scenario``, and the
"did you mean" of a near-miss sector or territory (probe 6, findings F2 and F3).

The mistakes only an output can tell (a sector or year the run does not have, the years of
``--recompute``) are in ``tests/test_scenario.py``, beside its small run.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from trajectoire import ConfigError
from trajectoire.scenario import Cut, Scenario, load_scenario

ROAD = "F_RoadTransport"


# ------------------------------------------------------------------- F2: numpy numbers
@pytest.mark.parametrize(
    ("fraction", "from_year", "expected"),
    [
        (0.3, np.int64(2023), (0.3, 2023)),  # a year read from an output (ds.year.values[-1])
        (np.float32(0.5), 2020, (0.5, 2020)),
        (np.float64(0.3), np.int32(2020), (0.3, 2020)),
        (np.int64(1), np.uint16(2020), (1.0, 2020)),
        (np.int8(0), 2020, (0.0, 2020)),
    ],
)
def test_a_cut_takes_numpy_numbers_as_python_ones(fraction, from_year, expected):
    """``Cut(..., np.float32(0.3), np.int64(2023))`` said "from_year np.int64(2023) must be
    an integer year" / "fraction np.float32(0.3) must be a number in 0..1"."""
    cut = Cut(ROAD, "mel", fraction, from_year)
    assert (cut.fraction, cut.from_year) == expected
    assert type(cut.fraction) is float and type(cut.from_year) is int
    assert cut == Cut(ROAD, "MEL", expected[0], expected[1])
    s = Scenario("numpy", [cut])
    assert s.first_year == expected[1] and s.active(expected[1]) == (cut,)
    assert json.loads(s.to_json())["cuts"][0]["from_year"] == expected[1]  # JSON-ready


@pytest.mark.parametrize(
    ("fraction", "from_year", "expected"),
    [
        (True, 2020, "fraction True must be a number in 0..1"),
        (np.bool_(True), 2020, "fraction np.True_ must be a number in 0..1"),
        ("0.3", 2020, "fraction '0.3' must be a number in 0..1"),
        (float("nan"), 2020, "fraction nan must be a number in 0..1"),
        (np.float32("nan"), 2020, "must be a number in 0..1"),
        (np.float32(1.5), 2020, "must be a number in 0..1"),
        (np.int64(-1), 2020, "fraction np.int64(-1) must be a number in 0..1"),
        (0.3, 2020.0, "from_year 2020.0 must be an integer year"),
        (0.3, np.float64(2020.0), "from_year np.float64(2020.0) must be an integer year"),
        (0.3, "2020", "from_year '2020' must be an integer year"),
        (0.3, True, "from_year True must be an integer year"),
        (0.3, np.bool_(True), "from_year np.True_ must be an integer year"),
        (0.3, np.int64(1900), "from_year 1900 is before 1960"),
    ],
)
def test_a_cut_still_refuses_what_is_not_a_fraction_or_a_year(fraction, from_year, expected):
    with pytest.raises(ConfigError) as info:
        Cut(ROAD, None, fraction, from_year)
    assert expected in str(info.value) and len(str(info.value).splitlines()) == 1


def test_thresholds_take_numpy_numbers():
    """``thresholds={"NO2": np.float32(20)}`` was "expected a finite number > 0"."""
    s = Scenario(
        "t", [Cut(ROAD, None, 0.3, 2020)], thresholds={"no2": np.float32(20), "PM10": np.int64(15)}
    )
    assert s.thresholds == {"NO2": 20.0, "PM10": 15.0}
    assert all(type(v) is float for v in s.thresholds.values())
    for bad in (np.bool_(True), np.float64("nan"), np.float32(-1.0), "20"):
        with pytest.raises(ConfigError, match=r"expected a finite number > 0"):
            Scenario("t", [Cut(ROAD, None, 0.3, 2020)], thresholds={"NO2": bad})


def test_cuts_that_are_not_cuts_are_one_line():
    """A tuple given for a Cut ended on an AttributeError ('tuple' has no 'sector')."""
    with pytest.raises(ConfigError, match=r"cuts holds \('F', None, 0.3, 2020\) \(tuple\); "):
        Scenario("s", [Cut(ROAD, None, 0.3, 2020), ("F", None, 0.3, 2020)])


# --------------------------------------------------------------- F3: did you mean
def _toml(tmp: Path, cut: str) -> Path:
    p = tmp / "near.toml"
    p.write_text(f'[scenario]\nname = "n"\ncut = [{{ {cut} }}]\n')
    return p


@pytest.mark.parametrize(
    ("cut", "expected"),
    [
        (
            'sector = "F_RoadTransprot", percent = 30, from_year = 2020',
            "sector 'F_RoadTransprot' is not a GNFR sector (did you mean 'F_RoadTransport'?); "
            "valid values: A_PublicPower",
        ),
        (
            'sector = "RoadTransprot", percent = 30, from_year = 2020',
            "(did you mean 'F_RoadTransport'?)",
        ),
        (
            'sector = "F", territory = "MELL", percent = 30, from_year = 2020',
            "territory 'MELL' is unknown (did you mean 'MEL'?); valid values: MEL, CUD",
        ),
        (
            'sector = "F", territory = "Douaisi", percent = 30, from_year = 2020',
            "territory 'Douaisi' is unknown (did you mean 'DOUAISIS'?)",
        ),
    ],
)
def test_a_near_miss_gets_a_did_you_mean(tmp_path, cut, expected):
    p = _toml(tmp_path, cut)
    with pytest.raises(ConfigError) as info:
        load_scenario(p)
    msg = str(info.value)
    assert msg.startswith(f"{p}: [scenario] cut 1: ") and expected in msg
    assert len(msg.splitlines()) == 1
    with pytest.raises(ConfigError, match=r"\(did you mean "):  # from Python too
        Cut("F_RoadTransprot", "MELL", 0.3, 2020)


@pytest.mark.parametrize(
    ("sector", "territory"), [("Z_Nothing", None), ("F_Road", None), (ROAD, "LILLE")]
)
def test_no_did_you_mean_without_a_near_miss(sector, territory):
    """No guess when nothing is close; ``F_Road`` is not offered ``I_OffRoad``."""
    with pytest.raises(ConfigError) as info:
        Cut(sector, territory, 0.3, 2020)
    assert "did you mean" not in str(info.value)
