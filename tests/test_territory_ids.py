"""Territory ids are case-insensitive wherever a user writes one (configuration, scenario
cuts, ``trajectoire report --territory``), as docs/configuration.md says."""

from __future__ import annotations

import pytest

from test_report import _output
from trajectoire import ConfigError
from trajectoire.geo.territories import TERRITORIES, territory_id
from trajectoire.report.build import report_context
from trajectoire.scenario import Cut


@pytest.mark.parametrize("given", ["mel", " Mel ", "MEL", "mEl"])
def test_any_case_names_the_stable_id(given):
    assert territory_id(given) == "MEL"


def test_unknown_or_ambiguous_ids_come_back_as_written():
    assert territory_id("LILLE") == "LILLE"
    assert territory_id("ab", ["AB", "ab"]) == "ab"  # exact spelling wins
    assert territory_id("Ab", ["AB", "ab"]) == "Ab"  # two candidates: none chosen
    assert territory_id(None) is None
    assert set(map(territory_id, [t.lower() for t in TERRITORIES])) == set(TERRITORIES)


def test_a_scenario_cut_takes_the_id_in_any_case():
    assert Cut("F_RoadTransport", "cud", 0.5, 2018).territory == "CUD"
    with pytest.raises(ConfigError, match="territory 'Lille' is unknown"):
        Cut("F_RoadTransport", "Lille", 0.5, 2018)


def test_the_report_takes_the_id_in_any_case():
    ctx, _ = report_context(_output(), "mel", figures=False)
    assert ctx["territory"] == "MEL"
