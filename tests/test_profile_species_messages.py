"""Messages of the temporal-profile CSV files and of the species files (probe 5, F6 and F7).

F6: a CSV profile showed its index as a numpy repr (``index np.float64(0.0) of month``), a
missing month 12 as the 0-based ``index(es) [11]``, and took a repeated row silently (the
second one replaced the first: only the sum was said wrong, and with ``normalise=True``
nothing). F7: a species-file mistake took two lines and did not say the line of the file.
Each is now one line naming the file, the line, the field, the value and the fix.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from trajectoire import InputError
from trajectoire.inventory.temporal import load_temporal_profiles
from trajectoire.species import load_species, read_species

HEADER = "key,profile,index,value\n"


def _one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
    text = str(exc.value)
    assert "\n" not in text, text
    return text


def _csv(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "profiles.csv"
    path.write_text(HEADER + "".join(r + "\n" for r in rows))
    return path


def _part(key: str, prof: str, first: int, n: int, value: float) -> list[str]:
    return [f"{key},{prof},{i},{value!r}" for i in range(first, first + n)]


MONTHS = _part("L_AgriOther", "month", 1, 12, 1 / 12)
WEEKDAYS = _part("F", "weekday", 1, 7, 1 / 7)
HOURS = _part("F", "hour", 0, 24, 1 / 24)


# ------------------------------------------------------------------ F6 (a): the index as written
@pytest.mark.parametrize(
    ("rows", "line", "said"),
    [
        (["L_AgriOther,month,0,0.1", *MONTHS[1:]], 2, "month 0 of profile 'L_AgriOther'"),
        ([*MONTHS[:11], "L_AgriOther,month,13,0.1"], 13, "month 13 of profile 'L_AgriOther'"),
        ([*MONTHS[:11], "L_AgriOther,month,2.5,0.1"], 13, "month 2.5 of profile 'L_AgriOther'"),
        (["F,weekday,8,0.1", *WEEKDAYS[1:]], 2, "weekday 8 of profile 'F'"),
        ([*HOURS[:23], "F,hour,24,0.1"], 25, "hour 24 of profile 'F'"),
        (["F,hour_factors,-1,1", *_part("F", "hour_factors", 1, 23, 1.0)], 2, "hour -1"),
    ],
    ids=["month 0", "month 13", "month 2.5", "weekday 8", "hour 24", "hour factors -1"],
)
def test_an_index_out_of_range_is_said_as_written(
    tmp_path: Path, rows: list[str], line: int, said: str
) -> None:
    path = _csv(tmp_path, rows)
    with pytest.raises(InputError) as exc:
        load_temporal_profiles(path)
    text = _one_line(exc)
    assert f"{path}, line {line}: column 'index': {said}" in text, text
    assert "np.float64" not in text and "expected an integer" in text
    assert "number the" in text  # the fix: how the file numbers them


# ---------------------------------------------------------- F6 (b): missing values, 1-based
@pytest.mark.parametrize(
    ("rows", "said"),
    [
        (MONTHS[:11], "no row for month(s) 12; expected one row for each of 1..12"),
        (MONTHS[1:], "no row for month(s) 1; expected one row for each of 1..12"),
        (WEEKDAYS[:5], "no row for weekday(s) 6, 7; expected one row for each of 1..7"),
        (HOURS[:20] + HOURS[21:], "no row for hour(s) 20; expected one row for each of 0..23"),
        (
            [r for i, r in enumerate(HOURS) if i not in (0, 5, 6, 7)],
            "no row for hour(s) 0, 5..7;",
        ),
    ],
    ids=["month 12", "month 1", "weekdays 6 7", "hour 20", "hours 0 5-7"],
)
def test_missing_values_are_numbered_as_the_file_numbers_them(
    tmp_path: Path, rows: list[str], said: str
) -> None:
    path = _csv(tmp_path, rows)
    with pytest.raises(InputError) as exc:
        load_temporal_profiles(path, normalise=True)
    text = _one_line(exc)
    assert said in text, text
    assert str(path) in text and "lines 2.." in text and "add the missing row" in text


# --------------------------------------------------------------- F6 (c): a repeated index
@pytest.mark.parametrize("normalise", [False, True])
@pytest.mark.parametrize(
    ("rows", "said"),
    [
        (
            [*MONTHS, "L_AgriOther,month,3,0.5"],
            "line 14: column 'index': month 3 of profile 'L_AgriOther' (month) is given again "
            "(0.5; first at line 4: 0.0833333)",
        ),
        (
            [*MONTHS[:11], "L_AgriOther,month,11,0.0833333333333333"],
            "line 13: column 'index': month 11 of profile 'L_AgriOther' (month) is given again",
        ),
        (
            [*WEEKDAYS, "F,weekday,7,0.2"],
            "line 9: column 'index': weekday 7 of profile 'F' (weekday) is given again "
            "(0.2; first at line 8",
        ),
        (
            [*HOURS[:5], "F,hour,0,0.01", *HOURS[5:]],
            "line 7: column 'index': hour 0 of profile 'F' (hour) is given again "
            "(0.01; first at line 2",
        ),
        (
            [*_part("F", "month_factors", 1, 12, 1.0), "F,month_factors,12,1"],
            "line 14: column 'index': month 12 of profile 'F' (month_factors) is given again",
        ),
    ],
    ids=["month 3 again", "month 11 for 12", "weekday 7", "hour 0", "month factors"],
)
def test_a_repeated_index_is_refused(
    tmp_path: Path, rows: list[str], said: str, normalise: bool
) -> None:
    """The second row replaced the first: only the sum was said wrong, or (normalise=True)
    nothing at all."""
    path = _csv(tmp_path, rows)
    with pytest.raises(InputError) as exc:
        load_temporal_profiles(path, normalise=normalise)
    text = _one_line(exc)
    assert f"{path}, {said}" in text, text
    assert "delete one of the two rows or fix its index" in text


def test_one_key_written_two_ways_is_refused(tmp_path: Path) -> None:
    """``F`` and ``F_RoadTransport`` are one sector: the second profile replaced the first."""
    path = _csv(
        tmp_path,
        _part("F", "month", 1, 12, 1 / 12) + _part("F_RoadTransport", "month", 1, 12, 1 / 12),
    )
    with pytest.raises(InputError) as exc:
        load_temporal_profiles(path)
    text = _one_line(exc)
    assert "profiles 'F' and 'F_RoadTransport' are the same key 'F_RoadTransport'" in text


def test_valid_profiles_read_as_before(tmp_path: Path) -> None:
    """A complete file reads without a warning, its numbers unchanged (rows in any order)."""
    month = np.arange(1, 13, dtype=float)
    month /= month.sum()
    rows = [f"L_AgriOther,month,{i + 1},{float(v)!r}" for i, v in enumerate(month)][::-1]
    rows += WEEKDAYS + HOURS
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prof = load_temporal_profiles(_csv(tmp_path, rows)).profile("L_AgriOther")
        road = load_temporal_profiles(_csv(tmp_path, WEEKDAYS + HOURS)).profile("F")
    np.testing.assert_array_equal(prof.month, month / month.sum())
    np.testing.assert_array_equal(road.hour, np.full(24, 1 / 24) / np.full(24, 1 / 24).sum())


# ------------------------------------------------------------------- F7: species files
def _species(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "my_species.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            '# particle numbers\n\n[species.PN23]\nname = "PN23"\nunit_family = "number"\n'
            'emission_units = "t yr-1"\n',
            "line 6: species 'PN23': emission_units = 't yr-1' is a mass unit",
        ),
        (
            '[species.UFP]\nunit_family = "mass"\n',
            "line 2: species 'UFP': unit_family = 'mass' changes the family",
        ),
        (
            '[species.X]\nname = "x"\nunit_family = "mass"\ncolour = 1\n',
            "line 4: species 'X': unknown field 'colour'",
        ),
        (
            '[species.X]\nname = "x"\n',
            "line 1: species 'X': new species without 'unit_family'",
        ),
        (
            '[species.PFOS]\nname = "PFOS"\nunit_family = "mass"\nmolar_mass = 0.5\n',
            "line 4: species 'PFOS': molar_mass = 0.5 g mol-1 is below",
        ),
        (
            "[species.NOx]\nmolar_mass = 46.0\n\n[[species.NOx.thresholds]]\nvalue = 5.0\n"
            'units = "ug m-3"\naveraging = "year"\nlabel = "x"\n',
            "line 4: species 'NOx': thresholds[0]: missing 'source'",
        ),
        (
            '[species.X]\nname = "x"\nunit_family = "mass"\n\n[species.X.properties]\n'
            'a = 1.0\nb = "q"\n',
            "line 7: species 'X': properties.b = 'q'; expected a number",
        ),
        (
            '[species.X]\nname = "x"\nunit_family = "mass"\naliases = ["nox"]\n',
            "line 4: species 'X': alias 'nox' already names species 'NOx'",
        ),
        (
            '[species.X]\nname = "x"\nunit_family = "mass"\nprecursor = "NOX2"\n',
            "line 4: species 'X': precursor 'NOX2' is not a species",
        ),
        (
            '[species."PM2.5"]\n\ndeposition_velocity = -0.3\n',
            "line 3: species 'PM2.5': deposition_velocity = -0.3; expected 0 <= v_d <= 1",
        ),
    ],
    ids=[
        "mass units",
        "family",
        "unknown field",
        "no unit_family",
        "kg per mol",
        "threshold",
        "property",
        "alias",
        "precursor",
        "quoted id",
    ],
)
def test_a_species_file_mistake_is_one_line_with_its_line(
    tmp_path: Path, text: str, said: str
) -> None:
    path = _species(tmp_path, text)
    with pytest.raises(InputError) as exc:
        load_species(path)
    line = _one_line(exc)
    assert line.startswith(f"{path}, {said}"), line


def test_several_mistakes_first_on_the_first_line(tmp_path: Path) -> None:
    """As the configuration's errors: the first mistake whole on the first line, then one
    line each."""
    path = _species(
        tmp_path,
        '[species.X]\nname = "x"\nunit_family = "number"\nemission_units = "kg/yr"\n'
        "deposition_velocity = 2.0\n",
    )
    with pytest.raises(InputError) as exc:
        load_species(path)
    lines = str(exc.value).splitlines()
    assert len(lines) == 3, lines
    assert lines[0].startswith(f"{path}, line 4: species 'X': emission_units = 'kg/yr'")
    assert lines[1] == "  (1 more mistake):"
    assert lines[2].startswith(f"  {path}, line 5: species 'X': deposition_velocity = 2.0")


def test_a_species_table_in_memory_has_no_line() -> None:
    data = {"species": {"X": {"name": "x", "unit_family": "mass", "half_life": -1.0}}}
    with pytest.raises(InputError) as exc:
        read_species(data, what="my table")
    line = _one_line(exc)
    assert line.startswith("my table: species 'X': half_life = -1.0; expected a number > 0")


def test_a_valid_species_file_reads_without_a_word(tmp_path: Path) -> None:
    path = _species(
        tmp_path,
        '[species.PFOS]\nname = "PFOS"\nunit_family = "mass"\nmolar_mass = 500.13\n'
        "deposition_velocity = 0.001\n",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reg = load_species(path)
    assert reg["PFOS"].molar_mass == 500.13 and reg["PFOS"].deposition_velocity == 0.001
