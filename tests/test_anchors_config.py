"""Anchor inventories from a run's configuration (``[[inputs.anchors]]``): read, checked,
reproduced exactly at their years and interpolated between, with one clear line for each
mistake."""

from __future__ import annotations

import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from test_pipeline import SAMPLE, small_config
from trajectoire import TrajectoireWarning
from trajectoire import pipeline as P
from trajectoire.config import load_config
from trajectoire.errors import ConfigError, InputError

#: The small run's years reach back to an anchor of 2012 (the reference is 2018).
SPAN = {r"^first_year = \d+": "first_year = 2011", r"^last_year = \d+": "last_year = 2019"}


def _anchor_files(d: Path, factor: float = 1.5, drop: tuple[str, ...] = ()) -> Path:
    """The sample's area totals times `factor`, without the sectors `drop`: an inventory
    of another year."""
    area = pd.read_csv(SAMPLE / "area_emissions.csv")
    area = area[~area["sector"].isin(drop)].copy()
    area["emission"] *= factor
    path = d / f"area_{factor:g}.csv"
    area.to_csv(path, index=False)
    return path


def _with_anchors(d: Path, anchors: str, **over: str) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    cfg = small_config(d, **{**SPAN, **over})
    cfg.write_text(cfg.read_text() + "\n" + anchors)
    return cfg


def _anchor(year: int, area: Path, more: str = "") -> str:
    return f'[[inputs.anchors]]\nyear = {year}\narea_emissions = "{area}"\n{more}\n'


def _reference_error(cfg) -> str:
    """The InputError of building the run's inventories (the reference and the anchors)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        terr, grid = P._territories_and_grid(cfg)
        zones = P._read(cfg, "zones")
        with pytest.raises(InputError) as info:
            P._reference(cfg, grid, zones)
    return str(info.value)


def _error(cfg: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(cfg)
    return str(info.value)


# ------------------------------------------------------------------ the configuration
def test_anchors_are_read_with_their_inputs_in_checksums_and_hash(tmp_path: Path) -> None:
    area = _anchor_files(tmp_path)
    cfg = load_config(_with_anchors(tmp_path / "a", _anchor(2012, area)))
    assert [a.year for a in cfg.inputs.anchors] == [2012]
    assert cfg.inputs.files()["anchors[0].area_emissions"] == area.resolve()
    assert "anchors[0].area_emissions" in cfg.input_checksums
    before = cfg.config_hash()
    # the anchor's file enters the hash by its contents (a changed figure: another run),
    # not by its path
    moved = tmp_path / "elsewhere.csv"
    moved.write_bytes(area.read_bytes())
    assert load_config(_with_anchors(tmp_path / "b", _anchor(2012, moved))).config_hash() == before
    changed = tmp_path / "changed.csv"
    changed.write_text(re.sub(r"(?m)^(MEL-01,B_Industry,NOx,)", r"\g<1>1", area.read_text()))
    assert (
        load_config(_with_anchors(tmp_path / "c", _anchor(2012, changed))).config_hash() != before
    )
    # and its year
    other = load_config(_with_anchors(tmp_path / "d", _anchor(2013, area)))
    assert other.config_hash() != before


def test_a_configuration_without_anchors_keeps_its_hash(tmp_path: Path) -> None:
    """No anchors and no ensemble: the hash is formed from what it was formed from before
    anchors and the ensemble's keys existed (a run's parts stay valid for --resume), with
    the output revision (a run's parts are not reused by a revision that computes other
    numbers)."""
    import hashlib
    import json

    from trajectoire._version import OUTPUT_REVISION, __version__
    from trajectoire.meteo import DEFAULT_STACK_SPEED_EDGES

    cfg = load_config(small_config(tmp_path))
    data = cfg.model_dump(mode="json")
    for key in ("half_width", "rho", "percentiles"):  # the ensemble's keys, without one
        data["trajectory"]["uncertainty"].pop(key)
    data["inputs"] = {
        "checksums": cfg.input_checksums,
        "how": {k: spec.how() for k, spec in cfg.inputs.given().items()},
    }
    data["run"].pop("name", None)
    data["exposure"].pop("zones_name")  # the reports' wording, added later: never hashed
    # the stacks' speed classes by their value (the library default changed 2026-12-04)
    data["meteo"]["stack_speed_edges"] = list(DEFAULT_STACK_SPEED_EDGES)
    # the output revision (2026-12-04), bumped by changes of the numbers
    text = json.dumps(
        {"config": data, "version": __version__, "revision": OUTPUT_REVISION}, sort_keys=True
    )
    assert cfg.config_hash() == hashlib.sha256(text.encode()).hexdigest()[:16]
    assert "anchors" not in cfg.inputs.given()


@pytest.mark.parametrize(
    ("anchors", "fragments"),
    [
        (
            "[[inputs.anchors]]\nyeer = 2012\narea_emissions = '{area}'\n",
            ["[[inputs.anchors]] #1 yeer", "Did you mean 'year'?", "area_emissions, gridded"],
        ),
        ("[[inputs.anchors]]\nyear = 2012\n", ["[[inputs.anchors]] #1", "no emission input"]),
        (
            "[[inputs.anchors]]\nyear = 2018\narea_emissions = '{area}'\n",
            ["[[inputs.anchors]] #1 year = 2018 is the reference year"],
        ),
        (
            "[[inputs.anchors]]\nyear = 2012\narea_emissions = '{area}'\n"
            "[[inputs.anchors]]\nyear = 2012\narea_emissions = '{area}'\n",
            ["[[inputs.anchors]] year: [2012] given by several anchors"],
        ),
        (
            "[[inputs.anchors]]\nyear = 2012\narea_emissions = 'missing.csv'\n",
            ["[[inputs.anchors]] #1 area_emissions", "file not found"],
        ),
        (
            "[[inputs.anchors]]\nyear = 2012\n[inputs.anchors.area_emissions]\n"
            "path = '{area}'\nformat = 'irep'\n",
            ["[inputs.anchors.area_emissions] (anchor #1, year 2012) format", "'irep'"],
        ),
        (
            "[[inputs.anchors]]\nyear = '2012'\narea_emissions = '{area}'\n",
            ["[[inputs.anchors]] #1 year", "'2012' (str)"],
        ),
    ],
)
def test_anchor_mistakes_are_one_line_naming_the_table(
    tmp_path: Path, anchors: str, fragments: list[str]
) -> None:
    area = _anchor_files(tmp_path)
    msg = _error(_with_anchors(tmp_path / "c", anchors.format(area=area)))
    for part in fragments:
        assert part in msg.splitlines()[0], (part, msg)


def test_interpolation_runs_between_anchors_and_is_refused_outside(tmp_path: Path) -> None:
    area = _anchor_files(tmp_path)
    interp = {r'^default_method = "index"': 'default_method = "interpolation"'}
    # 2011-2019 with inventories of 2012 and 2018: 2011 and 2019 are outside
    msg = _error(_with_anchors(tmp_path / "a", _anchor(2012, area), **interp))
    assert "[trajectory] default_method" in msg and "2011, 2019" in msg and "[2012, 2018]" in msg
    # enclosed: 2012-2018, anchors at both ends
    inside = {**interp, r"^first_year = \d+": "first_year = 2012"}
    inside[r"^last_year = \d+"] = "last_year = 2018"
    cfg = _with_anchors(tmp_path / "b", _anchor(2012, area), **inside)
    assert load_config(cfg).trajectory.default_method == "interpolation"


# ------------------------------------------------------------------ the run
@pytest.fixture(scope="module")
def anchored(tmp_path_factory):
    """A small run of 2011-2019 anchored on the reference (2018) and an inventory of 2012
    (the area totals times 1.5, I_OffRoad added: the reference has none of it)."""
    d = tmp_path_factory.mktemp("anchored")
    area = _anchor_files(d)
    ref_area = pd.read_csv(SAMPLE / "area_emissions.csv")
    ref_area = ref_area[ref_area["sector"] != "I_OffRoad"]
    ref_path = d / "area_reference.csv"
    ref_area.to_csv(ref_path, index=False)
    over = {r'^area_emissions = ".*"': f'area_emissions = "{ref_path}"'}
    cfg = load_config(_with_anchors(d, _anchor(2012, area), **over))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TrajectoireWarning)
        terr, grid = P._territories_and_grid(cfg)
        ref, anchors, *_ = P._reference(cfg, grid, P._read(cfg, "zones"))
        ctx = P.prepare(cfg)
    return ctx, ref, anchors[0], [str(w.message) for w in caught]


def _field(inv, pollutant: str) -> np.ndarray:
    return inv["emission"].sel(pollutant=pollutant).transpose("sector", "y", "x").values


def test_an_anchor_year_is_its_inventory_exactly(anchored) -> None:
    ctx, ref, anchor, _ = anchored
    assert anchor.attrs["reference_year"] == 2012
    for pol in ("NOx", "PM10", "NH3"):
        for year, inv in ((2012, anchor), (2018, ref)):
            got = P.emission_of(ctx, year, pol)
            assert np.array_equal(got, _field(inv, pol).astype(np.float32)), (pol, year)
    method = ctx.trajectory["method"].sel(pollutant="NOx")
    assert set(method.sel(year=2012).values) == {"anchor"}
    assert set(method.sel(year=2015).values) == {"interpolation"}
    before = method.sel(year=2011)
    # a sector that emits no NOx at all reads no series: no_emission (2026-12-06)
    silent = ctx.trajectory["total"].sel(pollutant="NOx").sum("year") == 0
    assert set(before.where(~silent, drop=True).values) <= {"index"}
    assert set(before.where(silent, drop=True).values) <= {"index", "no_emission"}


def test_years_between_anchors_stay_between_them_cell_by_cell(anchored) -> None:
    ctx, ref, anchor, _ = anchored
    for pol in ("NOx", "PM2.5"):
        a, r = _field(anchor, pol), _field(ref, pol)
        lo, hi = np.minimum(a, r), np.maximum(a, r)
        for year in (2013, 2015, 2017):
            got = P.emission_of(ctx, year, pol).astype(np.float64)
            assert (got >= lo * (1 - 1e-6) - 1e-9).all() and (got <= hi * (1 + 1e-6) + 1e-9).all()
            t = (year - 2012) / (2018 - 2012)  # the linear interpolation of the two
            np.testing.assert_allclose(got, a + (r - a) * t, rtol=2e-6, atol=1e-9)


def test_a_sector_only_an_anchor_has_is_in_the_run(anchored) -> None:
    ctx, ref, anchor, _ = anchored
    assert "I_OffRoad" in ctx.sectors
    s = ctx.sectors.index("I_OffRoad")
    assert not _field(ref, "NOx")[s].any() and _field(anchor, "NOx")[s].any()
    assert P.emission_of(ctx, 2012, "NOx")[s].sum() > 0
    assert P.emission_of(ctx, 2018, "NOx")[s].sum() == 0


def test_a_sector_the_reference_grids_and_an_anchor_lacks_is_warned(anchored) -> None:
    *_, messages = anchored
    # the sample's road transport comes from its road links; the anchor has none
    # (the fixture builds the inventories twice: once alone, once in prepare)
    lost = sorted(
        {m for m in messages if m.startswith("[[inputs.anchors]] #1 (year 2012): sector")}
    )
    assert len(lost) == 1 and "F_RoadTransport" in lost[0] and "towards 0" in lost[0]


def test_an_anchor_spreads_its_road_totals_along_the_run_roads(tmp_path: Path) -> None:
    """An anchor without road links of its own uses [inputs] roads as its roads proxy:
    its inventory builds (the sample's F_RoadTransport area totals follow roads)."""
    area = pd.read_csv(SAMPLE / "area_emissions.csv")
    area = area[area["sector"] != "F_RoadTransport"]
    extra = area[area["sector"] == "C_OtherStationaryComb"].assign(sector="F_RoadTransport")
    path = tmp_path / "area_roads.csv"
    pd.concat([area, extra]).to_csv(path, index=False)
    cfg = load_config(_with_anchors(tmp_path / "c", _anchor(2012, path)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        terr, grid = P._territories_and_grid(cfg)
        ref, (anchor,), *_ = P._reference(cfg, grid, P._read(cfg, "zones"))
    f = list(anchor["sector"].values).index("F_RoadTransport")
    road, links = _field(anchor, "NOx")[f], _field(ref, "NOx")[f] > 0
    assert road.sum() > 0
    # along the run's road links: 6 % of the cells carry 80 % of it (zones without a link
    # are spread by area, warned about)
    assert road[links].sum() / road.sum() > 10 * links.mean()


def test_an_anchor_stack_that_is_not_the_reference_is_one_line(tmp_path: Path) -> None:
    area = _anchor_files(tmp_path)
    stacks = pd.read_csv(SAMPLE / "point_sources.csv").head(2).copy()
    stacks.loc[1, "source_id"] = "NOT-A-STACK"
    path = tmp_path / "stacks_2012.csv"
    stacks.to_csv(path, index=False)
    cfg = load_config(
        _with_anchors(tmp_path / "c", _anchor(2012, area, f'point_sources = "{path}"'))
    )
    msg = _reference_error(cfg)
    assert "\n" not in msg
    for part in ("stacks_2012.csv", "[[inputs.anchors]] #1 (year 2012) point_sources",
                 "NOT-A-STACK", "[inputs] point_sources"):  # fmt: skip
        assert part in msg, (part, msg)


def test_an_anchor_file_mistake_names_the_anchor_on_the_command_line(tmp_path: Path) -> None:
    area = _anchor_files(tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text(re.sub(r"(?m)^(MEL-01,B_Industry,NOx,)[0-9.]+", r"\1-3", area.read_text()))
    cfg = _with_anchors(tmp_path / "c", _anchor(2012, bad))
    out = subprocess.run(
        [sys.executable, "-m", "trajectoire.cli", "run", str(cfg), "--out", str(tmp_path / "o.nc")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 2, out.stderr
    line = out.stderr.strip().splitlines()[-1]
    assert "bad.csv" in line and "[[inputs.anchors]] #1 (year 2012) area_emissions" in line
    assert "Traceback" not in out.stderr


def test_a_gridded_anchor_is_regridded_onto_the_run_grid(tmp_path: Path) -> None:
    """An anchor given as a gridded inventory (half the reference's gridded emission, as a
    NetCDF on the run's grid in its CRS) is that field at its year, mass kept."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        plain = load_config(_with_anchors(tmp_path / "a", ""))
        terr, grid = P._territories_and_grid(plain)
        zones = P._read(plain, "zones")
        reference = P._reference(plain, grid, zones)[0]
        half = (0.5 * reference["emission"]).astype(np.float64)
        half.attrs = {"units": "t yr-1"}
        out = half.to_dataset(name="emission")
        out.attrs["crs"] = grid.crs.to_string()
        path = tmp_path / "half_2012.nc"
        out.to_netcdf(path)
        anchored = f'[[inputs.anchors]]\nyear = 2012\ngridded = "{path}"\n'
        cfg = load_config(_with_anchors(tmp_path / "b", anchored))
        again, (anchor,), *_ = P._reference(cfg, grid, zones)
    assert list(again["sector"].values) == list(reference["sector"].values)
    for pol in ("NOx", "PM10"):
        want = 0.5 * _field(reference, pol)
        got = _field(anchor, pol)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15 * want.max())
        assert got.sum() == pytest.approx(want.sum(), rel=1e-12)


def test_an_unknown_zone_in_an_anchor_file_names_that_file_and_its_table(tmp_path: Path) -> None:
    """The zone-id check names the anchor's file and table, not ``[inputs] area_emissions``."""
    area = _anchor_files(tmp_path)
    area.write_text(area.read_text().replace("\nMEL-01,", "\nZZZ-99,", 1))
    cfg = load_config(_with_anchors(tmp_path / "c", _anchor(2012, area)))
    msg = _reference_error(cfg)
    assert "[[inputs.anchors]] #1 (year 2012) area_emissions" in msg and "ZZZ-99" in msg
    assert "[inputs] area_emissions" not in msg and "line 2" in msg


def test_the_output_revision_changes_the_hash(tmp_path: Path, monkeypatch) -> None:
    """A change of what the library computes (bumped revision) changes the hash of the same
    configuration and inputs, though the version string stays."""
    from trajectoire.io import config as config_module

    cfg = load_config(small_config(tmp_path))
    before = cfg.config_hash()
    monkeypatch.setattr(config_module, "OUTPUT_REVISION", config_module.OUTPUT_REVISION + 1)
    assert cfg.config_hash() != before
