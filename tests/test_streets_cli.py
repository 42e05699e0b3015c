"""``trajectoire streets`` end to end: a small run, then its roadside values (issue 14, roads)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from test_pipeline import SAMPLE, small_config
from trajectoire.cli import main
from trajectoire.errors import TrajectoireWarning


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("streets")
    # the sample's own species, emerging ones included (TRWP comes from roads)
    sample = (SAMPLE / "config.toml").read_text()
    keep = {
        pat: re.search(pat, sample, flags=re.M)[0]
        for pat in (r"^pollutants = \[.*\]", r"^dry_deposition = .*\n")
    }
    cfg = small_config(tmp, **keep)
    out = tmp / "out.nc"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        assert main(["run", str(cfg), "--out", str(out), "-q"]) == 0
    return cfg, out


def test_streets_on_a_run_output(
    run: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    cfg, out = run
    csv = out.parent / "streets.csv"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        assert main(["streets", str(cfg), "--run", str(out), "--out", str(csv)]) == 0
    assert "wrote" in capsys.readouterr().out
    table = pd.read_csv(csv)
    with xr.open_dataset(out) as ds:
        years = set(int(y) for y in ds["year"].values)
        stations = set(str(s) for s in ds["station"].values) if "station" in ds.dims else set()
        cells = ds["station_concentration"].load() if "station_concentration" in ds else None
    assert set(table["year"]) == years
    if stations:
        assert set(table["id"]) <= stations
    # the roadside value is the run's cell value corrected by the increment, row by row
    np.testing.assert_allclose(
        table["roadside"], table["grid_value"] + table["roadside_increment"], rtol=1e-12
    )
    # the increment of a linear pollutant is the line part minus the gridded part
    lin = table[table["pollutant"] != "NO2"]
    np.testing.assert_allclose(lin["increment"], lin["line"] - lin["grid"], rtol=1e-9, atol=1e-12)
    assert (table["roadside"] >= 0).all() and np.isfinite(table["roadside"]).all()
    # TRWP (airborne) comes from the roads; its coarse part deposits where it is emitted
    assert "TRWP" in set(table["pollutant"]) and "TRWP_coarse" not in set(table["pollutant"])
    if cells is not None:
        row = table.iloc[0]
        want = float(cells.sel(year=row["year"], station=row["id"], pollutant=row["pollutant"]))
        assert row["grid_value"] == pytest.approx(want, rel=1e-6)


def test_points_file_in_a_french_dialect_and_a_missing_column(
    run: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    cfg, out = run
    with xr.open_dataset(out) as ds:  # a point in the middle of the run's grid
        x, y = float(ds["x"].values.mean()), float(ds["y"].values.mean())
    fr = out.parent / "points_fr.csv"
    text = f"id;x;y\nP1;{x:.1f};{y:.1f}\n".replace(".", ",")
    fr.write_bytes(text.encode("cp1252"))
    csv = out.parent / "points_out.csv"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        assert (
            main(["streets", str(cfg), "--run", str(out), "--points", str(fr), "--out", str(csv)])
            == 0
        )
    table = pd.read_csv(csv)
    assert set(table["id"]) == {"P1"} and np.isfinite(table["roadside"]).all()
    capsys.readouterr()
    bad = out.parent / "points_bad.csv"
    bad.write_text("id,x\nP1,1.0\n")
    assert main(["streets", str(cfg), "--run", str(out), "--points", str(bad)]) == 2
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(err) == 1 and "points_bad.csv" in err[0] and "missing column(s) ['y']" in err[0]


def test_roadside_values_are_computed_inside_the_compile_notice(
    run: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first use after an install compiles the line kernels: `streets` says so, as
    `run` and `scenario` do (:func:`trajectoire._compile_notice.compile_notice`)."""
    import contextlib

    from trajectoire.batch import streets
    from trajectoire.config import load_config

    seen: list[bool] = []
    state = {"inside": False}

    @contextlib.contextmanager
    def notice():  # type: ignore[no-untyped-def]
        state["inside"] = True
        try:
            yield None
        finally:
            state["inside"] = False

    real = streets.roadside_values

    def watched(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(state["inside"])
        return real(*args, **kwargs)

    monkeypatch.setattr(streets, "compile_notice", notice)
    monkeypatch.setattr(streets, "roadside_values", watched)
    cfg, out = run
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        streets.roadside_values_of_run(load_config(cfg), out)
    assert seen and all(seen)


def test_the_output_is_read_slice_by_slice_not_loaded_whole(
    run: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`streets` reads the cells and sums it needs from the run's output, never the whole
    file: the 200 m sample's output (contribution maps on every year, about 14 GB once
    decompressed) was loaded whole and the command was killed for memory."""
    from trajectoire.batch import streets
    from trajectoire.config import load_config

    cfg, out = run
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        expected = streets.roadside_values_of_run(load_config(cfg), out)

        def refuse(self: xr.Dataset, **kwargs: object) -> xr.Dataset:
            raise AssertionError("the whole output was loaded")

        monkeypatch.setattr(xr.Dataset, "load", refuse)
        got = streets.roadside_values_of_run(load_config(cfg), out)
    pd.testing.assert_frame_equal(got, expected)
    assert len(got) > 0


@pytest.mark.parametrize(
    ("points", "argv", "expected"),
    [
        (
            "id,x,y\nP1,3.06,50.63\n",
            (),
            ("none of the 1 point(s) lies on the run's grid", "look like degrees", "EPSG:2154"),
        ),
        ("id,x,y\nP1,100,7059000\n", (), ("x = 100, y = 7059000. Give x, y in metres",)),
        ("id,x,y\nP1,{x},{y}\nP1,{x},{y}\n", (), ("column 'id': id(s) ['P1'] given more",)),
        ("id,x,y\nP1,{x},{y}\n", ("--years", "2050:2051"), ("--years: 2050, 2051 not in",)),
        ("id,x,y\nP1,{x},{y}\n", ("--radius", "0"), ("--radius 0: expected a window > 0",)),
        ("id,x,y\nP1,{x},{y}\n", ("--kerb-distance", "-5"), ("--kerb-distance -5: expected",)),
    ],
)
def test_streets_mistakes_one_line(
    run: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
    points: str,
    argv: tuple[str, ...],
    expected: tuple[str, ...],
) -> None:
    """Points in degrees or off the grid (all of them: it ended in a KeyError traceback),
    ids given twice (both computed under one id), years the output does not hold, a
    window or a kerb distance that cannot be: one line each, exit code 2."""
    cfg, out = run
    with xr.open_dataset(out) as ds:
        x, y = float(ds["x"].values.mean()), float(ds["y"].values.mean())
    path = out.parent / "points_mistake.csv"
    path.write_text(points.format(x=x, y=y))
    capsys.readouterr()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        code = main(["streets", str(cfg), "--run", str(out), "--points", str(path), *argv])
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert code == 2 and len(err) == 1, err
    assert all(e in err[0] for e in expected), err[0]


def test_streets_on_the_output_of_another_configuration(
    run: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An output without road emissions (another configuration's) is named, not a KeyError."""
    cfg, out = run
    with xr.open_dataset(out) as ds:
        other = ds.sel(sector=[s for s in ds["sector"].values if s != "F_RoadTransport"])
        other.to_netcdf(tmp_path / "other.nc")
    capsys.readouterr()
    assert main(["streets", str(cfg), "--run", str(tmp_path / "other.nc")]) == 2
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(err) == 1 and "other.nc: no F_RoadTransport emissions" in err[0], err


# ------------------------------------------------------------------ mistakes (2026-12-05)
@pytest.mark.parametrize(
    ("text", "said"),
    [
        # a header alone ended on a KeyError's traceback
        ("id,x,y\n", "no data rows (header only)"),
        # an empty y was said "outside the run's grid", after numpy's cast warning
        ("id,x,y\nA,700000,\n", "column 'y': not a number: an empty cell at line 2 (A)"),
        # the canyon's numbers were said "width=0.0" with no file, id or column
        (
            "id,x,y,canyon_width,building_height,orientation,side\nA,706400,7059000,0,15,40,left\n",
            "column 'canyon_width': 0 at line 2 (A); expected a number > 0 m",
        ),
        (
            "id,x,y,canyon_width,building_height,orientation,side\nA,706400,7059000,20,-15,4,left\n",
            "column 'building_height': -15 at line 2 (A); expected a number > 0 m",
        ),
        # said "points, id 'A', ..." without the file
        (
            "id,x,y,canyon_width,building_height,orientation,side\nA,706400,7059000,20,15,4,gauche\n",
            "column 'side': 'gauche' at line 2 (A); expected 'left' or 'right'",
        ),
        (
            "id,x,y,canyon_width,building_height\nA,706400,7059000,20,15\n",
            "line 2 (A): street-canyon column(s) ['orientation', 'side'] empty or absent",
        ),
    ],
)
def test_streets_points_mistakes_are_one_line(
    run: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, said: str
) -> None:
    cfg, out = run
    points = tmp_path / "p.csv"
    points.write_text(text)
    assert main(["streets", str(cfg), "--run", str(out), "--points", str(points)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("trajectoire: error: ")
    assert "p.csv (trajectoire streets --points)" in err[0] and said in err[0]


def test_streets_warns_of_a_canyon_column_it_does_not_read(
    run: tuple[Path, Path], tmp_path: Path
) -> None:
    """``canyon`` for ``canyon_width`` was left out, and the point taken as an open road."""
    cfg, out = run
    points = tmp_path / "p.csv"
    points.write_text("id,x,y,canyon\nA,706400,7059000,20\n")
    with pytest.warns(TrajectoireWarning, match=r"column 'canyon' is not read \(did you mean "
                      r"'canyon_width'\?\)"):  # fmt: skip
        main(["streets", str(cfg), "--run", str(out), "--points", str(points)])


def test_streets_refuses_to_write_over_its_points(
    run: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg, out = run
    points = tmp_path / "p.csv"
    points.write_text("id,x,y\nA,706400,7059000\n")
    argv = ["streets", str(cfg), "--run", str(out), "--points", str(points), "--out", str(points)]
    assert main(argv) == 2
    assert "is --points, which this command reads" in capsys.readouterr().err
    assert points.read_text() == "id,x,y\nA,706400,7059000\n"


def test_export_of_a_map_without_pollutants_refuses_a_pollutant(
    run: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--variable population --pollutant NO2`` ignored the pollutant and named the file
    after it (population_NO2_2020.tif)."""
    _, out = run
    with xr.open_dataset(out) as ds:
        year = int(ds["year"].values[0])
    argv = ["export", str(out), "--variable", "population", "--pollutant", "NO2",
            "--year", str(year), "--out", str(tmp_path / "p.tif")]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert (
        "population has no pollutant dimension" in err
        and "--pollutant 'NO2' selects nothing" in err
    )
    assert not (tmp_path / "p.tif").exists()
