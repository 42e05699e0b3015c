"""Tests of trajectoire.config: schema, error messages, paths, checksums (issue 7)."""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import pytest

from fake_pipeline import write_config
from trajectoire.config import RunConfig, load_config, parse_years
from trajectoire.errors import ConfigError, TrajectoireWarning


def _replace(path: Path, old: str, new: str) -> Path:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return path


def test_load_config_valid(tmp_path: Path) -> None:
    cfg = load_config(write_config(tmp_path))
    assert cfg.years == list(range(1990, 1996))
    assert cfg.run.pollutants == ["NOx", "PM10"]
    assert cfg.grid.territories == ["MEL", "CUD", "ACSO", "CCHF", "DOUAISIS", "CCVT", "ARC"]
    assert cfg.inputs.territories.path == (tmp_path / "territories.gpkg").resolve()
    assert cfg.source_text.startswith("[run]")
    assert cfg.source_path == (tmp_path / "config.toml").resolve()
    assert cfg.trajectory.method_of("F_RoadTransport") == "index"


def test_documented_example_is_valid(tmp_path: Path) -> None:
    """The full example of docs/configuration.md validates (its files created empty)."""
    doc = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"
    text = doc.read_text()
    example = text.split("```toml\n", 1)[1].split("```", 1)[0]
    cfg_text = example
    import tomllib

    for name in tomllib.loads(example)["inputs"].values():
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "config.toml").write_text(cfg_text)
    cfg = load_config(tmp_path / "config.toml")
    assert cfg.first_year == 1990
    assert cfg.dispersion.release_height["C_OtherStationaryComb"] == 8.0


def test_aliases_are_normalised(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        pollutants=("nox", "PM2_5"),
        extra='[trajectory.methods]\nf = "extrapolation"\n',
    )
    _replace(path, "resolution = 100.0", 'resolution = 50.0\nterritories = ["mel", "cud"]')
    cfg = load_config(path)
    assert cfg.run.pollutants == ["NOx", "PM2.5"]
    assert cfg.grid.territories == ["MEL", "CUD"]
    assert cfg.trajectory.method_of("F_RoadTransport") == "extrapolation"


def test_unknown_key_suggests_closest(tmp_path: Path) -> None:
    path = _replace(write_config(tmp_path), "resolution = 100.0", "resolutoin = 100.0")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    msg = str(info.value)
    assert "config.toml" in msg
    assert "[grid] resolutoin" in msg
    assert "Did you mean 'resolution'?" in msg
    assert "bounds, buffer, crs, resolution, territories" in msg


def test_unknown_section(tmp_path: Path) -> None:
    path = write_config(tmp_path, extra="[outptu]\ndtype = 'float32'\n")
    with pytest.raises(ConfigError, match=r"unknown key 'outptu'.*Did you mean 'output'\?"):
        load_config(path)


def test_wrong_type_names_field_value_and_expectation(tmp_path: Path) -> None:
    path = _replace(write_config(tmp_path), "resolution = 100.0", 'resolution = "100 m"')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    msg = str(info.value)
    assert "[grid] resolution" in msg
    assert "'100 m' (str)" in msg
    assert "valid number" in msg


def test_non_positive_resolution(tmp_path: Path) -> None:
    path = _replace(write_config(tmp_path), "resolution = 100.0", "resolution = -5")
    with pytest.raises(ConfigError, match=r"\[grid\] resolution.*greater than 0"):
        load_config(path)


def test_missing_input_file_names_key_and_resolved_path(tmp_path: Path) -> None:
    path = _replace(write_config(tmp_path), '"territories.gpkg"', '"nowhere/terr.gpkg"')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    msg = str(info.value)
    assert "[inputs] territories" in msg
    assert str((tmp_path / "nowhere" / "terr.gpkg").resolve()) in msg


def test_impossible_year_range(tmp_path: Path) -> None:
    path = write_config(tmp_path, first_year=2020, last_year=1990, map_years=())
    with pytest.raises(ConfigError, match=r"\[run\].*first_year = 2020 is after last_year"):
        load_config(path)


def test_future_year_rejected(tmp_path: Path) -> None:
    path = write_config(tmp_path, last_year=2999, map_years=())
    with pytest.raises(ConfigError, match=r"\[run\] last_year.*2999"):
        load_config(path)


def test_map_years_outside_run(tmp_path: Path) -> None:
    path = write_config(tmp_path, map_years=(1980,))
    with pytest.raises(ConfigError, match=r"map_years.*\[1980\]"):
        load_config(path)


@pytest.mark.parametrize(
    ("old", "new", "pattern"),
    [
        ('["NOx", "PM10"]', '["NOx", "PM11"]', r"\[run\] pollutants.*unknown pollutant 'PM11'"),
        ("resolution = 100.0", 'territories = ["MEL", "LIL"]', r"unknown territory 'LIL'"),
        ("resolution = 100.0", 'crs = "EPSG:4326"', r"\[grid\] crs.*not a projected CRS"),
        ('["NOx", "PM10"]', '["NOx", "nox"]', r"listed more than once"),
    ],
)
def test_invalid_values(tmp_path: Path, old: str, new: str, pattern: str) -> None:
    path = _replace(write_config(tmp_path), old, new)
    with pytest.raises(ConfigError, match=pattern):
        load_config(path)


def test_unknown_method_and_sector(tmp_path: Path) -> None:
    path = write_config(tmp_path, extra='[trajectory.methods]\nZ_Nothing = "indx"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    msg = str(info.value)
    assert "[trajectory.methods] Z_Nothing: method 'indx' (did you mean 'index'?)" in msg
    assert "'index', 'overlap'" in msg
    path = write_config(tmp_path, extra='[trajectory.methods]\nZ_Nothing = "index"\n')
    with pytest.raises(ConfigError, match=r"\[trajectory.methods\]: unknown sector 'Z_Nothing'"):
        load_config(path)


def test_missing_required_key(tmp_path: Path) -> None:
    path = _replace(write_config(tmp_path), "first_year = 1990\n", "")
    with pytest.raises(ConfigError, match=r"\[run\] first_year: required key missing"):
        load_config(path)


def test_invalid_toml_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[run\nname = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="trajectoire sample"):
        load_config(tmp_path / "absent.toml")


def test_checksums_hash_and_pickle(tmp_path: Path) -> None:
    cfg = load_config(write_config(tmp_path))
    data = (tmp_path / "territories.gpkg").read_bytes()
    assert cfg.input_checksums == {"territories": "sha256:" + hashlib.sha256(data).hexdigest()}
    again = pickle.loads(pickle.dumps(cfg))
    assert again.config_hash() == cfg.config_hash()
    assert again.source_text == cfg.source_text
    # moving the inputs does not change the hash; changing their content does
    other = load_config(write_config(tmp_path / "moved"))
    assert other.config_hash() == cfg.config_hash()
    (tmp_path / "moved" / "territories.gpkg").write_bytes(b"changed")
    assert load_config(tmp_path / "moved" / "config.toml").config_hash() != cfg.config_hash()


def test_model_validate_in_python(tmp_path: Path) -> None:
    (tmp_path / "t.gpkg").write_bytes(b"")
    data = {
        "run": {"first_year": 2000, "last_year": 2001, "reference_year": 2001},
        "inputs": {"territories": "t.gpkg"},
    }
    cfg = RunConfig.model_validate(data, context={"base_dir": tmp_path})
    assert cfg.years == [2000, 2001]
    assert cfg.source_text == ""


def test_parse_years() -> None:
    assert parse_years("1990:1992") == [1990, 1991, 1992]
    assert parse_years("2000, 1990:1991") == [1990, 1991, 2000]
    with pytest.raises(ConfigError, match="empty year range '2023:1990'"):
        parse_years("2023:1990")
    with pytest.raises(ConfigError, match="not a year"):
        parse_years("1990-2000")


def test_meteo_urban_stable_adjustment_off_by_default(tmp_path: Path) -> None:
    assert load_config(write_config(tmp_path)).meteo.urban_stable_adjustment is False
    extra = "\n[meteo]\nurban_stable_adjustment = true\n"
    cfg = load_config(write_config(tmp_path / "urban", extra=extra))
    assert cfg.meteo.urban_stable_adjustment is True
    with pytest.raises(ConfigError, match="urban_stable_adjustment"):
        load_config(
            write_config(tmp_path / "bad", extra="\n[meteo]\nurban_stable_adjustment = 1\n")
        )


def test_meteo_direction_sectors_and_resolution(tmp_path: Path) -> None:
    cfg = load_config(write_config(tmp_path))
    assert (cfg.meteo.direction_sectors, cfg.meteo.direction_resolution) == (36, "auto")
    extra = "\n[meteo]\ndirection_sectors = 16\ndirection_resolution = 0\n"
    cfg = load_config(write_config(tmp_path / "old", extra=extra))
    assert (cfg.meteo.direction_sectors, cfg.meteo.direction_resolution) == (16, 0.0)
    bad = "\n[meteo]\ndirection_resolution = 400.0\n"
    with pytest.raises(ConfigError, match=r"direction_resolution.*'auto' or a width"):
        load_config(write_config(tmp_path / "bad", extra=bad))


@pytest.mark.parametrize(
    "bounds", ["[700000.0, 7000000.0, 690000.0, 7100000.0]", "[0.0, 0.0, 1.0]", '"region"']
)
def test_grid_bounds_checked(tmp_path: Path, bounds: str) -> None:
    path = _replace(
        write_config(tmp_path), "resolution = 100.0", f"resolution = 100.0\nbounds = {bounds}"
    )
    with pytest.raises(ConfigError, match=r"\[grid\] bounds"):
        load_config(path)


def test_grid_bounds_read(tmp_path: Path) -> None:
    text = "resolution = 100.0\nbounds = [600000, 6880000, 790000, 7120000]"
    cfg = load_config(_replace(write_config(tmp_path), "resolution = 100.0", text))
    assert cfg.grid.bounds == [600000.0, 6880000.0, 790000.0, 7120000.0]


@pytest.mark.parametrize(
    ("extra", "where", "received", "expected"),
    [
        (
            "[meteo]\ndirection_resolution = 'fine'\n",
            "[meteo] direction_resolution:",
            "'fine' (str)",
            "a valid number or 'auto'",
        ),
        (
            "[dispersion]\ndecay = 3\n",
            "[dispersion] decay:",
            "3 (int)",
            "true or false, 'emerging' or a list ([...])",
        ),
        (
            "[trajectory.uncertainty]\nrealizations = 10\n"
            "half_width = { default = 30.0, B_Industry = { NOx = 'x' } }\n",
            "[trajectory.uncertainty] half_width.B_Industry.NOx:",
            "'x' (str)",
            "a valid number",
        ),
        (
            "[trajectory.uncertainty]\nrealizations = 10\n"
            "half_width = { default = 30.0, B_Industry = [1, 2] }\n",
            "[trajectory.uncertainty] half_width.B_Industry:",
            "[1, 2] (list)",
            "a valid number or a table ({ key = value, ... })",
        ),
        (
            "[trajectory.uncertainty]\nrealizations = 10\nhalf_width = { default = '30 %' }\n",
            "[trajectory.uncertainty] half_width.default:",
            "'30 %' (str)",
            "a valid number",
        ),
    ],
)
def test_union_field_one_line_in_toml_words(
    tmp_path: Path, extra: str, where: str, received: str, expected: str
) -> None:
    """A bad value of a field that takes several types (``float | 'auto'``, ``bool | list``,
    a number or a table of numbers) is one problem on one line: the key path without
    pydantic's type tags, the value, and what each accepted type would have been."""
    path = write_config(tmp_path, extra=extra)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    msg = str(info.value)
    assert "\n" not in msg and "more problem" not in msg, msg
    assert where in msg and received in msg and expected in msg, msg
    for tag in ("float", "bool", "literal[", "list[", "dict["):
        assert tag not in msg.split("received")[0], msg


def test_half_width_pollutant_as_sector_hints_the_table(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        extra="[trajectory.uncertainty]\nrealizations = 10\n"
        "half_width = { default = 30.0, UFP = 100 }\n",
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    msg = str(info.value)
    assert "[trajectory.uncertainty] half_width: 'UFP' is a pollutant, not a sector" in msg
    assert "F_RoadTransport = { UFP = 100.0 }" in msg


def test_uniqueness_message_names_its_key_once(tmp_path: Path) -> None:
    path = write_config(tmp_path, extra="[dispersion]\ndry_deposition = ['PM10', 'PM10']\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    msg = str(info.value)
    assert "[dispersion] dry_deposition: ['PM10'] listed more than once" in msg
    assert msg.count("dry_deposition") == 1, msg


@pytest.mark.parametrize(
    ("extra", "key", "named", "hint"),
    [
        (
            "dry_deposition = ['PM10', 'PFAS']",
            "dry_deposition",
            "'PFAS'",
            " (did you mean 'PFOA'?)",
        ),
        ("decay = ['NOx', 'UFP', 'SO2']", "decay", "'UFP', 'SO2'", ""),
        ("deposition_velocity = { SO2 = 0.005 }", "deposition_velocity", "'SO2'", ""),
    ],
)
def test_dispersion_names_of_species_not_run_are_said(
    tmp_path: Path, extra: str, key: str, named: str, hint: str
) -> None:
    # a species the run does not compute, named per pollutant in [dispersion]: the key
    # applies to nothing ("PFAS" written for the run's PFOA would leave PFOA undeposited)
    path = write_config(
        tmp_path, pollutants=("NOx", "PM10", "PFOA"), extra=f"[dispersion]\n{extra}\n"
    )
    with pytest.warns(TrajectoireWarning) as caught:
        cfg = load_config(path)
    msgs = [str(w.message) for w in caught if key in str(w.message)]
    assert len(msgs) == 1, [str(w.message) for w in caught]
    msg = msgs[0]
    assert "\n" not in msg and msg.startswith(f"{path}: [dispersion] {key} names {named}{hint},")
    assert "which [run] pollutants does not list (NOx, PM10, PFOA): ignored in this run" in msg
    assert "add those to [run] pollutants" in msg
    if key == "dry_deposition":  # what is named of the run's still deposits; PFOA does not
        assert cfg.dispersion.deposits("PM10") and not cfg.dispersion.deposits("PFOA")


def test_a_configuration_cut_to_fewer_pollutants_still_loads(tmp_path: Path) -> None:
    # the sample's lists kept while [run] pollutants is cut down: one warning, no error
    path = write_config(
        tmp_path,
        pollutants=("TRWP_coarse",),
        extra="[dispersion]\ndry_deposition = ['PFOA', 'TRWP', 'UFP']\n",
    )
    with pytest.warns(TrajectoireWarning, match=r"names 'PFOA', 'TRWP', 'UFP', which"):
        cfg = load_config(path)
    assert cfg.run.pollutants == ["TRWP_coarse"]


def test_dispersion_pollutants_of_the_run_by_any_alias_are_accepted(tmp_path: Path) -> None:
    extra = (
        "[dispersion]\ndry_deposition = ['pm2_5', 'PFOA']\ndecay = ['PFOA']\n"
        "deposition_velocity = { 'PM2_5' = 0.002 }\n"
    )
    path = write_config(tmp_path, pollutants=("NOx", "PM2.5", "PFOA"), extra=extra)
    cfg = load_config(path)
    assert cfg.dispersion.dry_deposition == ["PM2.5", "PFOA"]
    assert cfg.dispersion.deposition_velocity == {"PM2.5": 0.002}
    assert cfg.dispersion.deposits("PFOA") and not cfg.dispersion.deposits("NOx")
