"""A message that names the configuration key fixing a mistake spells it as TOML.

A reader gets its input's key as it names the input as a whole (``[inputs] stations``, an
anchor's ``[[inputs.anchors]] #1 (year 2008) area_emissions``); a key of the input's table is
``[inputs.stations] columns.station_id`` (not ``[inputs] stations columns.station_id``, which
is no TOML), an anchor's ``[inputs.anchors.area_emissions] (anchor #1, year 2008)
columns.code``. Each case is a real mistake through a real entry point, and the key the message
names is checked to exist: a table of ``[inputs]`` (or of an anchor), and a field of
:class:`~trajectoire.io.config.InputSpec` or a keyword of the input's reader.
"""

from __future__ import annotations

import re
import tomllib
import warnings
from pathlib import Path

import pytest

from trajectoire import TrajectoireWarning
from trajectoire.errors import ConfigError, InputError
from trajectoire.io.config import AnchorInputs, InputsConfig, InputSpec, load_config
from trajectoire.io.formats import FORMATS, read_input

#: ``[inputs.<key>] <option>`` or ``[inputs.anchors.<key>] <option>``, in a message
_NAMED = re.compile(r"\[inputs\.(anchors\.)?(\w+)\](?: \(anchor #\d+(?:, year \d+)?\))? ([\w.]+)")
#: the old spelling: a key of the input's table after the input's key
_OLD = re.compile(r"\[inputs\] \w+ (columns|crs|format|path|unit|layer|station|year)\b")


def _named_keys(message: str) -> list[tuple[bool, str, str]]:
    """(of an anchor, input, option) of every ``[inputs.<input>] <option>`` in `message`."""
    return [(bool(m[1]), m[2], m[3]) for m in _NAMED.finditer(message)]


def _check_spelling(message: str, fmt: str, expected: str) -> None:
    """`message` names `expected` and spells every input key it names as TOML; each names a
    real table and a real key of the input of format `fmt`."""
    assert expected in message, message
    assert not _OLD.search(message), message
    named = _named_keys(message)
    assert named, message
    for anchored, key, option in named:
        model = AnchorInputs if anchored else InputsConfig
        assert key in model.model_fields, (key, message)
        head = option.split(".")[0]
        taken = set(InputSpec.model_fields) | set(FORMATS[key][fmt].keywords())
        assert head in taken, (option, sorted(taken), message)
        # the spelling is TOML: the table and the key parse, under an anchor too
        table = f"inputs.anchors.{key}" if anchored else f"inputs.{key}"
        text = ("[[inputs.anchors]]\nyear = 2008\n" if anchored else "") + (
            f'[{table}]\n{option} = "x"\n'
        )
        parsed = tomllib.loads(text)["inputs"]
        where = parsed["anchors"][0] if anchored else parsed
        value = where[key]
        for part in option.split("."):
            value = value[part]
        assert value == "x"


def _stations(tmp_path: Path, header: str = "code,x,y") -> Path:
    path = tmp_path / "stations.csv"
    path.write_text(f"{header}\nFR001,700100,7000100\nFR002,700300,7000200\n", encoding="utf-8")
    return path


def _communes(tmp_path: Path) -> Path:
    """A commune inventory whose INSEE code column has a name no alias knows."""
    path = tmp_path / "inventaire.csv"
    path.write_text(
        "commune,secteur,polluant,valeur,unite\n59350,Industrie,NOx,12.5,t\n", encoding="utf-8"
    )
    return path


def _spec(**table: object) -> InputSpec:
    return InputSpec.model_validate(
        {k: str(v) if isinstance(v, Path) else v for k, v in table.items()}
    )


def test_a_stations_id_column_named_otherwise_names_the_columns_key(tmp_path: Path) -> None:
    spec = _spec(path=_stations(tmp_path))
    with pytest.raises(InputError) as info:
        read_input("stations", spec, to_crs="EPSG:2154")
    _check_spelling(str(info.value), "trajectoire", "[inputs.stations] columns = {")


def test_a_stations_mapping_to_a_missing_column_names_its_key(tmp_path: Path) -> None:
    spec = _spec(path=_stations(tmp_path), columns={"station_id": "id"})
    with pytest.raises(InputError) as info:
        read_input("stations", spec, to_crs="EPSG:2154")
    _check_spelling(str(info.value), "trajectoire", "[inputs.stations] columns.station_id")


def test_a_commune_inventory_column_not_found_names_its_key(tmp_path: Path) -> None:
    spec = _spec(path=_communes(tmp_path), format="commune-inventory")
    with pytest.raises(InputError) as info:
        read_input("area_emissions", spec)
    _check_spelling(
        str(info.value), "commune-inventory", '[inputs.area_emissions] columns.code = "'
    )


def test_an_anchor_input_with_a_wrong_column_names_the_anchor_and_its_table(
    tmp_path: Path,
) -> None:
    """The label is the run's (batch.pipeline: ``[[inputs.anchors]] #<n> (year <y>) <key>``)."""
    from trajectoire.batch import pipeline

    anchor = AnchorInputs.model_validate(
        {
            "year": 2008,
            "area_emissions": {
                "path": str(_communes(tmp_path)),
                "format": "commune-inventory",
                "columns": {"code": "insee"},
            },
        }
    )
    with pytest.raises(InputError) as info:
        pipeline._read_anchor(anchor, "[[inputs.anchors]] #1 (year 2008)", "area_emissions")
    message = str(info.value)
    _check_spelling(
        message,
        "commune-inventory",
        "[inputs.anchors.area_emissions] (anchor #1, year 2008) columns.code",
    )


def test_an_anchor_format_mistake_names_the_anchor_table_when_loading(tmp_path: Path) -> None:
    """Through load_config: the anchor's ``format`` is named in its own table, not as
    ``[inputs.area_emissions] format`` (the reference's)."""
    from test_anchors_config import _anchor_files, _with_anchors

    area = _anchor_files(tmp_path)
    cfg = _with_anchors(
        tmp_path / "c",
        f"[[inputs.anchors]]\nyear = 2012\n[inputs.anchors.area_emissions]\n"
        f"path = '{area}'\nformat = 'irep'\n",
    )
    with pytest.raises(ConfigError) as info:
        load_config(cfg)
    message = str(info.value)
    assert "[inputs.area_emissions] format" not in message
    _check_spelling(
        message, "trajectoire", "[inputs.anchors.area_emissions] (anchor #1, year 2012) format"
    )


def test_a_meteo_column_of_an_unknown_name_names_the_columns_key(tmp_path: Path) -> None:
    """Météo-France files through the configuration: a ``columns`` name the format does not
    have (``[inputs.meteo] columns``)."""
    path = tmp_path / "H_59_latest-2024-2025.csv.gz"
    path.write_bytes(b"")
    spec = _spec(path=path, format="meteo-france", columns={"vent": "FF"})
    with pytest.raises(ConfigError) as info:
        read_input("meteo", spec)
    _check_spelling(str(info.value), "meteo-france", "[inputs.meteo] columns")


@pytest.mark.parametrize(
    ("config_key", "option", "expected"),
    [
        ("[inputs] stations", "columns.station_id", "[inputs.stations] columns.station_id"),
        ("[inputs.zones]", "crs", "[inputs.zones] crs"),
        (
            "[[inputs.anchors]] #2 (year 2012) gridded",
            "bbox",
            "[inputs.anchors.gridded] (anchor #2, year 2012) bbox",
        ),
        (None, "station", "station"),
    ],
)
def test_config_option_spells_a_key_of_the_input_table(
    config_key: str | None, option: str, expected: str
) -> None:
    from trajectoire.errors import config_option  # the helper the messages use

    assert config_option(config_key, option) == expected


def test_a_warning_names_the_key_that_makes_it_an_error(tmp_path: Path) -> None:
    """Commune polygons and a census table through ``[inputs.zones] format = "communes"``:
    a census row of no commune is warned about, naming the key that makes it an error."""
    from test_communes import _polygons, _wide

    table = _wide(
        tmp_path, "insee_cog2026,pmun_2016,pmun_2023\n59350,1,2\n01001,3,4\n2A004,5,6\n62041,7,8\n"
    )
    spec = _spec(
        path=_polygons(tmp_path),
        format="communes",
        layer="communes_cog2026",
        table=table,
        code="insee_com",
        columns={"code": "insee_cog2026"},
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read_input("zones", spec)
    said = [str(w.message) for w in caught if issubclass(w.category, TrajectoireWarning)]
    unmatched = [m for m in said if "62041" in m]
    assert len(unmatched) == 1, said
    _check_spelling(unmatched[0], "communes", '[inputs.zones] unmatched = "raise"')
