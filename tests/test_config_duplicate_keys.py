"""Tables of the configuration keyed by ids: two keys naming the same id are an error.

TOML refuses a key written twice, but not two spellings of one id (``B`` and
``B_Industry``, ``no2`` and ``NO2``, ``PM2_5`` and ``PM2.5``): the later value used to
replace the first without a word (``[proxies]`` kept both, and the proxy used depended on
the keys' order). Every such table now says so in one line, as the lists do.
"""

from __future__ import annotations

from operator import attrgetter
from pathlib import Path

import pytest

from fake_pipeline import write_config
from trajectoire.config import load_config
from trajectoire.errors import ConfigError

_HW = "[trajectory.uncertainty]\nrealizations = 10\nhalf_width = "

#: (id, extra TOML, where, first key, second key, the id they both name, its kind)
CASES = [
    (
        "methods",
        '[trajectory.methods]\nB = { kind = "extrapolation" }\n'
        'B_Industry = { kind = "extrapolation", trend = "multiplicative", fit_years = 5, '
        "max_years = 10 }\n",
        "[trajectory.methods]",
        "B",
        "B_Industry",
        "B_Industry",
        "sector",
    ),
    (
        "methods-letter-and-suffix",
        '[trajectory.methods]\nf = "index"\nRoadTransport = "extrapolation"\n',
        "[trajectory.methods]",
        "f",
        "RoadTransport",
        "F_RoadTransport",
        "sector",
    ),
    (
        "methods-per-pollutant",
        '[trajectory.methods]\nF_RoadTransport = { NOx = "index", nox = "extrapolation" }\n',
        "[trajectory.methods] F_RoadTransport",
        "NOx",
        "nox",
        "NOx",
        "pollutant",
    ),
    (
        "half_width",
        _HW + "{ default = 30.0, B = 20.0, B_Industry = 25.0 }\n",
        "[trajectory.uncertainty] half_width",
        "B",
        "B_Industry",
        "B_Industry",
        "sector",
    ),
    (
        "half_width-per-pollutant",
        _HW + '{ default = 30.0, F = { PM2_5 = 20.0, "PM2.5" = 25.0 } }\n',
        "[trajectory.uncertainty] half_width.F",
        "PM2_5",
        "PM2.5",
        "PM2.5",
        "pollutant",
    ),
    (
        "proxies",
        '[proxies]\nC = "population"\nC_OtherStationaryComb = "area"\n',
        "[proxies]",
        "C",
        "C_OtherStationaryComb",
        "C_OtherStationaryComb",
        "sector",
    ),
    (
        "release_height",
        "[dispersion]\nrelease_height = { C_OtherStationaryComb = 8.0, c = 12.0 }\n",
        "[dispersion.release_height]",
        "C_OtherStationaryComb",
        "c",
        "C_OtherStationaryComb",
        "sector",
    ),
    (
        "initial_sigma_z",
        "[dispersion]\ninitial_sigma_z = { F = 1.5, RoadTransport = 2.0 }\n",
        "[dispersion.initial_sigma_z]",
        "F",
        "RoadTransport",
        "F_RoadTransport",
        "sector",
    ),
    (
        "deposition_velocity",
        "[dispersion]\ndeposition_velocity = { no2 = 0.001, NO2 = 0.002 }\n",
        "[dispersion.deposition_velocity]",
        "no2",
        "NO2",
        "NO2",
        "pollutant",
    ),
    (
        "fno2",
        "[no2.fno2]\nF = { 1990 = 0.05 }\nF_RoadTransport = { 2010 = 0.20 }\n",
        "[no2.fno2]",
        "F",
        "F_RoadTransport",
        "F_RoadTransport",
        "sector",
    ),
    (
        "fno2-years",
        '[no2.fno2]\nF_RoadTransport = { 1990 = 0.05, "01990" = 0.20 }\n',
        "[no2.fno2] F_RoadTransport",
        "1990",
        "01990",
        1990,
        "year",
    ),
    (
        "exposure-thresholds",
        '[exposure.thresholds]\n"my limit" = { "PM2.5" = 8.0, pm2_5 = 10.0 }\n',
        "[exposure.thresholds] 'my limit'",
        "PM2.5",
        "pm2_5",
        "PM2.5",
        "pollutant",
    ),
]


@pytest.mark.parametrize(
    ("extra", "where", "first", "second", "canon", "kind"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_two_keys_naming_one_id_are_refused_in_one_line(
    tmp_path: Path, extra: str, where: str, first: str, second: str, canon: object, kind: str
) -> None:
    path = write_config(tmp_path, extra=extra)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    msg = str(info.value)
    assert "\n" not in msg and "more problem" not in msg, msg
    assert msg == (
        f"{path}: {where}: {first!r} and {second!r} both name {kind} {canon!r}; a table "
        f"gives each {kind} once: keep one of the two keys."
    )


#: (id, extra TOML, the attribute read, what it holds): distinct ids, aliases included
VALID = [
    (
        "methods",
        '[trajectory.methods]\nB = "index"\nf = { nox = "extrapolation", PM10 = "index" }\n',
        "trajectory.methods",
        {"B_Industry": "index", "F_RoadTransport": {"NOx": "extrapolation", "PM10": "index"}},
    ),
    (
        "half_width",
        _HW + "{ default = 30.0, b = 20.0, F = { pm2_5 = 50.0, NOx = 40.0 } }\n",
        "trajectory.uncertainty.half_width",
        {"default": 30.0, "B_Industry": 20.0, "F_RoadTransport": {"PM2.5": 50.0, "NOx": 40.0}},
    ),
    (
        "proxies",
        '[proxies]\nC = "population"\nB_Industry = ["built_up", "area"]\n',
        "proxies.model_extra",
        {"C": "population", "B_Industry": ["built_up", "area"]},
    ),
    (
        "release_height",
        "[dispersion]\nrelease_height = { c = 8.0, B = 20.0 }\n",
        "dispersion.release_height",
        {"C_OtherStationaryComb": 8.0, "B_Industry": 20.0},
    ),
    (
        "initial_sigma_z",
        "[dispersion]\ninitial_sigma_z = { F = 1.5, c = 3.0 }\n",
        "dispersion.initial_sigma_z",
        {"F_RoadTransport": 1.5, "C_OtherStationaryComb": 3.0},
    ),
    (
        "deposition_velocity",
        "[dispersion]\ndeposition_velocity = { pm10 = 0.003, NOx = 0.001 }\n",
        "dispersion.deposition_velocity",
        {"PM10": 0.003, "NOx": 0.001},
    ),
    (
        "fno2",
        "[no2.fno2]\nF = { 1990 = 0.05, 2010 = 0.20 }\nC = { 1990 = 0.05 }\n",
        "no2.fno2",
        {"F_RoadTransport": {1990: 0.05, 2010: 0.20}, "C_OtherStationaryComb": {1990: 0.05}},
    ),
    (
        "exposure-thresholds",
        '[exposure.thresholds]\n"a" = { no2 = 20.0, pm2_5 = 5.0 }\n"b" = { NO2 = 30.0 }\n',
        "exposure.thresholds",
        {"a": {"NO2": 20.0, "PM2.5": 5.0}, "b": {"NO2": 30.0}},
    ),
]


@pytest.mark.parametrize(
    ("extra", "attribute", "expected"),
    [case[1:] for case in VALID],
    ids=[case[0] for case in VALID],
)
def test_one_key_per_id_still_loads_as_before(
    tmp_path: Path, extra: str, attribute: str, expected: object
) -> None:
    path = write_config(tmp_path, pollutants=("NOx", "PM10", "PM2.5", "NO2"), extra=extra)
    cfg = load_config(path)
    assert attrgetter(attribute)(cfg) == expected


def test_the_same_sector_in_two_tables_is_no_duplicate(tmp_path: Path) -> None:
    extra = (
        '[proxies]\nF = "roads"\n[trajectory.methods]\nF_RoadTransport = "index"\n'
        "[dispersion]\nrelease_height = { RoadTransport = 0.5 }\n"
    )
    cfg = load_config(write_config(tmp_path, extra=extra))
    assert cfg.proxies.wanted() == {"F": "roads"}
    assert cfg.trajectory.methods == {"F_RoadTransport": "index"}
    assert cfg.dispersion.release_height == {"F_RoadTransport": 0.5}
