"""The territory report and its figures read as one page (probe 12, F5): levels that agree
with their change, tables that add up and are captioned, one value per quantity, French
units and labels in the figures, gaps and masked cells shown as such."""

from __future__ import annotations

import re

import numpy as np
import pytest
import xarray as xr
from matplotlib.patches import Rectangle

from test_report import YEARS, _output, _render
from trajectoire import plot
from trajectoire.report import format_number


def _texts(fig) -> str:
    """Every text of a figure (titles, labels, legends, ticks), drawn first."""
    fig.canvas.draw()
    labels = [t.get_text() for a in fig.axes for t in a.get_xticklabels() + a.get_yticklabels()]
    labels += [a.get_ylabel() for a in fig.axes] + [a.get_xlabel() for a in fig.axes]
    legends = [a.get_legend() for a in fig.axes if a.get_legend() is not None]
    labels += [t.get_text() for legend in legends for t in legend.get_texts()]
    return "\n".join(labels)


def _emerging_levels(then: float, now: float) -> xr.Dataset:
    """The rich output with CUD's PFOA level `then` in the first year and `now` in the last."""
    ds = _output(zones=True)
    for year, value in ((YEARS[0], then), (YEARS[-1], now)):
        ds["exposure"].loc[{"year": year, "territory": "CUD", "pollutant": "PFOA"}] = value
    return ds


@pytest.mark.parametrize(
    ("then", "now", "written", "change"),
    [
        (0.340, 0.358, "0,34 µg/m³ 0,36 µg/m³", "5 % de plus"),  # was 0,3 → 0,4
        (0.210, 0.233, "0,21 µg/m³ 0,23 µg/m³", "11 % de plus"),  # was 0,2 → 0,2
        (1.7007e-3, 2.0e-5, "1,701 ng/m³ 0,020 ng/m³", "99 % de moins"),  # was 1 700,7 pg
    ],
)
def test_new_pollutants_levels_agree_with_their_change(then, now, written, change):
    """Section 5 wrote one significant digit in a unit chosen on the last year only: « 0,2 →
    0,2 : 11 % de plus », « 1 700,7 pg/m³ ». Both years are written in the unit of the
    larger, with the digits of the other levels (two significant digits below 1) and those
    they need to be written differently."""
    _, fr = _render(_emerging_levels(then, now), "CUD")
    row = fr[fr.index("PFOAUn composé") :][:200]  # the cells of a row, as the text reads
    first, second = written.split(" µg/m³ " if "µg" in written else " ng/m³ ")
    unit = "µg/m³" if "µg" in written else "ng/m³"
    assert re.search(rf"{first} {unit}\s*{second}", row), row
    assert f"PFOA : {change} qu'en 1990" in fr
    assert "1 700" not in row and "pg/m³" not in row


def test_zone_levels_are_written_differently_when_they_differ():
    """Section 6 wrote the two sides to a tenth: 0,4 and 0,4 with « de plus » between them."""
    ds = _output(zones=True)
    cut = {"year": YEARS[-1], "territory": "MEL", "pollutant": "NO2"}
    ds["zone_exposure"].loc[{**cut, "zone": "inside"}] = 0.43
    ds["zone_exposure"].loc[{**cut, "zone": "outside"}] = 0.39
    _, fr = _render(ds, "MEL")
    assert re.search(r"Dioxyde d'azote \(NO₂\)\s*0,43 µg/m³\s*0,39 µg/m³", fr)
    assert "en contient 0,04 µg/m³ de plus que le reste du territoire" in fr


def test_sector_tables_add_up_to_100_with_a_row_for_the_rest(monkeypatch):
    """The tables listed five sectors that added up to 88 % without a word; the sectors not
    listed now make one row, « Autres secteurs (n) », and GNFR M_Other is no longer named
    « autres sources » (read as "everything else")."""
    import trajectoire.report.build as build
    from trajectoire.report.wording import SECTORS

    monkeypatch.setattr(build, "_MAX_SECTORS", 1)
    html, fr = _render(_output(), "MEL")
    assert "Autres secteurs (2)" in fr  # NO2: industry adds nothing, not counted
    tables = re.findall(
        r"<caption>[^<]*part de chaque source[^<]*</caption>.*?</table>", html, re.S
    )
    assert len(tables) == 3
    for table in tables:
        shares = [int(v) for v in re.findall(r">(\d+)</span> %", table)]
        assert 99 <= sum(shares) <= 101, shares
    for lang in ("fr", "en"):
        assert not SECTORS[lang]["M_Other"].startswith(("autre", "other"))


def test_tables_have_captions_and_header_scopes():
    """Accessibility: none of the tables had a <caption>, no <th> a scope."""
    html, _ = _render(_output(zones=True, change=True), "MEL")
    assert html.count("<table>") == html.count("<caption>") >= 5
    assert "<th>" not in html
    assert 'scope="row"' in html and 'scope="col"' in html


def test_a_reference_year_alone_is_not_said_rebuilt_or_compared_with_older_years():
    """A report of the reference year only said its emissions were rebuilt from the national
    trends and that older years are less certain."""
    ds = _output().sel(year=[2023])
    flags = xr.DataArray(
        np.zeros((1, ds.sizes["sector"], ds.sizes["pollutant"]), np.int8),
        dims=("year", "sector", "pollutant"),
        attrs={"flag_values": np.arange(2, dtype=np.int8), "flag_meanings": "reference index"},
    )
    ds["emission_method"] = flags
    _, fr = _render(ds, "CUD")
    assert "refaits" not in fr and "tendances nationales" not in fr
    assert "Les années anciennes" not in fr
    assert "d'après l'inventaire des émissions de l'année 2023" in fr
    _, en = _render(ds, "CUD", "en")
    assert "rebuilt" not in en and "Older years" not in en
    ds["emission_method"][:] = 1  # rebuilt from a trend: said so
    assert "refaits pour l'année 2023" in _render(ds, "CUD")[1]


# ----------------------------------------------------------------------------- figures
def test_distribution_legend_writes_the_numbers_of_the_text():
    """The legend counted 29 543 (3 %) where the table wrote 29 500 (2 %), a mean of 13,5
    where the text wrote 13,4: for one territory it writes the run's own numbers, rounded
    as the text rounds them."""
    ds = _output()
    ds["population"] = (("year", "y", "x"), np.full((3, ds.sizes["y"], ds.sizes["x"]), 50.0))
    fig, _ = plot.exposure_distribution(ds, year=2023, pollutant="NO2", territory="MEL", lang="fr")
    text = _texts(fig)
    sel = {"year": 2023, "territory": "MEL", "pollutant": "NO2"}
    total = float(ds["population_total"].sel(year=2023, territory="MEL"))
    for label in ("WHO2021", "EU2030"):
        people = float(ds["inhabitants_above"].sel(**sel, threshold=label))
        share = format_number(100 * people / total, 0, "fr")
        assert f"{format_number(people, -2, 'fr')} au-dessus ({share} %)" in text, text
    mean = float(ds["exposure"].sel(sel))
    assert f"moyenne pondérée {format_number(mean, 1, 'fr')} µg/m³" in text, text


def test_source_receptor_names_the_rest_in_french():
    """The last column was labelled 'rest' in the French figure."""
    fig, ax = plot.source_receptor(_output(), year=2023, pollutant="NO2", lang="fr")
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert "reste de la grille" in ticks and "rest" not in ticks
    assert "rest" in [t.get_text() for t in plot.source_receptor(
        _output(), year=2023, pollutant="NO2")[1].get_xticklabels()]  # fmt: skip


def test_trajectories_are_not_joined_across_years_not_calculated():
    """A run of 1990, 2005 and 2023 was drawn as straight ramps across the years never
    calculated, without markers: the total stops at each gap, every year calculated has a
    marker, the gaps are hatched and named in the legend."""
    fig, ax = plot.trajectories(_output(), variable="exposure", territory="MEL", pollutant="NO2",
                                lang="fr")  # fmt: skip
    total = next(line for line in ax.lines if line.get_label() == "Total")
    x = np.asarray(total.get_xdata(), dtype=float)
    assert np.isnan(x).sum() == 2 and list(x[np.isfinite(x)]) == YEARS
    assert total.get_marker() not in (None, "None", "")
    assert "années non calculées" in _texts(fig)
    assert [int(t) for t in ax.get_xticks()] == YEARS
    contiguous = _output().assign_coords(year=[2021, 2022, 2023])
    _, ax = plot.trajectories(contiguous, variable="exposure", territory="MEL", pollutant="NO2")
    total = next(line for line in ax.lines if line.get_label() == "Total")
    assert not np.isnan(np.asarray(total.get_xdata(), dtype=float)).any()
    assert "years not calculated" not in _texts(ax.figure)


def test_masked_cells_are_hatched_grey_and_named():
    """Masked cells were white, the lightest colour of a map whose caption says light
    colours are more pollution."""
    ds = _output()
    ds["mask"][:, :5] = 0
    fig, ax = plot.map(ds, year=2023, pollutant="NO2", lang="fr", crop=False)
    assert "hors de la zone calculée" in _texts(fig)
    hatched = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_hatch()]
    assert hatched and all(p.get_facecolor()[0] < 1.0 for p in hatched)


def test_figures_use_the_texts_units_without_an_offset():
    """A PFOA map was drawn in µg m⁻³ with a 1e-5 offset, where the text writes pg/m³."""
    ds = _output()
    ds["concentration"] = ds["concentration"] * 1e-6  # 4e-6 to 3e-5 µg m-3, as PFOA
    fig, ax = plot.map(ds, year=2023, pollutant="NO2", lang="fr")
    bar = next(a for a in fig.axes if a is not ax)
    fig.canvas.draw()
    assert bar.get_ylabel().endswith("[pg/m³]"), bar.get_ylabel()
    assert bar.yaxis.get_offset_text().get_text() == ""
    assert "µg m⁻³" in plot.map(_output(), year=2023, pollutant="NO2")[0].axes[1].get_ylabel()
