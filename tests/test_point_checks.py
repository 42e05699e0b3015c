"""The inventory's checks of point sources (issue 13): stacks in the wrong CRS, outside the
grid, or with impossible stack parameters are named one by one, with the rule applied.

Every message is asserted to name the file, the source id, the field, the offending value and
the fix (the rule applied, or the config key ``[inputs] point_sources``).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj
import pytest

from trajectoire import Grid, InputError, TrajectoireWarning
from trajectoire.inventory import build_inventory, check_stacks, read_point_sources

X0, Y0 = 700_000.0, 7_000_000.0
GRID = Grid.from_bounds(X0, Y0, X0 + 5000, Y0 + 4000, 100)
COLUMNS = [
    "source_id",
    "name",
    "x",
    "y",
    "sector",
    "height",
    "diameter",
    "temperature",
    "velocity",
    "NOx",
]


def stacks(n: int = 3) -> pd.DataFrame:
    """`n` valid stacks inside :data:`GRID`, ids ``S1``..``Sn``."""
    rows = [
        [f"S{i + 1}", f"plant {i + 1}", X0 + 500 + 37 * i, Y0 + 500 + 29 * i, "B"]
        + [40.0, 2.0, 400.0, 10.0, 1.0 + i]
        for i in range(n)
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


def build(tmp_path: Path, df: pd.DataFrame, name: str = "stacks.csv", **kw):
    path = tmp_path / name
    df.to_csv(path, index=False)
    return build_inventory(GRID, reference_year=2019, point_sources=path, **kw)


def one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
    msg = str(exc.value)
    assert "\n" not in msg
    return msg


# ---------------------------------------------------------------- valid stacks: unchanged
def test_valid_stacks_pass_without_warning(tmp_path: Path) -> None:
    df = stacks()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = build(tmp_path, df)
    assert ds["source"].values.tolist() == ["S1", "S2", "S3"]
    np.testing.assert_array_equal(ds["source_x"].values, df["x"].to_numpy())
    np.testing.assert_array_equal(ds["stack_diameter"].values, df["diameter"].to_numpy())


def test_limits_of_the_rules_are_valid(tmp_path: Path) -> None:
    """Height 0 (ground release), velocity 0 and -50 degC exactly are possible stacks (the
    height of 0 m is warned about: often a height not filled in)."""
    df = stacks()
    df.loc[0, "height"] = 0.0
    df.loc[1, "velocity"] = 0.0
    df.loc[2, "temperature"] = 223.15
    with pytest.warns(TrajectoireWarning, match=r"doubtful height \[m\]: source_id S1 = 0;"):
        assert build(tmp_path, df).sizes["source"] == 3


# ---------------------------------------------------------------- wrong CRS
def test_degrees_in_a_projected_crs_name_file_ids_values_and_fix(tmp_path: Path) -> None:
    df = stacks(8)
    df["x"] = 3.05 + 0.01 * np.arange(8)
    df["y"] = 50.6
    with pytest.raises(InputError) as exc:
        build(tmp_path, df)
    msg = one_line(exc)
    assert "stacks.csv" in msg
    assert "8 stack(s) of 8 look like degrees of longitude/latitude" in msg
    assert "EPSG:2154" in msg and "metre" in msg
    assert "S1 (x=3.05, y=50.6)" in msg and "S5 (x=3.09, y=50.6)" in msg
    assert "S6" not in msg and "(and 3 more)" in msg
    assert "'lon' and 'lat'" in msg and "crs='EPSG:4326'" in msg
    assert "[inputs] point_sources" in msg


def test_one_stack_in_degrees_among_metres_is_named(tmp_path: Path) -> None:
    df = stacks()
    df.loc[1, ["x", "y"]] = [3.1, 50.55]
    with pytest.raises(InputError, match=r"stacks.csv: the positions of 1 stack\(s\) of 3 .*S2"):
        build(tmp_path, df)


def test_metres_read_as_degrees(tmp_path: Path) -> None:
    df = stacks().rename(columns={"x": "lon", "y": "lat"})
    with pytest.raises(InputError) as exc:
        build(tmp_path, df)
    msg = one_line(exc)
    assert "stacks.csv" in msg and "cannot be degrees" in msg and "EPSG:4326" in msg
    assert "S1 (x=700500, y=7.0005e+06)" in msg
    assert "[inputs] point_sources" in msg


def test_right_crs_given_reads_degrees(tmp_path: Path) -> None:
    df = stacks()
    tr = pyproj.Transformer.from_crs("EPSG:2154", "EPSG:4326", always_xy=True)
    df["x"], df["y"] = tr.transform(df["x"].to_numpy(), df["y"].to_numpy())
    df.to_csv(tmp_path / "deg.csv", index=False)
    pts = read_point_sources(tmp_path / "deg.csv", crs="EPSG:4326")
    ds = build_inventory(GRID, reference_year=2019, point_sources=pts)
    np.testing.assert_allclose(ds["source_x"].values, stacks()["x"].to_numpy(), atol=1e-6)


# ---------------------------------------------------------------- outside the grid
def test_stacks_outside_the_grid_named_with_coordinates_and_rule(tmp_path: Path) -> None:
    df = stacks(14)
    df.loc[1:12, "x"] = X0 + 50_000 + np.arange(12)
    with pytest.warns(TrajectoireWarning) as rec:
        ds = build(tmp_path, df)
    assert ds["source"].values.tolist() == ["S1", "S14"]
    msg = str(rec[0].message)
    assert "\n" not in msg
    assert "stacks.csv: 12 point source(s) of 14 lie outside the grid" in msg
    assert "S2 (x=750000, y=7000529)" in msg and "S11 (x=750009, y=7000790)" in msg
    assert "S12" not in msg and "(and 2 more)" in msg
    assert "in EPSG:2154" in msg
    assert "left out of the run: outside the grid (bounds (700000, 7000000, 705000, 7004000)" in msg
    nox = df.loc[1:12, "NOx"].sum()
    assert f"NOx {nox:.6g} t yr-1" in msg


def test_stacks_outside_the_grid_name_only_the_pollutants_kept(tmp_path: Path) -> None:
    """The warning used to count the pollutants the run does not keep (NH3 of a register
    read for NOx only): the stacks are placed after the pollutant selection."""
    df = stacks(3).assign(NH3=[2.0, 15.0, 3.0])
    df.loc[1, "x"] = X0 + 50_000
    with pytest.warns(TrajectoireWarning) as rec:
        ds = build(tmp_path, df, pollutants=["NOx"], others="drop")
    msg = str(rec[0].message)
    assert "1 point source(s) of 3 lie outside the grid" in msg
    assert f"NOx {df.loc[1, 'NOx']:.6g} t yr-1" in msg and "NH3" not in msg
    assert ds["source"].values.tolist() == ["S1", "S3"]
    assert "[inputs] point_sources" in msg


def test_stacks_outside_the_grid_carrying_none_of_the_run_s_pollutants(tmp_path: Path) -> None:
    """A run of UFP alone with stacks of masses: the warning said "they carry  t yr-1."."""
    df = stacks(3)
    df.loc[1, "x"] = X0 + 50_000
    with pytest.warns(TrajectoireWarning) as rec:
        build(tmp_path, df, pollutants=["UFP"], others="drop")
    msg = next(str(w.message) for w in rec if "lie outside the grid" in str(w.message))
    assert "1 point source(s) of 3 lie outside the grid" in msg
    assert "they carry none of the run's pollutants." in msg and " t yr-1" not in msg


def test_stacks_outside_the_grid_named_in_the_file_crs(tmp_path: Path) -> None:
    df = stacks()
    df.loc[2, "x"] = X0 + 9000
    tr = pyproj.Transformer.from_crs("EPSG:2154", "EPSG:4326", always_xy=True)
    df["x"], df["y"] = tr.transform(df["x"].to_numpy(), df["y"].to_numpy())
    df = df.rename(columns={"x": "lon", "y": "lat"})
    with pytest.warns(TrajectoireWarning, match=r"S3 \(x=3\.\d+, y=50\.\d+\) in EPSG:4326"):
        ds = build(tmp_path, df)
    assert ds.sizes["source"] == 2


def test_every_stack_outside_the_grid_is_an_error(tmp_path: Path) -> None:
    df = stacks(7)
    df["x"] = X0 - 20_000.0
    with pytest.raises(InputError) as exc:
        build(tmp_path, df)
    msg = one_line(exc)
    assert "stacks.csv: 7 point source(s) of 7 lie outside the grid" in msg
    assert "S5 (x=680000" in msg and "S6" not in msg and "(and 2 more)" in msg
    assert "every stack of the file" in msg and "[inputs] point_sources" in msg


def test_strict_raises_for_one_stack_outside(tmp_path: Path) -> None:
    df = stacks()
    df.loc[0, "y"] = Y0 - 1.0
    with pytest.raises(InputError, match=r"1 point source\(s\) of 3 .*S1 \(x=700500, y=6999999\)"):
        build(tmp_path, df, strict=True)


# ---------------------------------------------------------------- impossible stack parameters
@pytest.mark.parametrize(
    ("column", "variable", "values", "shown", "expected"),
    [
        ("diameter", "stack_diameter", [0.0], "S2 = 0", "inner diameter > 0 [m]"),
        ("diameter", "stack_diameter", [np.nan], "S2 = nan", "inner diameter > 0 [m]"),
        ("height", "stack_height", [np.nan], "S2 = nan", "height >= 0 [m]"),
        ("temperature", "exit_temperature", [0.0], "S2 = 0", "temperature [K] >= 223.15 K"),
        ("temperature", "exit_temperature", [150.0], "S2 = 150", "add 273.15"),
        ("temperature", "exit_temperature", [np.nan], "S2 = nan", "-50 degC"),
        ("velocity", "exit_velocity", [np.nan], "S2 = nan", "velocity >= 0 [m s-1]"),
    ],
)
def test_impossible_stack_parameter_named(
    tmp_path: Path, column: str, variable: str, values: list[float], shown: str, expected: str
) -> None:
    df = stacks()
    df.loc[1, column] = values[0]
    with pytest.raises(InputError) as exc:
        build(tmp_path, df)
    msg = one_line(exc)
    assert "stacks.csv: " in msg
    assert f"column {column!r} ({variable}): 1 stack(s)" in msg
    assert shown in msg and expected in msg
    assert "No default is filled in" in msg and "[inputs] point_sources" in msg


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("stack_height", -5.0, "S3 = -5"),
        ("exit_velocity", -1.0, "S3 = -1"),
        ("stack_diameter", -0.5, "S3 = -0.5"),
        ("exit_temperature", -10.0, "S3 = -10"),
    ],
)
def test_negative_parameters_of_a_dataset_are_named(
    tmp_path: Path, variable: str, value: float, expected: str
) -> None:
    """A dataset given directly (not read from a file) is checked the same way."""
    path = tmp_path / "ok.csv"
    stacks().to_csv(path, index=False)
    pts = read_point_sources(path)
    pts[variable] = pts[variable].copy(data=np.where(np.arange(3) == 2, value, pts[variable]))
    with pytest.raises(InputError, match=rf"ok.csv: column '\w+' \({variable}\).*{expected}"):
        build_inventory(GRID, reference_year=2019, point_sources=pts)


def test_many_bad_values_are_counted_after_five(tmp_path: Path) -> None:
    df = stacks(9)
    df["diameter"] = 0.0
    with pytest.raises(InputError) as exc:
        build(tmp_path, df)
    msg = one_line(exc)
    assert "9 stack(s)" in msg and "S5 = 0" in msg and "S6" not in msg
    assert "(and 4 more)" in msg


def test_several_bad_columns_in_one_message(tmp_path: Path) -> None:
    df = stacks()
    df.loc[0, "diameter"] = 0.0
    df.loc[2, "temperature"] = 20.0
    with pytest.raises(InputError) as exc:
        build(tmp_path, df)
    msg = one_line(exc)
    assert "column 'diameter' (stack_diameter): 1 stack(s)" in msg and "S1 = 0" in msg
    assert "column 'temperature' (exit_temperature): 1 stack(s)" in msg and "S3 = 20" in msg


def test_missing_stack_column_warned_not_filled(tmp_path: Path) -> None:
    """A column absent from the file: the stacks keep NaN (no default), with a warning."""
    df = stacks().drop(columns=["height", "velocity"])
    with pytest.warns(TrajectoireWarning) as rec:
        ds = build(tmp_path, df)
    msg = str(rec[0].message)
    assert "\n" not in msg and "stacks.csv" in msg
    assert "column 'height' (stack_height) is missing or empty for all 3 stack(s)" in msg
    assert "column 'velocity' (exit_velocity) is missing" in msg
    assert "height >= 0 [m]" in msg and "No default is filled in: they stay missing (NaN)" in msg
    assert "[inputs] point_sources" in msg
    assert np.isnan(ds["stack_height"].values).all()
    np.testing.assert_array_equal(ds["stack_diameter"].values, df["diameter"].to_numpy())


def test_check_stacks_can_refuse_missing_columns(tmp_path: Path) -> None:
    """What a run needs: every stack parameter (``missing="raise"``)."""
    path = tmp_path / "nohead.csv"
    stacks().drop(columns=["diameter"]).to_csv(path, index=False)
    pts = read_point_sources(path)
    with pytest.raises(InputError) as exc:
        check_stacks(pts)
    msg = one_line(exc)
    assert "nohead.csv: column 'diameter' (stack_diameter) is missing or empty for all 3" in msg
    assert "inner diameter > 0 [m]" in msg and "[inputs] point_sources" in msg
    with pytest.raises(InputError, match="missing must be 'raise' or 'warn'"):
        check_stacks(pts, missing="fill")


def test_stack_variable_absent_from_a_dataset(tmp_path: Path) -> None:
    path = tmp_path / "ok.csv"
    stacks().to_csv(path, index=False)
    pts = read_point_sources(path).drop_vars("exit_velocity")
    with pytest.warns(TrajectoireWarning, match=r"ok.csv: column 'velocity' \(exit_velocity\) is"):
        ds = build_inventory(GRID, reference_year=2019, point_sources=pts)
    assert ds.sizes["source"] == 3


def test_no_stack_is_not_checked(tmp_path: Path) -> None:
    """A frame without stacks has nothing to check; a header-only file is an error of its
    own (the CSV reading layer: no data rows)."""
    from trajectoire.inventory.readers import read_point_sources

    assert read_point_sources(stacks().iloc[:0]).sizes["source"] == 0
    with pytest.raises(InputError, match="stacks.csv: no data rows"):
        build(tmp_path, stacks().iloc[:0])
