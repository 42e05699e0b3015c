"""Ordinary mistakes in the configuration and on the command line of a batch run, each
refused (or read) in one line that names the file, the key, the value and the fix.

A probe of ``trajectoire run CONFIG --out OUT`` found: a list of files in ``path`` of an
input whose reader takes one file (a traceback), fractional years truncated or accepted
by some keys and refused by others, a configuration saved with a byte-order mark or in
Latin-1, ``--out newdir/`` written as a file, ``--years`` given twice, and Ctrl-C while the
command starts.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

import fake_pipeline
from fake_pipeline import write_config
from trajectoire import cli, runner
from trajectoire.cli import main
from trajectoire.errors import ConfigError
from trajectoire.io.config import load_config


def _one_error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("trajectoire: error: "), err
    return lines[0]


def _files(directory: Path, *names: str) -> None:
    for name in names:
        (directory / name).write_text("a,b\n1,2\n", encoding="utf-8")


# ------------------------------------------------------------ F1: a list of files in path
@pytest.mark.parametrize(
    ("key", "table"),
    [
        ("territories", 'format = "trajectoire"'),
        ("zones", 'format = "communes"\ntable = "pop.csv"'),
        ("point_sources", 'format = "irep"'),
        ("trends", 'format = "eurostat"'),
        ("stations", ""),
        ("gridded", ""),  # the library's own raster reader reads one file
    ],
)
def test_a_list_of_files_is_refused_where_the_reader_reads_one(
    tmp_path: Path, key: str, table: str
) -> None:
    _files(tmp_path, "a.csv", "b.csv", "pop.csv")
    cfg = write_config(tmp_path, extra=f'[inputs.{key}]\npath = ["a.csv", "b.csv"]\n{table}\n')
    if key == "territories":
        text = cfg.read_text(encoding="utf-8").replace('territories = "territories.gpkg"\n', "")
        cfg.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(cfg)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f'{cfg}: [inputs.{key}] path = ["a.csv", "b.csv"]')
    assert "reads one file" in message and 'path = "a.csv"' in message
    assert "[inputs] meteo" in message and "[inputs] gridded (format cams-reg, emep)" in message


def test_a_list_of_files_in_path_is_one_line_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _files(tmp_path, "a.csv", "b.csv")
    cfg = write_config(
        tmp_path, extra='[inputs.trends]\npath = ["a.csv", "b.csv"]\nformat = "eurostat"\n'
    )
    assert main(["run", str(cfg), "--out", str(tmp_path / "o.nc")]) == 2
    assert "[inputs.trends] path" in _one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "o.nc").exists()


def test_a_list_of_files_is_taken_where_the_reader_takes_several(tmp_path: Path) -> None:
    from test_gridded_formats import EMEP
    from trajectoire.io.formats import read_input

    _files(tmp_path, "a.csv", "b.csv")
    lines = EMEP.splitlines(keepends=True)  # two comment lines, then the cells
    (tmp_path / "a.txt").write_text("".join(lines[:4]), encoding="ascii")
    (tmp_path / "b.txt").write_text("".join(lines[:2] + lines[4:]), encoding="ascii")
    extra = (
        '[inputs.meteo]\npath = ["a.csv", "b.csv"]\n'
        '[inputs.gridded]\npath = ["a.txt", "b.txt"]\nformat = "emep"\npollutants = ["NOx"]\n'
        'sector_mapping = { P_IntShipping = "G_Shipping" }\n'
        '[inputs.trends]\npath = ["a.csv"]\nformat = "eurostat"\n'  # one file, as a list
    )
    cfg = load_config(write_config(tmp_path, extra=extra))
    assert cfg.inputs.gridded is not None and len(cfg.inputs.gridded.paths) == 2
    one = read_input("gridded", cfg.inputs.gridded.model_copy(update={"paths": []}))
    both = read_input("gridded", cfg.inputs.gridded)
    assert float(one.sum()) == pytest.approx(11.75)  # a.txt: 10.5 + 1.25 (FR and BE cells)
    assert float(both.sum()) == pytest.approx(11.75 + 0.75 + 100 + 50)
    assert cfg.inputs.trends is not None and cfg.inputs.trends.path.name == "a.csv"


def test_an_anchor_list_of_files_names_the_anchor(tmp_path: Path) -> None:
    _files(tmp_path, "a.csv", "b.csv")
    extra = '[[inputs.anchors]]\nyear = 1992\narea_emissions = { path = ["a.csv", "b.csv"] }\n'
    with pytest.raises(
        ConfigError, match=r"\[inputs.anchors.area_emissions\] \(anchor #1, year 1992\) path"
    ):
        load_config(write_config(tmp_path, extra=extra))


# ---------------------------------------------------------------- F10: fractional years
@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            '[inputs.zones]\npath = "z.csv"\nformat = "communes"\ntable = "z.csv"\n'
            "years = [2016.5, 2019]\n",
            "[inputs.zones] years = [2016.5, 2019]: expected a list of integers",
        ),
        (
            '[inputs.zones]\npath = "z.csv"\nformat = "communes"\ntable = "z.csv"\n'
            "years = [2017.5, 2019]\n",
            "got a list with 2017.5 (not a whole number)",
        ),
        (
            '[inputs.point_sources]\npath = "z.csv"\nformat = "irep"\nyear = 2021.0\n',
            "[inputs.point_sources] year = 2021.0: expected a whole number (e.g. year = 2021), "
            "got 2021.0 (write it 2021)",
        ),
        (
            '[inputs.area_emissions]\npath = "z.csv"\nformat = "commune-inventory"\n'
            "year = 2019.5\n",
            "[inputs.area_emissions] year = 2019.5: expected a whole number",
        ),
        (
            '[trajectory.methods]\nB_Industry = { kind = "overlap", old_series = "old", '
            "overlap_years = [2005.5, 2010] }\n",
            "[trajectory.methods] B_Industry: overlap_years = [2005.5, 2010]; expected "
            "[first, last], two whole years",
        ),
        (
            '[trajectory.methods]\nB_Industry = { kind = "extrapolation", max_years = 10.5 }\n',
            "max_years = 10.5; expected a whole number of years",
        ),
    ],
)
def test_a_fractional_year_is_refused_by_every_year_key(
    tmp_path: Path, extra: str, expected: str
) -> None:
    _files(tmp_path, "z.csv")
    with pytest.raises(ConfigError) as info:
        load_config(write_config(tmp_path, extra=extra))
    assert expected in str(info.value)


def test_whole_years_are_still_taken(tmp_path: Path) -> None:
    _files(tmp_path, "z.csv")
    extra = (
        '[inputs.zones]\npath = "z.csv"\nformat = "communes"\ntable = "z.csv"\n'
        "years = [2016, 2019]\n"
        '[inputs.point_sources]\npath = "z.csv"\nformat = "irep"\nyear = 2021\n'
        '[trajectory.methods]\nB_Industry = { kind = "extrapolation", max_years = 12 }\n'
    )
    cfg = load_config(write_config(tmp_path, extra=extra))
    assert cfg.inputs.zones is not None and cfg.inputs.zones.options["years"] == [2016, 2019]
    assert cfg.inputs.point_sources is not None
    assert cfg.inputs.point_sources.options["year"] == 2021


def test_run_years_refuse_floats_as_before(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    cfg.write_text(cfg.read_text().replace("first_year = 1990", "first_year = 1990.0"))
    with pytest.raises(ConfigError, match=r"\[run\] first_year: received 1990.0"):
        load_config(cfg)


# --------------------------------------------- F11: the config key, not the Python call
def test_an_overlap_without_old_series_names_the_key(tmp_path: Path) -> None:
    extra = '[trajectory.methods]\nB_Industry = { kind = "overlap" }\n'
    with pytest.raises(ConfigError) as info:
        load_config(write_config(tmp_path, extra=extra))
    message = str(info.value)
    assert 'add old_series = "<name of the older series>"' in message
    assert "Method(" not in message


def test_a_surrogate_table_without_driver_names_the_key(tmp_path: Path) -> None:
    extra = '[trajectory.methods]\nB_Industry = { kind = "surrogate" }\n'
    with pytest.raises(ConfigError) as info:
        load_config(write_config(tmp_path, extra=extra))
    assert 'driver = "<a driver of [inputs] surrogates>"' in str(info.value)
    assert "Method(" not in str(info.value)


# --------------------------------------------------- F12: byte-order mark and encodings
def test_a_configuration_saved_with_a_bom_is_read(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    text = cfg.read_text(encoding="utf-8")
    cfg.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    loaded = load_config(cfg)
    assert loaded.years == list(range(1990, 1996))
    assert loaded.source_text == text


def test_a_latin1_configuration_names_the_line_and_the_fix(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    text = cfg.read_text(encoding="utf-8").replace('name = "fake run"', 'name = "données"')
    cfg.write_bytes(text.encode("latin-1"))
    with pytest.raises(ConfigError) as info:
        load_config(cfg)
    message = str(info.value)
    assert message.startswith(f"{cfg}: not UTF-8 (line 2: byte 0xe9")
    assert "save it as UTF-8" in message and "position" not in message


def test_a_utf16_configuration_is_said_so(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    cfg.write_bytes(cfg.read_text(encoding="utf-8").encode("utf-16"))
    with pytest.raises(ConfigError, match=r"not UTF-8 \(line 1: .*UTF-16.*save it as UTF-8"):
        load_config(cfg)


# ------------------------------------------------------ F6: --out written as a directory
@pytest.mark.parametrize(
    ("argv", "example"),
    [
        (["run", "{cfg}", "--out", "{d}/newdir/", "--years", "1990"], "newdir/out.nc"),
        (["scenario", "{cfg}", "--from", "{d}/o.nc", "--out", "{d}/newdir/"], "scenario.nc"),
        (["export", "{d}/o.nc", "--year", "1990", "--out", "{d}/newdir/"], "_1990.tif"),
        (["report", "{d}/o.nc", "-t", "MEL", "--out", "{d}/newdir/"], "rapport-MEL.html"),
        (["streets", "{cfg}", "--run", "{d}/o.nc", "--out", "{d}/newdir/"], "roadside.csv"),
    ],
)
def test_an_out_ending_with_a_separator_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], example: str
) -> None:
    cfg = write_config(tmp_path / "in")
    d = tmp_path / "work"
    d.mkdir()
    args = [a.format(cfg=cfg, d=d) for a in argv]
    assert main(args) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert f"--out '{d}/newdir/' ends with '/', so names a directory" in line
    assert example in line
    assert list(d.iterdir()) == []


def test_an_existing_directory_is_refused_by_every_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = write_config(tmp_path / "in")
    d = tmp_path / "work"
    (d / "sub").mkdir(parents=True)
    for argv in (
        ["run", str(cfg), "--out", str(d / "sub")],
        ["scenario", str(cfg), "--from", str(d / "o.nc"), "--out", str(d / "sub")],
        ["export", str(d / "o.nc"), "--year", "1990", "--out", str(d / "sub")],
        ["report", str(d / "o.nc"), "-t", "MEL", "--out", str(d / "sub")],
        ["streets", str(cfg), "--run", str(d / "o.nc"), "--out", str(d / "sub")],
    ):
        assert main(argv) == 2
        assert "is a directory; give a file name" in _one_error_line(capsys.readouterr().err)
    assert sorted(p.name for p in d.iterdir()) == ["sub"]


def test_run_refuses_an_out_ending_with_a_separator(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    with pytest.raises(ConfigError, match="ends with '/', so names a directory"):
        runner.run(cfg, f"{tmp_path}/newdir/", pipeline=fake_pipeline)
    assert not (tmp_path / "newdir").exists()


# ------------------------------------------------------------ F14: --years given twice
@pytest.mark.parametrize(
    "argv",
    [
        ["run", "{cfg}", "--out", "{d}/o.nc", "--years", "1990", "--years", "1991"],
        "scenario {cfg} --from {d}/x.nc --out {d}/s.nc --recompute --years 1990 --years 1991".split(),
        ["streets", "{cfg}", "--run", "{d}/x.nc", "--years", "1990", "--years", "1991"],
    ],
)
def test_years_given_twice_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    cfg = write_config(tmp_path / "in")
    d = tmp_path / "work"
    d.mkdir()
    assert main([a.format(cfg=cfg, d=d) for a in argv]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "--years given twice ('1990', then '1991'); give it once" in line
    assert "--years 1990,1991" in line
    assert list(d.iterdir()) == []


# --------------------------------------------------------------- F3: Ctrl-C at any time
def _main(argv: list[str]) -> int:
    """:func:`main`, an interrupt that escapes it a test failure (not pytest's own stop)."""
    try:
        return main(argv)
    except KeyboardInterrupt:
        pytest.fail("KeyboardInterrupt escaped main (a traceback for the user)")


def test_ctrl_c_while_the_command_starts_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted() -> argparse.ArgumentParser:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_parser", interrupted)
    assert _main(["info", "x.nc"]) == 130
    assert capsys.readouterr().err == "trajectoire: interrupted.\n"


def test_ctrl_c_while_parsing_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(self: argparse.ArgumentParser, *args: object, **kw: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", interrupted)
    assert _main(["run", "c.toml", "--out", "o.nc"]) == 130
    assert capsys.readouterr().err == "trajectoire: interrupted.\n"


def test_ctrl_c_in_a_run_keeps_the_resume_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import trajectoire.io.config as config_module

    def interrupted(path: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(config_module, "load_config", interrupted)
    cfg = write_config(tmp_path)
    assert _main(["run", str(cfg), "--out", str(tmp_path / "o.nc")]) == 130
    err = capsys.readouterr().err
    assert err == (
        "trajectoire: interrupted. Run again with --resume to keep the years already finished.\n"
    )


def test_console_says_an_interrupt_outside_main_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted() -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "main", interrupted)

    def console() -> None:
        try:
            cli.console()
        except KeyboardInterrupt:
            pytest.fail("KeyboardInterrupt escaped console (a traceback, exit -2)")

    with pytest.raises(SystemExit) as info:
        console()
    assert info.value.code == 130
    assert capsys.readouterr().err == "trajectoire: interrupted.\n"


def test_degc_meteorology_in_a_run_names_the_config_key(tmp_path):
    """Within a run, temperatures in degC read as kelvin said "pass temperature_units='degC'"
    (a Python keyword) to a user who wrote a configuration (a probe's finding F11)."""
    from trajectoire import UnitsError
    from trajectoire.meteo import read_hourly

    csv = tmp_path / "meteo.csv"
    csv.write_text(
        "time,wind_speed,wind_direction,cloud_cover,temperature\n"
        + "".join(f"2019-01-01T{h:02d}:00:00Z,3.0,200,4,{5 + h / 10}\n" for h in range(24))
    )
    with pytest.raises(UnitsError, match=r'set \[inputs\.meteo\] temperature_units = "degC"'):
        read_hourly(csv, latitude=50.6, longitude=3.1, config_key="[inputs] meteo")
    with pytest.raises(UnitsError, match=r"pass temperature_units='degC'"):
        read_hourly(csv, latitude=50.6, longitude=3.1)
