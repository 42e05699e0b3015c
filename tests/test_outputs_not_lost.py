"""An output path never replaces what a command reads, nor a file of another kind.

Found by trying ordinary mistakes through the command line (2026-12-05): ``trajectoire run
config.toml --out stations.csv`` replaced the run's own stations file with the NetCDF,
``--out config.toml`` the configuration, ``report OUT.nc --out OUT.nc`` the run's output
with the HTML, ``export``'s GeoTIFF likewise, ``scenario --out`` the baseline, ``streets
--out`` its points; all with exit 0 and no word. ``--years ''`` (an unset shell variable)
ran every year.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from fake_pipeline import write_config
from trajectoire.cli import main
from trajectoire.errors import ConfigError, InputError
from trajectoire.io.config import load_config, parse_years
from trajectoire.io.netcdf import check_not_read, check_replaceable, check_writable


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("trajectoire: error: ")
    return err[0]


@pytest.mark.parametrize(
    ("target", "named"),
    [
        ("territories.gpkg", "is [inputs] territories, which this command reads"),
        ("config.toml", "is the configuration file, which this command reads"),
    ],
)
def test_run_refuses_an_output_that_is_one_of_its_inputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str, named: str
) -> None:
    cfg = write_config(tmp_path / "in")
    path = tmp_path / "in" / target
    before = path.read_bytes()
    assert main(["run", str(cfg), "--out", str(path), "-q"]) == 2
    line = _one_error_line(capsys)
    assert f"--out {str(path)!r} {named}" in line and "outside the inputs" in line
    assert path.read_bytes() == before


def test_run_refuses_to_replace_a_file_that_is_no_netcdf(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = write_config(tmp_path / "in")
    notes = tmp_path / "notes.csv"
    notes.write_text("station,value\nA,1\n")
    assert main(["run", str(cfg), "--out", str(notes), "-q"]) == 2
    line = _one_error_line(capsys)
    assert "exists and is not a NetCDF file (it begins with b'station,value" in line
    assert "remove or rename that file first" in line
    assert notes.read_text() == "station,value\nA,1\n"


def test_an_earlier_output_and_an_empty_file_are_replaced(tmp_path: Path) -> None:
    """The usual re-run writes over the earlier NetCDF; an empty file (mktemp) is taken."""
    out = tmp_path / "out.nc"
    xr.Dataset({"v": ("x", np.arange(3.0))}).to_netcdf(out)
    check_replaceable(out, "NetCDF")  # HDF5 signature
    xr.Dataset({"v": ("x", np.arange(3.0))}).to_netcdf(out, format="NETCDF3_64BIT")
    check_replaceable(out, "NetCDF")  # classic CDF signature
    empty = tmp_path / "empty.nc"
    empty.touch()
    check_replaceable(empty, "NetCDF")
    check_replaceable(tmp_path / "absent.nc", "NetCDF")


@pytest.mark.parametrize(
    ("kind", "good", "bad"),
    [
        ("NetCDF", b"\x89HDF\r\n\x1a\n" + bytes(100), b"II*\x00" + bytes(100)),
        ("NetCDF", bytes(512) + b"\x89HDF\r\n\x1a\n" + bytes(100), b"x,y\n1,2\n"),  # user block
        ("GeoTIFF", b"II*\x00" + bytes(100), b"\x89HDF\r\n\x1a\n"),
        ("GeoTIFF", b"MM\x00*" + bytes(100), b"<!DOCTYPE html>"),
        ("HTML", b"\xef\xbb\xbf\n  <!DOCTYPE html><html>", b"[run]\nname = 'x'\n"),
        ("HTML", b"<html lang='fr'>", b"%PDF-1.7"),
        ("PDF", b"%PDF-1.7\n", b"<html>"),
        ("CSV", b"id,x,y\n", b"\x89HDF\r\n\x1a\n\x00\x00"),
    ],
)
def test_what_each_kind_replaces(tmp_path: Path, kind: str, good: bytes, bad: bytes) -> None:
    path = tmp_path / "f"
    path.write_bytes(good)
    check_replaceable(path, kind, "--out")
    path.write_bytes(bad)
    with pytest.raises(InputError, match=f"is not an? {kind} file"):
        check_replaceable(path, kind, "--out")


def test_an_output_inside_an_input_directory_or_linked_to_an_input(tmp_path: Path) -> None:
    inputs = tmp_path / "gridded"
    inputs.mkdir()
    (inputs / "a.nc").write_bytes(b"")
    with pytest.raises(InputError, match=r"lies in the directory .* of \[inputs\] gridded"):
        check_not_read(inputs / "new.nc", {"[inputs] gridded": inputs})
    link = tmp_path / "link.csv"
    stations = tmp_path / "stations.csv"
    stations.write_text("id,x,y\n")
    link.symlink_to(stations)
    with pytest.raises(InputError, match=r"is \[inputs\] stations"):
        check_not_read(link, {"[inputs] stations": stations, "--points": None})
    hard = tmp_path / "hard.csv"
    hard.hardlink_to(stations)
    with pytest.raises(InputError, match=r"is \[inputs\] stations"):
        check_writable(hard, what="--out", reads={"[inputs] stations": stations})
    check_writable(tmp_path / "out.nc", what="--out", reads={"[inputs] gridded": inputs})


def test_the_configuration_names_what_it_reads(tmp_path: Path) -> None:
    cfg = load_config(write_config(tmp_path / "in"))
    reads = cfg.files_read()
    assert reads["the configuration file"] == (tmp_path / "in" / "config.toml").resolve()
    assert reads["[inputs] territories"] == (tmp_path / "in" / "territories.gpkg").resolve()


def test_export_and_report_refuse_the_output_they_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The checks come before the file is opened: a stand-in NetCDF is enough."""
    out = tmp_path / "out.nc"
    xr.Dataset({"v": ("x", np.arange(3.0))}).to_netcdf(out)
    before = out.read_bytes()
    argv_export = ["export", str(out), "--year", "2020", "--pollutant", "NO2", "--out", str(out)]
    assert main(argv_export) == 2
    assert "is the output given (OUT.nc), which this command reads" in _one_error_line(capsys)
    assert main(["report", str(out), "-t", "MEL", "--out", str(out)]) == 2
    assert "is the output given (OUT.nc), which this command reads" in _one_error_line(capsys)
    tif = tmp_path / "map.tif"
    tif.write_bytes(b"II*\x00" + bytes(64))
    assert main(["report", str(out), "-t", "MEL", "--out", str(tif)]) == 2
    assert "exists and is not an HTML file" in _one_error_line(capsys)
    assert out.read_bytes() == before and tif.read_bytes() == b"II*\x00" + bytes(64)


def test_scenario_refuses_to_write_over_its_baseline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.nc"
    xr.Dataset({"v": ("x", np.arange(3.0))}).to_netcdf(out)
    sc = tmp_path / "sc.toml"
    sc.write_text('[scenario]\nname = "x"\n')
    before = out.read_bytes()
    assert main(["scenario", str(sc), "--from", str(out), "--out", str(out)]) == 2
    assert "is the baseline output, which this command reads" in _one_error_line(capsys)
    assert out.read_bytes() == before


@pytest.mark.parametrize("given", ["", "  "])
def test_an_empty_years_option_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], given: str
) -> None:
    """``--years "$YEARS"`` with the variable unset ran every year of the configuration."""
    with pytest.raises(ConfigError, match="--years is empty"):
        parse_years(given)
    cfg = write_config(tmp_path / "in")
    assert main(["run", str(cfg), "--out", str(tmp_path / "o.nc"), "--years", given]) == 2
    line = _one_error_line(capsys)
    assert "--years is empty" in line and "leave --years out for all the years" in line
    assert not (tmp_path / "o.nc").exists()


def test_info_says_a_file_that_is_no_netcdf_is_not_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It advised to recompute the file with ``--out config.toml``."""
    cfg = write_config(tmp_path / "in")
    assert main(["info", str(cfg)]) == 2
    line = _one_error_line(capsys)
    assert "is not a NetCDF file (it begins with b'[run]" in line and "recompute" not in line


def test_info_says_a_netcdf_from_elsewhere_is_not_an_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A NetCDF-4 written by another tool printed ``run: ?`` and ``written by: ?; ?``."""
    path = tmp_path / "era5.nc"
    ds = xr.Dataset({"t2m": (("y", "x"), np.zeros((2, 3)))}, attrs={"source": "ECMWF"})
    ds.to_netcdf(path, engine="netcdf4")
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "not a trajectoire output (no 'trajectoire_version' attribute): ECMWF" in out
    assert "?" not in out and "t2m" in out


@pytest.mark.parametrize(
    ("name", "kind", "warned"),
    [("out.csv", "NetCDF", True), ("out.nc", "NetCDF", False), ("map.png", "GeoTIFF", True),
     ("map.tiff", "GeoTIFF", False), ("r.pdf", "HTML", True), ("out", "NetCDF", False)],
)  # fmt: skip
def test_a_name_that_says_another_kind_is_warned(
    tmp_path: Path, name: str, kind: str, warned: bool
) -> None:
    """``--out result.csv`` wrote a NetCDF named .csv, ``--out map.png`` a GeoTIFF, without
    a word."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_writable(tmp_path / name, what="--out", kind=kind)
    said = [str(w.message) for w in caught if "is written under a name ending in" in str(w.message)]
    assert bool(said) is warned
