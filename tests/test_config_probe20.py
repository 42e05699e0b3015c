"""Probe 20: keys accepted at load that did nothing or failed later under another key's
name. ``[attribution] by`` had no effect in silence; ``[csv] encoding = "klingon"`` was
blamed on the first input read with it; ``default_method = "overlap"`` passed the load and
failed in prepare naming no key; ``TRAJECTOIRE_NUMBA_CACHE=nope`` left the cache on in
silence; ``trajectoire report -t douaisis`` wrote ``rapport-douaisis.html``."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from fake_pipeline import write_config
from trajectoire import TrajectoireWarning
from trajectoire.batch import runner
from trajectoire.cli import main
from trajectoire.errors import ConfigError
from trajectoire.io.config import load_config


def _load(tmp_path: Path, extra: str) -> tuple[object, list[str]]:
    cfg = write_config(tmp_path, extra=extra)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = load_config(cfg)
    return loaded, [str(w.message) for w in caught if issubclass(w.category, TrajectoireWarning)]


# ------------------------------------------------------------ [attribution] by
@pytest.mark.parametrize("by", ['["sector"]', '["territory"]', "[]"])
def test_an_attribution_by_of_one_split_is_said_to_have_no_effect(tmp_path: Path, by: str) -> None:
    cfg = write_config(tmp_path)
    text = cfg.read_text(encoding="utf-8").replace("[attribution]\n", f"[attribution]\nby = {by}\n")
    cfg.write_text(text, encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_config(cfg)
    said = [str(w.message) for w in caught if "[attribution] by" in str(w.message)]
    assert len(said) == 1, said
    assert "no effect" in said[0] and "sector and by territory of origin" in said[0]


def test_an_attribution_by_of_both_splits_says_nothing(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    text = cfg.read_text(encoding="utf-8").replace(
        "[attribution]\n", '[attribution]\nby = ["territory", "sector"]\n'
    )
    cfg.write_text(text, encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_config(cfg)
    assert not [w for w in caught if "[attribution] by" in str(w.message)]


# ------------------------------------------------------------ encodings
@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ('[csv]\nencoding = "klingon"\n', "[csv] encoding"),
        (
            '[inputs.stations]\npath = "st.csv"\nencoding = "latin-9x"\n',
            "[inputs.stations] encoding",
        ),
    ],
)
def test_an_unknown_encoding_is_refused_at_load_under_its_key(
    tmp_path: Path, extra: str, key: str
) -> None:
    (tmp_path / "st.csv").write_text("station_id,x,y\na,1,2\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, extra)
    msg = str(info.value)
    assert key in msg and "unknown encoding" in msg and "'utf-8'" in msg
    assert "\n" not in msg


@pytest.mark.parametrize("codec", ["rot13", "base64", "zlib", "hex"])
def test_a_codec_that_reads_no_text_is_refused_at_load(tmp_path: Path, codec: str) -> None:
    """Probe 21: codecs.lookup knows the transforms too; they read no CSV file."""
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, f'[csv]\nencoding = "{codec}"\n')
    assert "[csv] encoding" in str(info.value) and f"unknown encoding {codec!r}" in str(info.value)


@pytest.mark.parametrize("codec", ["cp1252", "UTF-8", "latin-1", "utf-8-sig"])
def test_a_known_encoding_is_accepted(tmp_path: Path, codec: str) -> None:
    cfg, _ = _load(tmp_path, f'[csv]\nencoding = "{codec}"\n')
    assert cfg.csv.encoding == codec


# ------------------------------------------------------------ overlap without its series
@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ('[trajectory]\ndefault_method = "overlap"\n', "default_method"),
        ('[trajectory.methods]\nB_Industry = "overlap"\n', "B_Industry"),
        ('[trajectory.methods]\nB_Industry = { NOx = "overlap" }\n', "B_Industry"),
    ],
)
def test_overlap_without_its_older_series_is_refused_at_load(
    tmp_path: Path, extra: str, key: str
) -> None:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, extra)
    msg = str(info.value)
    assert key in msg and "old_series" in msg and 'kind = "overlap"' in msg


def test_overlap_with_its_older_series_is_accepted(tmp_path: Path) -> None:
    extra = (
        '[trajectory.methods]\nB_Industry = { kind = "overlap", old_series = "old", '
        'series = "new" }\n'
    )
    cfg, _ = _load(tmp_path, extra)
    assert cfg.trajectory.methods["B_Industry"]["kind"] == "overlap"


# ------------------------------------------------------------ TRAJECTOIRE_NUMBA_CACHE
@pytest.mark.parametrize("value", ["nope", "2", "enabled"])
def test_a_bad_numba_cache_value_stops_the_run(monkeypatch, value: str) -> None:
    monkeypatch.setenv("TRAJECTOIRE_NUMBA_CACHE", value)
    with pytest.raises(ConfigError) as info:
        runner._check_environment()
    assert f"TRAJECTOIRE_NUMBA_CACHE={value!r}" in str(info.value)


@pytest.mark.parametrize("command", ["scenario", "streets", "run"])
def test_a_bad_numba_cache_value_stops_every_computing_command(
    monkeypatch, capsys, tmp_path: Path, command: str
) -> None:
    """Probe 21: ``scenario`` and ``streets`` ran on with the cache left on."""
    monkeypatch.setenv("TRAJECTOIRE_NUMBA_CACHE", "2")
    cfg = write_config(tmp_path)
    argv = {
        "scenario": ["scenario", str(cfg), "--from", str(tmp_path / "o.nc"), "--out", "s.nc"],
        "streets": ["streets", str(cfg), "--run", str(tmp_path / "o.nc")],
        "run": ["run", str(cfg), "--out", str(tmp_path / "o.nc")],
    }[command]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("trajectoire: error: environment variable TRAJECTOIRE_NUMBA_CACHE")


@pytest.mark.parametrize(
    ("value", "on"), [("0", False), ("off", False), ("NO", False), ("1", True), ("True", True)]
)
def test_the_numba_cache_spellings(monkeypatch, value: str, on: bool) -> None:
    from trajectoire._kernels import cache_setting

    monkeypatch.setenv("TRAJECTOIRE_NUMBA_CACHE", value)
    assert cache_setting() is on
    runner._check_environment()  # accepted


# ------------------------------------------------------------ report file name
def test_the_report_default_name_spells_a_stable_id_as_the_list_does(tmp_path: Path) -> None:
    from trajectoire import cli

    seen = {}

    def fake(args, name, *rest, **kw):
        seen["name"] = name
        return 0

    import argparse

    args = argparse.Namespace(territory=" douaisis ", lang="EN", scenario=None, pdf=False)
    original = cli._write_beside_input
    cli._write_beside_input = fake
    try:
        cli._cmd_report(args)
    finally:
        cli._write_beside_input = original
    assert seen["name"] == "report-DOUAISIS.html"


def test_the_report_help_names_the_english_default(capsys) -> None:
    try:
        main(["report", "--help"])
    except SystemExit:
        pass
    out = " ".join(capsys.readouterr().out.split())
    assert "report-ID.html with --lang en" in out
