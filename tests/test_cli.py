"""Tests of the ``trajectoire`` command line, in-process through ``main(argv)``."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest
import rasterio

import fake_pipeline
from fake_pipeline import write_config
from trajectoire import __version__, runner
from trajectoire.cli import main


@pytest.fixture
def fake_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the fake pipeline the runner's default (the real chain is not needed here)."""
    monkeypatch.setattr(runner, "_default_pipeline", lambda: fake_pipeline)


def _only_error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert lines and lines[0].startswith("trajectoire: error: "), err
    return lines[0]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"trajectoire {__version__}"


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert "run" in capsys.readouterr().out


def test_usage_error_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "config.toml"]) == 2  # --out missing
    assert "--out" in capsys.readouterr().err
    assert main(["frobnicate"]) == 2


@pytest.mark.usefixtures("fake_default")
def test_run_info_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write_config(tmp_path)
    out = tmp_path / "out.nc"
    assert main(["run", str(cfg), "--out", str(out), "--years", "1990:1992", "-q"]) == 0
    assert out.is_file() and not (tmp_path / "out.nc.parts").exists()
    capsys.readouterr()

    assert main(["info", str(out)]) == 0
    info = capsys.readouterr().out
    assert "1990..1992 (3)" in info and "concentration" in info

    tif = tmp_path / "map.tif"
    argv = ["export", str(out), "--year", "1991", "--pollutant", "NOx", "--format", "geotiff"]
    assert main([*argv, "--out", str(tif)]) == 0
    with rasterio.open(tif) as src:
        assert src.crs.to_epsg() == 2154
    assert main(argv) == 0  # default name beside the input
    assert (tmp_path / "concentration_NOx_1991.tif").is_file()
    # a variable without a pollutant dim needs no --pollutant (it was required)
    assert main(["export", str(out), "--year", "1991", "--variable", "population"]) == 0
    assert (tmp_path / "population_1991.tif").is_file()
    capsys.readouterr()
    assert main(["export", str(out), "--year", "1991"]) == 2  # concentration needs one
    err = capsys.readouterr().err.strip()
    assert "concentration is given per pollutant" in err and "--pollutant" in err
    assert len(err.splitlines()) == 1, err


@pytest.mark.usefixtures("fake_default")
def test_info_says_a_damaged_or_truncated_output_is_damaged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 13: flipped bytes in the data, or a truncated file, are reported (exit 2)."""
    import h5py

    out = tmp_path / "out.nc"
    assert main(["run", str(write_config(tmp_path)), "--out", str(out), "-q"]) == 0
    with h5py.File(out, "r") as f:  # the bytes of one stored chunk of the concentration
        dset = f["concentration"]
        info = dset.id.get_chunk_info(dset.id.get_num_chunks() // 2)
    data = bytearray(out.read_bytes())
    middle = info.byte_offset + info.size // 2
    data[middle : middle + 8] = bytes(b ^ 0xFF for b in data[middle : middle + 8])
    damaged = tmp_path / "damaged.nc"
    damaged.write_bytes(bytes(data))
    truncated = tmp_path / "truncated.nc"
    truncated.write_bytes(out.read_bytes()[:2000])
    capsys.readouterr()
    for path, expected in (
        (damaged, "is damaged: variable 'concentration', chunk at"),
        (truncated, "is damaged or is not a NetCDF-4 file"),
    ):
        assert main(["info", str(path)]) == 2
        err = capsys.readouterr().err
        line = _only_error_line(err)
        assert expected in line and str(path) in line and "trajectoire run" in line
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert main(["info", str(out)]) == 0


@pytest.mark.usefixtures("fake_default")
def test_run_prints_next_step_and_logs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write_config(tmp_path, last_year=1991, map_years=())
    out = tmp_path / "out.nc"
    assert main(["run", str(cfg), "--out", str(out), "-v"]) == 0
    captured = capsys.readouterr()
    assert f"trajectoire info {out}" in captured.out
    assert "computing 2 year(s)" in captured.err


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (("resolution = 100.0", "resolutoin = 100.0"), "Did you mean 'resolution'?"),
        (("resolution = 100.0", 'resolution = "fine"'), "[grid] resolution: received 'fine'"),
        (('"territories.gpkg"', '"gone.gpkg"'), "[inputs] territories: file not found"),
        (("first_year = 1990", "first_year = 2000"), "first_year = 2000 is after last_year"),
    ],
)
@pytest.mark.usefixtures("fake_default")
def test_bad_config_exit_2_and_nothing_left(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    edit: tuple[str, str],
    expected: str,
) -> None:
    cfg = write_config(tmp_path / "in", map_years=())
    cfg.write_text(cfg.read_text().replace(*edit))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    assert main(["run", str(cfg), "--out", str(out_dir / "o.nc")]) == 2
    line = _only_error_line(capsys.readouterr().err)
    assert expected in line
    assert "config.toml" in line
    assert list(out_dir.iterdir()) == []


@pytest.mark.usefixtures("fake_default")
def test_impossible_years_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write_config(tmp_path)
    assert main(["run", str(cfg), "--out", str(tmp_path / "o.nc"), "--years", "2023:1990"]) == 2
    assert "empty year range" in _only_error_line(capsys.readouterr().err)
    assert main(["run", str(cfg), "--out", str(tmp_path / "o.nc"), "--years", "1980:1990"]) == 2
    assert "outside the configuration's years" in capsys.readouterr().err
    assert not (tmp_path / "o.nc").exists() and not (tmp_path / "o.nc.parts").exists()


def test_unwritable_output_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write_config(tmp_path)
    assert main(["run", str(cfg), "--out", str(tmp_path / "missing" / "o.nc")]) == 2
    line = _only_error_line(capsys.readouterr().err)
    assert "--out" in line and "does not exist" in line
    (tmp_path / "afile").write_text("")
    assert main(["run", str(cfg), "--out", str(tmp_path / "afile" / "o.nc")]) == 2
    assert not (tmp_path / "missing").exists()


def test_missing_config_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(tmp_path / "nope.toml"), "--out", str(tmp_path / "o.nc")]) == 2
    assert "trajectoire sample" in capsys.readouterr().err


def test_info_and_export_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", str(tmp_path / "none.nc")]) == 2
    assert "not found" in _only_error_line(capsys.readouterr().err)
    (tmp_path / "bad.nc").write_text("not netcdf")
    assert main(["info", str(tmp_path / "bad.nc")]) == 2
    argv = ["export", str(tmp_path / "bad.nc"), "--year", "1990", "--pollutant", "NOx"]
    assert main([*argv, "--out", str(tmp_path / "x" / "y.tif")]) == 2


def test_unexpected_errors_keep_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(runner, "run", boom)
    cfg = write_config(tmp_path)
    with pytest.raises(ZeroDivisionError):
        main(["run", str(cfg), "--out", str(tmp_path / "o.nc")])


def test_sample_calls_write_sample(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls = []

    def write_sample(directory: Path, *, overwrite: bool = False) -> Path:
        calls.append((Path(directory), overwrite))
        return Path(directory) / "config.toml"

    module = types.ModuleType("trajectoire.sample")
    module.write_sample = write_sample  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "trajectoire.sample", module)
    import trajectoire

    monkeypatch.setattr(trajectoire, "sample", module, raising=False)
    assert main(["sample", str(tmp_path / "s"), "--overwrite"]) == 0
    assert calls == [(tmp_path / "s", True)]
    assert "trajectoire run" in capsys.readouterr().out


@pytest.mark.usefixtures("fake_default")
def test_a_reader_that_goes_away_ends_info_quietly(tmp_path: Path) -> None:
    """``trajectoire info OUT.nc | head -1``: the pipe closed before ``info`` wrote ends the
    command with 141 (128 + SIGPIPE) and no traceback (it was a BrokenPipeError, exit 1)."""
    import subprocess
    import sys

    cfg = write_config(tmp_path)
    out = tmp_path / "out.nc"
    assert main(["run", str(cfg), "--out", str(out), "--years", "1990", "-q"]) == 0
    code = (
        "import sys; sys.argv = ['trajectoire', 'info', sys.argv[1]]\n"
        "from trajectoire.cli import console\nconsole()\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before anything is written
    err = proc.stderr.read().decode()
    assert proc.wait() == 141 and "Traceback" not in err, err


@pytest.mark.usefixtures("fake_default")
def test_a_directory_given_for_a_file_is_said_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``info DIR`` says it is a directory (it said "file not found"); ``export --out DIR``
    proposes the GeoTIFF's own name (it proposed out.nc)."""
    cfg = write_config(tmp_path)
    out = tmp_path / "out.nc"
    assert main(["run", str(cfg), "--out", str(out), "--years", "1990", "-q"]) == 0
    capsys.readouterr()
    assert main(["info", str(tmp_path)]) == 2
    assert "is a directory; give the output of a `trajectoire run`" in capsys.readouterr().err
    argv = ["export", str(out), "--year", "1990", "--pollutant", "NOx", "--out", str(tmp_path)]
    assert main(argv) == 2
    assert "give a file name such as concentration_NOx_1990.tif" in capsys.readouterr().err
