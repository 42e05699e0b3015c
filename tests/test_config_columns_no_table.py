"""A ``columns`` table on an input whose format reads no table with named columns (a
raster, a NetCDF field, a fixed-width station file) changed nothing and was accepted in
silence; it is refused when the configuration is loaded, naming the key and the reader."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from trajectoire.errors import ConfigError
from trajectoire.io.config import InputSpec, load_config
from trajectoire.io.formats import FORMATS, check_spec

#: (input, format) pairs whose reader reads no table with named columns
NO_TABLE = [
    ("gridded", "trajectoire"),
    ("gridded", "cams-reg"),
    ("gridded", "emep"),
    ("landuse", "trajectoire"),
    ("meteo", "isd-lite"),
    ("background", "field"),
]

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


def _spec(tmp_path: Path, fmt: str, columns: dict[str, str]) -> InputSpec:
    (tmp_path / "f.nc").write_bytes(b"")
    return InputSpec.model_validate(
        {"path": "f.nc", "format": fmt, "columns": columns},
        context={"base_dir": str(tmp_path)},
    )


@pytest.mark.parametrize(("key", "fmt"), NO_TABLE)
def test_columns_on_a_format_without_tables_is_refused(tmp_path: Path, key: str, fmt: str) -> None:
    spec = _spec(tmp_path, fmt, {"emission": "valeur"})
    with pytest.raises(ValueError) as err:
        check_spec(key, spec)
    msg = str(err.value)
    assert f"[inputs.{key}] columns.emission = 'valeur'" in msg
    assert f"format {fmt!r}" in msg and "remove the key" in msg
    assert FORMATS[key][fmt].reader.__name__ in msg
    assert "\n" not in msg


@pytest.mark.parametrize(("key", "fmt"), NO_TABLE)
def test_the_same_input_without_columns_is_accepted(tmp_path: Path, key: str, fmt: str) -> None:
    (tmp_path / "f.nc").write_bytes(b"")
    spec = InputSpec.model_validate(
        {"path": "f.nc", "format": fmt}, context={"base_dir": str(tmp_path)}
    )
    assert check_spec(key, spec) is FORMATS[key][fmt]


def test_every_format_reading_no_named_columns_is_in_the_list() -> None:
    """A new reader without a column vocabulary nor a ``columns`` keyword must be listed
    here, so that the refusal above is checked for it."""
    found = {
        (key, name)
        for key, formats in FORMATS.items()
        for name, fmt in formats.items()
        if fmt.columns is None and fmt.column_names is None
    }
    assert found == set(NO_TABLE)


def test_a_table_format_still_takes_its_columns(tmp_path: Path) -> None:
    (tmp_path / "f.csv").write_text("a\n1\n", encoding="utf-8")
    spec = InputSpec.model_validate(
        {"path": "f.csv", "columns": {"emission": "valeur"}},
        context={"base_dir": str(tmp_path)},
    )
    assert check_spec("area_emissions", spec) is FORMATS["area_emissions"]["trajectoire"]


def test_the_sample_landuse_with_columns_is_refused_at_load(tmp_path: Path) -> None:
    """Through load_config, before anything is read: one line naming the key."""
    folder = tmp_path / "sample"
    shutil.copytree(SAMPLE, folder)
    cfg = folder / "config.toml"
    text = cfg.read_text(encoding="utf-8").replace(
        'landuse = "landuse.tif"',
        'landuse = { path = "landuse.tif", columns = { class = "code" } }',
    )
    cfg.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    msg = str(err.value)
    assert "[inputs.landuse] columns.class = 'code'" in msg
    assert "format 'trajectoire'" in msg and "read_landuse" in msg
