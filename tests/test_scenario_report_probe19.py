"""A scenario's NO2 in the map years and how the report shows it, and the report's words on a
run without stacks (probe 19).

* F5: on the exact path (``apply_scenario``), a cut everywhere in a map year recomputes the
  NO2 maps, the NO2 territory means and the NO2 inhabitants above the thresholds, but left
  the NO2 exposure NaN; the report then wrote « non calculé » for the counts the file held
  and said the quick scenario « ne peut pas le donner ». The NO2 exposure is now the run's
  plus the change of the maps' mean weighted by the output's population × territory share,
  and the report shows each number the file holds, « non calculé » only for a NaN.
* F7: section 8 said the emissions were rebuilt from « des chiffres propres à chaque
  grande usine » for a run without stacks.

The sample run is built once for the module at 2 km (NOx, NO2 and PM10, 2010 and 2023, map
year 2023: a few seconds), and once without its stacks (2023 only).
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from test_report import _render
from test_report_probe17 import _section, _words
from trajectoire import open_output
from trajectoire.cli import main
from trajectoire.errors import TrajectoireWarning
from trajectoire.report.build import _people_nd
from trajectoire.report.numbers import format_number
from trajectoire.sample import write_sample
from trajectoire.scenario import Cut, Scenario, apply_scenario

ROAD = "F_RoadTransport"
NOT_COMPUTED = {"fr": "non calculé*", "en": "not computed*"}
SECTIONS = {"fr": ("scenario", "methode"), "en": ("scenario", "method")}


def _run(tmp: Path, years: str, *, stacks: bool = True) -> xr.Dataset:
    config = write_sample(tmp / "sample")
    text = config.read_text(encoding="utf-8")
    repl = {
        r"^resolution = [0-9.]+$": "resolution = 2000.0",
        r"^pollutants = \[.*\]$": 'pollutants = ["NOx", "NO2", "PM10"]',
        r"^dry_deposition = \[.*\]$": "dry_deposition = []",
        r"^map_years = \[.*\]$": "map_years = [2023]",
    }
    if not stacks:
        repl[r"^point_sources = .*$"] = ""
        repl[r"^point_source_history = .*$"] = ""
    for pattern, new in repl.items():
        text, n = re.subn(f"(?m){pattern}", new, text)
        assert n == 1, pattern
    config.write_text(text, encoding="utf-8")
    out = tmp / "out.nc"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)  # the sample's proxies, stacks
        assert main(["run", str(config), "--out", str(out), "--years", years, "-q"]) == 0
    with open_output(out) as ds:
        return ds.load()


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> xr.Dataset:
    """The sample at 2 km, NOx, NO2 and PM10, 2010 and 2023 (the map year)."""
    return _run(tmp_path_factory.mktemp("probe19"), "2010,2023")


@pytest.fixture(scope="module")
def scenario(sample: xr.Dataset) -> xr.Dataset:
    """Road transport -30 % everywhere from 2010, on the exact path."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        return apply_scenario(sample, Scenario("road -30 %", [Cut(ROAD, None, 0.3, 2010)]))


# ------------------------------------------------------------------ F5: the scenario file
def test_no2_exposure_of_a_map_year_is_the_runs_plus_the_change_of_the_maps(sample, scenario):
    """2023 is a map year and the cut applies everywhere: the scenario recomputes the NO2
    maps; its NO2 exposure is the run's plus ``Σ w (NO2_scenario - NO2_run) / Σ w`` with ``w``
    the output's population × territory share (the counts' weights). It was NaN."""
    pop = sample["population"]
    pop = pop.sel(year=2023) if "year" in pop.dims else pop
    w = np.asarray(sample["territory_fraction"].values, float) * np.nan_to_num(
        np.asarray(pop.values, float)
    )
    scen = scenario["concentration"].sel(year=2023, pollutant="NO2").values.astype(float)
    base = sample["concentration"].sel(year=2023, pollutant="NO2").values.astype(float)
    assert np.isfinite(scen).any()
    diff = scen - base
    known = np.isfinite(diff)
    wk = np.where(known[None], w, 0.0)
    change = (wk * np.where(known, diff, 0.0)[None]).sum(axis=(1, 2)) / wk.sum(axis=(1, 2))
    territories = [str(t) for t in scenario["territory"].values]
    run = sample["exposure"].sel(year=2023, pollutant="NO2").sel(territory=territories)
    got = scenario["exposure"].sel(year=2023, pollutant="NO2").values
    np.testing.assert_allclose(got, run.values.astype(float) + change, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(
        scenario["exposure_change"].sel(year=2023, pollutant="NO2").values, change, rtol=1e-9
    )
    assert (change < 0).all()  # less road traffic, less NO2 everywhere someone lives
    assert (
        "NO2 in 2023: the run's exposure plus the change" in (scenario["exposure"].attrs["comment"])
    )


def test_no2_exposure_stays_nan_in_a_year_without_maps(scenario):
    """2010 is not a map year: no NO2 map, so no NO2 exposure (nor count); the notes say so."""
    assert scenario["exposure"].sel(year=2010, pollutant="NO2").isnull().all()
    assert scenario["inhabitants_above"].sel(year=2010, pollutant="NO2").isnull().all()
    assert scenario["exposure"].sel(year=2010, pollutant="PM10").notnull().all()
    notes = scenario.attrs["scenario_notes"]
    assert "so is the NO2 exposure of 2010 (no NO2 map recomputed)" in notes
    assert "2023" not in notes.split("so is the NO2 exposure of")[1].split(";")[0]


# ------------------------------------------------------------------ F5: the report's table
def _row(html: str, lang: str, short: str = "NO₂") -> list[str]:
    """The cells of a pollutant's row of section 7's table: level today, with the scenario,
    threshold, inhabitants above today, with the scenario."""
    lines = _words(_section(html, *SECTIONS[lang])).splitlines()
    i = lines.index(short)
    return lines[i + 1 : i + 6]


def _people(ds: xr.Dataset, var: str) -> str:
    value = float(ds[var].sel(year=2023, territory="MEL", pollutant="NO2"))
    return " ".join(format_number(value, _people_nd(value), "fr").split())  # as _words


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_report_shows_the_no2_level_and_counts_the_scenario_holds(sample, scenario, lang):
    """MEL, 2023: the file holds NO2's level and both counts; the page writes them all (each
    checked against the file by ``_render``) and says no "not computed"."""
    html, text = _render(sample, "MEL", lang, scenario=scenario)
    cells = _row(html, lang)
    assert NOT_COMPUTED[lang] not in cells, cells
    assert all(re.match(r"^[0-9]", c) for c in cells), cells
    if lang == "fr":
        assert cells[3] == _people(scenario, "baseline_inhabitants_above")
        assert cells[4] == _people(scenario, "inhabitants_above")
    assert "ne peut pas le donner" not in text and "cannot give it" not in text


def _variant(scenario: xr.Dataset, *, level: bool, count: bool) -> xr.Dataset:
    """The scenario with MEL's NO2 level and/or its count in 2023 made NaN."""
    out = scenario.copy(deep=True)
    at = {"year": 2023, "territory": "MEL", "pollutant": "NO2"}
    if not level:
        out["exposure"].loc[at] = np.nan
    if not count:
        out["inhabitants_above"].loc[at] = np.nan
    return out


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_level_left_out_does_not_hide_the_counts(sample, scenario, lang):
    """A file with the NO2 counts but no NO2 level (one the exact path wrote before this fix):
    the level is « non calculé », both counts are shown, and the note speaks of the level."""
    html, text = _render(sample, "MEL", lang, scenario=_variant(scenario, level=False, count=True))
    cells = _row(html, lang)
    assert cells[1] == NOT_COMPUTED[lang]
    assert NOT_COMPUTED[lang] not in cells[2:], cells
    if lang == "fr":
        assert cells[4] == _people(scenario, "inhabitants_above")
        assert (
            "Le niveau de dioxyde d'azote que respireraient les habitants n'est pas calculé" in text
        )
        assert "ni combien" not in text
    else:
        assert "The level of nitrogen dioxide the inhabitants would breathe is not computed" in text
        assert "nor how many" not in text


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_count_left_out_does_not_hide_the_level(sample, scenario, lang):
    """The NO2 level but no count: the level is shown, the count « non calculé », the note
    is the counts' (not the one on NO2's level)."""
    html, text = _render(sample, "MEL", lang, scenario=_variant(scenario, level=True, count=False))
    cells = _row(html, lang)
    assert re.match(r"^[0-9]", cells[1]), cells
    assert cells[4] == NOT_COMPUTED[lang]
    assert (
        "ne compte pas les habitants" if lang == "fr" else "does not count the inhabitants"
    ) in text
    assert "n'est pas calculé par ce scénario" not in text
    assert "not computed by this scenario" not in text


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_both_left_out_one_note_that_names_both(sample, scenario, lang):
    """Neither the level nor the count: both « non calculé », one note naming both."""
    html, text = _render(sample, "MEL", lang, scenario=_variant(scenario, level=False, count=False))
    cells = _row(html, lang)
    assert cells[1] == NOT_COMPUTED[lang] and cells[4] == NOT_COMPUTED[lang]
    assert re.match(r"^[0-9]", cells[3]), cells  # today's count is the run's
    assert ("ni combien d'entre eux" if lang == "fr" else "nor how many of them") in text
    both = "Le dioxyde d'azote n'est pas calculé par ce scénario pour 2023"
    assert (both if lang == "fr" else "Nitrogen dioxide is not computed by this scenario") in text
    assert (
        "ne compte pas les habitants" if lang == "fr" else "does not count the inhabitants"
    ) not in text


# ---------------------------------------------------------------------- F7: no stacks
_PLANTS = {
    "fr": "chiffres propres à chaque grande usine",
    "en": "own figures of each large factory",
}


@pytest.fixture(scope="module")
def no_stacks(tmp_path_factory: pytest.TempPathFactory) -> xr.Dataset:
    """The same sample without [inputs] point_sources and point_source_history, 2023."""
    return _run(tmp_path_factory.mktemp("probe19_nostacks"), "2023", stacks=False)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_run_without_stacks_does_not_speak_of_the_plants_figures(no_stacks, lang):
    _, text = _render(no_stacks, "CUD", lang)
    trends = "tendances nationales de chaque activité." if lang == "fr" else "of each activity."
    assert _PLANTS[lang] not in text
    assert trends in text


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_run_with_the_stack_register_speaks_of_the_plants_figures(sample, lang):
    _, text = _render(sample, "CUD", lang)
    assert _PLANTS[lang] in text
