"""The territory report against its NetCDF (probe 17): one unit per quantity, the parts of the
nearby pollution named by where they come from, no « 0 % » of something, each level with
the digits of its own rule, a run without background that names only what it counts, the
reference values the page does not detail, and sentences that end with a space.

The sample run is built once for the module, at 2 km over three years (1990, 2010, 2023:
about 15 s); the variants are made from it in memory. The pages are rendered without their
figures (``_render`` of test_report, which re-reads every traced number from the dataset).
"""

from __future__ import annotations

import re
import warnings

import pytest
import xarray as xr

from test_report import _output, _render
from trajectoire import open_output, plot
from trajectoire.cli import main
from trajectoire.errors import TrajectoireWarning
from trajectoire.report.numbers import format_number
from trajectoire.sample import write_sample

SAMPLE_YEARS = [1990, 2010, 2023]
TERRITORIES = ["MEL", "CUD", "ACSO", "CCHF", "DOUAISIS", "CCVT", "ARC"]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> xr.Dataset:
    """The bundled sample run at 2 km, years 1990, 2010 and 2023, loaded in memory."""
    d = tmp_path_factory.mktemp("probe17")
    config = write_sample(d / "sample")
    text = config.read_text(encoding="utf-8")
    text, n = re.subn(r"(?m)^resolution = [0-9.]+$", "resolution = 2000.0", text)
    assert n == 1
    config.write_text(text, encoding="utf-8")
    out = d / "out.nc"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)  # the sample's proxies, stacks
        years = ",".join(str(y) for y in SAMPLE_YEARS)
        assert main(["run", str(config), "--out", str(out), "--years", years, "-q"]) == 0
    with open_output(out) as ds:
        return ds.load()


@pytest.fixture(scope="module")
def rendered(sample: xr.Dataset) -> dict[tuple[str, str], tuple[str, str]]:
    """The sample's page of each territory in each language, without figures: ``(html,
    visible text)`` by ``(territory, lang)``."""
    return {(t, lang): _render(sample, t, lang) for t in TERRITORIES for lang in ("fr", "en")}


def _words(html: str) -> str:
    """The visible text of a page, each cell, item and paragraph on its own line (spaces
    collapsed within a line)."""
    body = re.sub(r"(?s)<(style|script)\b.*?</\1>", " ", html)
    body = re.sub(r"(?i)</?(p|li|td|th|tr|h[1-6]|caption|table|ul|ol|div|section|header|"
                  r"footer|nav|figure|figcaption|title|br)\b[^>]*>", "\n", body)  # fmt: skip
    body = re.sub(r"<[^>]+>", "", body)
    for entity, char in (("&#39;", "'"), ("&#34;", '"'), ("&quot;", '"'), ("&lt;", "<"), ("&gt;", ">"),
                         ("&amp;", "&")):  # fmt: skip
        body = body.replace(entity, char)
    lines = (" ".join(line.split()) for line in body.splitlines())
    return "\n".join(line for line in lines if line)


def _section(html: str, start: str, end: str) -> str:
    return html[html.index(f'<section id="{start}">') : html.index(f'<section id="{end}">')]


def _pct(value: float, lang: str = "fr") -> str:
    """A share as the page writes it, with its « moins de 1 % » rule."""
    if round(value) == 0 and value > 0:
        return "moins de 1 %" if lang == "fr" else "less than 1 %"
    return f"{format_number(value, 0, lang)} %"


# ----------------------------------------------------------------------------- F2 units
_UNIT_WORDS = {
    "fr": {"ng/m³": "nanogrammes", "pg/m³": "picogrammes", "particules/cm³": "particules par"},
    "en": {"ng/m³": "nanograms", "pg/m³": "picograms", "particles/cm³": "particles per"},
}


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_section_6_writes_each_new_pollutant_in_the_unit_of_section_5(rendered, lang):
    """Section 6 wrote MEL's PFOA in pg/m³ (its own unit, chosen on the last year's levels)
    while section 5 wrote it in ng/m³ (chosen on 1990), and never said what pg/m³ is. Each
    species is now written in section 5's unit, and every unit of the page is spelled out
    in a units line."""
    seen = 0
    for territory in TERRITORIES:
        html, _ = rendered[territory, lang]
        text = _words(html)
        s5 = _words(_section(html, "emergents" if lang == "fr" else "emerging",
                             "quartiers" if lang == "fr" else "neighbourhoods"))  # fmt: skip
        s6 = _words(_section(html, "quartiers" if lang == "fr" else "neighbourhoods", "scenario"))
        units = "|".join(re.escape(u) for u in ["µg/m³", *_UNIT_WORDS[lang]])
        level = rf"(?:moins de |less than )?[0-9][0-9 ,.\u202f]* ({units})"
        # section 6's second table, a cell a line: the name, inside, elsewhere
        rows = re.findall(rf"(?m)^(.+)\n{level}\n{level}$", s6)
        s5_lines = s5.splitlines()  # section 5's table: name, what it is, then, now
        for name, inside, outside in rows:
            if name not in s5_lines:
                continue  # a pollutant of the first table (µg/m³)
            i = s5_lines.index(name)
            levels = " ".join(s5_lines[i + 2 : i + 4])
            assert inside == outside, (territory, name, inside, outside)
            assert levels.endswith(inside), (territory, name, levels, inside)
            seen += 1
        for symbol, words in _UNIT_WORDS[lang].items():
            if symbol in text:
                assert words in text, (territory, symbol)
    assert seen >= len(TERRITORIES)  # some species compared in each territory


def test_a_unit_only_section_6_uses_is_spelled_out_there():
    """A species section 5 does not show (nothing reaches the inhabitants in the file's
    exposure) but the zones' levels have: written in its own unit, spelled out under the
    table of section 6."""
    ds = _output(zones=True)
    ds["exposure"].loc[{"pollutant": "PFOA"}] = 0.0
    ze = ds["zone_exposure"].copy(deep=True)
    ze.loc[{"pollutant": "PFOA", "zone": "inside"}] = 5e-6
    ze.loc[{"pollutant": "PFOA", "zone": "outside"}] = 4e-6
    ds["zone_exposure"] = ze
    html, _ = _render(ds, "MEL")
    s6 = _words(_section(html, "quartiers", "scenario"))
    assert re.search(r"PFOA\n5,0 pg/m³\n4,0 pg/m³", s6), s6
    assert "Unités : pg/m³, picogrammes par mètre cube" in s6


# ----------------------------------------------------------------------------- F3 origins
def _origin_shares(ds: xr.Dataset, territory: str, pol: str, year: int) -> tuple[float, ...]:
    ec = ds["exposure_contribution"].sel(year=year, receptor=territory, pollutant=pol)
    by_origin = ec.sum("sector").astype("float64")
    total = float(by_origin.sum())
    own = float(by_origin.sel(origin=territory))
    rest = float(by_origin.sel(origin="rest"))
    others = float(by_origin.drop_sel(origin=[territory, "rest"]).sum())
    return 100 * own / total, 100 * others / total, 100 * rest / total


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_rest_of_the_nearby_pollution_says_where_it_comes_from(sample, rendered, lang):
    """« le reste vient des territoires voisins » while CCVT's 26 % came from the cells
    outside every territory (origin ``rest``) and nothing from the other territories: the
    page now gives the part of the other territories studied and that of the communes
    around, outside the territories studied, each with its number (« moins de 1 % » for one
    that rounds to 0), and leaves out a part that is 0."""
    others_words = (
        "des autres territoires étudiés" if lang == "fr" else "the other territories studied"
    )
    around_words = (
        "des communes alentour, hors des territoires étudiés"
        if lang == "fr"
        else "the surrounding municipalities, outside the territories studied"
    )
    said = 0
    heads = {"NO2": "(NO₂)", "PM10": "(PM10)", "PM2.5": "(PM2,5)" if lang == "fr" else "(PM2.5)"}
    for territory in TERRITORIES:
        html, text = rendered[territory, lang]
        assert "voisins" not in text and "neighbouring" not in text
        s4 = _words(_section(html, "sources", "emergents" if lang == "fr" else "emerging"))
        # a block per pollutant: from its heading (a line of its own) to the next one
        blocks = re.split(r"(?m)^(?=[^\n]*\((?:NO₂|PM10|PM2,5|PM2\.5)\)$)", s4)
        for pol in ("NO2", "PM10", "PM2.5"):
            own, others, rest = _origin_shares(sample, territory, pol, 2023)
            if round(own) in (0, 100):
                continue
            block = next(b for b in blocks if b.split("\n")[0].endswith(heads[pol]))
            start = f"{format_number(own, 0, lang)} % de cette pollution proche" if lang == "fr" \
                else f"{format_number(own, 0, lang)} % of this nearby pollution"  # fmt: skip
            sentence = block[block.index(start) :].split("\n")[0]
            if others > 0:
                assert f"{others_words} ({_pct(others, lang)})" in sentence, sentence
            else:
                assert others_words not in sentence, sentence
            if rest > 0:
                assert f"{around_words} ({_pct(rest, lang)})" in sentence, sentence
            said += 1
    assert said >= 10


def test_the_parts_of_other_territories_and_surroundings_are_traced():
    """Both parts are traced numbers (``origin`` a list, summed): the report test's reader
    computes them again from the file; an own share that rounds to 0 or 100 names them
    too."""
    ds = _output()
    html, text = _render(ds, "MEL")
    assert "data-var='exposure_contribution'" in html
    assert re.search(r'"origin": \["CUD", "ACSO", "CCHF", "DOUAISIS", "CCVT", "ARC"\]',
                     html.replace("&#34;", '"').replace("&quot;", '"'))  # fmt: skip
    assert "le reste vient des autres territoires étudiés (" in text
    assert ") et des communes alentour, hors des territoires étudiés (" in text
    ec = ds["exposure_contribution"]
    none = ds.assign(exposure_contribution=ec.where(ec["origin"] != "MEL", 0.0))
    _, fr = _render(none, "MEL")
    assert "(moins de 1 %, arrondi à 0 %) : elle vient des autres territoires étudiés (" in fr
    _, en = _render(none, "MEL", "en")
    assert "(under 1 %, rounded to 0 %): it comes from the other territories studied (" in en


# ----------------------------------------------------------------------------- F4 0 %
def _few_in_the_neighbourhoods(ds: xr.Dataset) -> xr.Dataset:
    """MEL's priority neighbourhoods shrunk to 3 000 of its inhabitants in 2023 (0.25 %),
    10 of them above the WHO value where the file had some above it (0.3 %)."""
    ds = ds.copy(deep=True)
    sel = {"year": 2023, "territory": "MEL"}
    zi = ds["zone_inhabitants"]
    total = float(zi.sel(sel).sum())
    zi.loc[{"zone": "inside", **sel}] = 3000.0
    zi.loc[{"zone": "outside", **sel}] = total - 3000.0
    za = ds["zone_inhabitants_above"]
    inside = za.sel(zone="inside", **sel)
    za.loc[{"zone": "inside", **sel}] = inside.where(inside == 0, 10.0)
    return ds


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_small_neighbourhood_is_not_zero_per_cent_of_the_territory(sample, lang):
    """« 3 000 habitants … soit 0 % de ses habitants », and « 3 000 (0 %) » in the table:
    a count that is not 0 gets « moins de 1 % », as in sections 1 and 2."""
    html, text = _render(_few_in_the_neighbourhoods(sample), "MEL", lang)
    if lang == "fr":
        assert "3 000 habitants du territoire vivent dans les quartiers prioritaires" in text
        assert "soit moins de 1 % de ses habitants" in text and "soit 0 %" not in text
    else:
        assert "3,000 of the territory's inhabitants live in the priority" in text
        assert "less than 1 % of its inhabitants" in text
    s6 = _words(_section(html, "quartiers" if lang == "fr" else "neighbourhoods", "scenario"))
    assert re.search(r"(?m)^10 \((moins de|less than) 1 %\)$", s6), s6
    assert not re.search(r"(?m)^[1-9][0-9 ,]* \(0 %\)$", s6), s6


def test_a_background_under_half_a_per_cent_is_not_about_zero_per_cent():
    """« La pollution venue de loin représente environ 0 % » for a background that is
    there: « moins de 1 % »."""
    ds = _output()
    ds["background"] = ds["background"] * 1e-3
    _, fr = _render(ds, "MEL")
    assert "environ 0 %" not in fr
    assert "La pollution venue de loin représente moins de 1 % de ce que respirent" in fr
    _, en = _render(ds, "MEL", "en")
    assert "Pollution from far away makes up less than 1 % of what" in en


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_no_share_of_something_is_written_zero_per_cent(sample, rendered, lang):
    """Every « 0 % » of the pages (the sample's seven territories, the neighbourhoods
    shrunk, a tiny background) is a share of nothing: a count written 0 before it, or the
    « rounded to 0 % » of a sentence that says « moins de 1 % » first."""
    small = _few_in_the_neighbourhoods(sample)
    small["background"] = small["background"] * 1e-3
    pages = [(rendered[t, lang][0], t) for t in TERRITORIES]
    pages.append((_render(small, "MEL", lang)[0], "MEL small"))
    for html, name in pages:
        lines = _words(html).splitlines()
        for k, line in enumerate(lines):
            for m in re.finditer(r"(?<![0-9,.\u202f])0 %", line):
                before = line[: m.start()]
                ok = (
                    before.endswith(("arrondi à ", "rounded to "))
                    or re.search(r"(?:^|\D)0 (?:habitants?|inhabitants?)? ?\($", before)
                    or (before == "" and lines[k - 1] == "0")  # a cell after a count of 0
                )
                assert ok, (name, lines[k - 1], line)


# ----------------------------------------------------------------------------- F6 digits
def test_quantile_levels_and_the_uncertainty_range_have_their_own_digits(sample):
    """The median and the 95th percentile were written with the digits of the mean (« 0,4 »
    for 0,407 beside a mean of 16,4; « 2,41 » for 2,408 beside a mean of 0,53): each level
    is now written by the rule for a level on its own, a tenth from 1 µg/m³ up, two
    significant digits below. The same for the bounds of the uncertainty range."""
    ds = sample.copy(deep=True)
    q = ds["exposure_quantile"]
    at = {"year": 2023, "territory": "MEL"}
    q.loc[{**at, "pollutant": "PM10", "quantile": 0.5}] = 0.4070
    q.loc[{**at, "pollutant": "PM10", "quantile": 0.95}] = 2.4082
    ds["exposure"].loc[{**at, "pollutant": "PM2.5"}] = 0.5321
    q.loc[{**at, "pollutant": "PM2.5", "quantile": 0.5}] = 0.4567
    q.loc[{**at, "pollutant": "PM2.5", "quantile": 0.95}] = 2.4082
    _, fr = _render(ds, "MEL")
    assert float(ds["exposure"].sel(**at, pollutant="PM10")) > 1.0  # written to a tenth
    assert (
        "PM10 : la moitié des habitants respire moins de 0,41 µg/m³ ; les 5 habitants sur 100 "
        "les plus exposés respirent plus de 2,4 µg/m³" in fr
    )
    assert "0,53 µg/m³" in fr  # the mean: two significant digits
    assert (
        "PM2,5 : la moitié des habitants respire moins de 0,46 µg/m³ ; les 5 habitants sur 100 "
        "les plus exposés respirent plus de 2,4 µg/m³" in fr
    )
    rich = _output(change=True)
    p = rich["exposure_percentile"]
    pcts = p["percentile"].values
    sel = {"year": 2023, "territory": "MEL", "pollutant": "NO2"}
    p.loc[{**sel, "percentile": pcts[0]}] = 0.4567
    p.loc[{**sel, "percentile": pcts[-1]}] = 12.345
    _, fr = _render(rich, "MEL")
    assert float(rich["exposure"].sel(sel)) >= 1.0
    assert "très probablement comprise entre 0,46 et 12,3 µg/m³" in fr


# ----------------------------------------------------------------------------- F7
def _without_background(ds: xr.Dataset, sectors: list[str]) -> xr.Dataset:
    """`ds` as a run given no background that counts only `sectors`."""
    ds = ds.copy(deep=True)
    ds["background"] = ds["background"] * 0.0
    tc = ds["territory_contribution"]
    ds["territory_contribution"] = tc.where(tc["sector"].isin(sectors), 0.0)
    return ds


def test_a_run_without_background_names_only_the_sources_it_counts(sample):
    """Section 4 of a run given no background and counting industry only said « ce rapport
    ne compte que les sources proches, les voitures, le chauffage, les usines… »: it names
    the sectors counted; with many, everyday examples of those counted only."""
    ds = _without_background(sample, ["B_Industry", "F_RoadTransport"])
    _, fr = _render(ds, "CUD")
    assert "ce rapport ne compte que les sources proches (industrie, trafic routier). Voici" in fr
    assert "les voitures" not in fr and "le chauffage" not in fr
    _, en = _render(ds, "CUD", "en")
    assert "this report counts the nearby sources only (industry, road traffic). Here" in en
    assert "cars" not in en
    many = [str(s) for s in sample["sector"].values if s != "C_OtherStationaryComb"]
    _, fr = _render(_without_background(sample, many), "CUD")
    assert "ne compte que les sources proches (les voitures, les usines…)" in fr
    _, fr = _render(sample, "CUD")  # with its background: examples of the sectors counted
    assert "le reste des sources proches (les voitures, le chauffage, les usines…)" in fr


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_other_reference_values_exceeded_are_listed(sample, lang):
    """The file counted 12 923 of CUD's inhabitants above the EU 2030 SO2 limit and the page
    never said so: a list now names the reference values the page does not detail that some
    inhabitants live above (another pollutant, or the EU 2008 limit of one it follows), with
    the inhabitants, their share and the value; a value nobody exceeds is not listed."""
    ds = sample.copy(deep=True)
    ia = ds["inhabitants_above"]
    at = {"year": 2023, "territory": "CUD"}
    ia.loc[{**at, "pollutant": "SO2", "threshold": "EU2030"}] = 12923.0
    ia.loc[{**at, "pollutant": "NO2", "threshold": "EU2008"}] = 2018.0
    ia.loc[{**at, "pollutant": "PM10", "threshold": "EU2008"}] = 0.0
    people = float(ds["population_total"].sel(at))
    html, text = _render(ds, "CUD", lang)
    share = _pct(100 * 12923.0 / people, lang)
    if lang == "fr":
        assert (
            "en 2023, des habitants respirent aussi un air au-dessus d'autres valeurs de référence, "
            "que ce rapport ne détaille pas :" in text
        )
        assert (
            f"Dioxyde de soufre (SO₂) : 12 900 habitants ({share}) au-dessus de la limite "
            "européenne qui s'appliquera en 2030 (20 µg/m³)." in text
        )
        assert "Dioxyde d'azote (NO₂) : 2 000 habitants (" in text
        assert "au-dessus de la limite européenne fixée en 2008 (40 µg/m³)" in text
        assert not re.search(r"\(PM10\) : [0-9]", text)  # nobody above its EU 2008 limit
    else:
        assert "in 2023, inhabitants also breathe air above other reference values" in text
        assert (
            f"Sulphur dioxide (SO₂): 12,900 inhabitants ({share}) above the European limit "
            "that will apply in 2030 (20 µg/m³)." in text
        )
        assert "above the European limit set in 2008 (40 µg/m³)" in text
    section = html[
        html.index('<section id="seuils">' if lang == "fr" else '<section id="thresholds">') :
    ]
    assert "'SO2'" not in section or "data-var='inhabitants_above'" in section
    clean = sample.copy(deep=True)
    clean["inhabitants_above"].loc[{**at, "threshold": "EU2008"}] = 0.0
    clean["inhabitants_above"].loc[{**at, "pollutant": "SO2"}] = 0.0
    _, plain = _render(clean, "CUD", lang)
    assert "SO₂" not in plain and "2008" not in plain


def _legend(fig) -> list[str]:
    return [t.get_text() for a in fig.axes if a.get_legend() for t in a.get_legend().get_texts()]


def test_the_trajectory_of_a_run_without_background_has_no_background_layer(sample):
    """The NO2 trajectory of a run given no background listed « Fond régional » in its
    legend (a layer of zeros): it is left out; a run with one keeps it."""
    bare = _without_background(sample, [str(s) for s in sample["sector"].values])
    fig, _ = plot.trajectories(bare, variable="exposure", territory="CUD", pollutant="NO2",
                               lang="fr")  # fmt: skip
    labels = _legend(fig)
    assert "Fond régional" not in labels and "Total" in labels
    fig, _ = plot.trajectories(sample, variable="exposure", territory="CUD", pollutant="NO2",
                               lang="fr")  # fmt: skip
    assert "Fond régional" in _legend(fig)
    fig, _ = plot.trajectories(bare, variable="concentration", territory="CUD", pollutant="NO2",
                               lang="en")  # fmt: skip
    assert not [t for t in _legend(fig) if "background" in t.lower()]


# ----------------------------------------------------------------------------- F8 spaces
#: A sentence end followed by a capital with no space between (« récentes.La pollution »).
#: Letters, closing quotes and brackets, % and ³ end a sentence; a digit does not (2.5, 0.1.0).
_GLUED = re.compile(r"(?:[^\W\d_]|[»)%³])[.!?;:][A-ZÀÂÉÈÊÎÔÛÇ]")


def _pages(sample: xr.Dataset, rendered: dict, lang: str) -> list[tuple[str, str]]:
    """The pages of the sample's seven territories, and of variants: no background, a
    scenario with zones and a change split, a single year."""
    from test_report import _scenario_file

    pages = [(t, rendered[t, lang][0]) for t in TERRITORIES]
    pages.append(("no background", _render(_without_background(sample, ["B_Industry"]), "CUD",
                                           lang)[0]))  # fmt: skip
    rich = _output(zones=True, change=True)
    pages.append(("rich", _render(rich, "CUD", lang, scenario=_scenario_file(rich))[0]))
    pages.append(("one year", _render(sample.sel(year=[2023]), "MEL", lang)[0]))
    return pages


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_no_sentence_is_glued_to_the_next(sample, rendered, lang):
    """Every rendered page, in both languages: no sentence end followed directly by a
    capital (trim_blocks ate the newline after ``{% endif %}``: « récentes.La pollution »),
    a unit (« µg/m³.La ») or a share (« 3 %.La ») included; a mark after a digit is no
    sentence end (2.5, the version 0.1.0)."""
    for name, html in _pages(sample, rendered, lang):
        for line in _words(html).splitlines():
            glued = _GLUED.search(line)
            assert glued is None, (name, lang, line[max(glued.start() - 60, 0) : glued.end() + 40])


# ----------------------------------------------------------------------------- minor
def test_the_source_receptor_caption_says_levels_in_ug_m3(monkeypatch, sample):
    """The caption said « part du dioxyde d'azote respiré » while the figure shows
    µg/m³: it says the level, in µg/m³."""
    from matplotlib.figure import Figure

    import trajectoire.report.build as build

    def blank(*args, **kwargs):
        return Figure(), None

    for name in ("map", "exposure_distribution", "trajectories", "source_receptor"):
        monkeypatch.setattr(plot, name, blank)
    monkeypatch.setattr(build, "_png", lambda fig: "data:image/png;base64,")
    for lang, words in (("fr", "le niveau de dioxyde d'azote que respirent en moyenne"),
                        ("en", "the level of nitrogen dioxide the inhabitants of each")):  # fmt: skip
        ctx, _ = build.report_context(sample, "MEL", lang=lang)
        caption = ctx["figures"]["source_receptor"]["caption"]
        assert words in caption and "µg/m³" in caption, caption
        assert "part " not in caption and "share" not in caption


def test_the_method_says_which_years_were_computed(rendered):
    """« refaits pour chaque année de 1990 à 2023 » for a run of three years: the method
    names the years computed; a run of every year keeps « chaque année »."""
    _, fr = rendered["MEL", "fr"]
    assert "chaque année de 1990 à 2023" not in fr
    assert "refaits pour les années 1990, 2010 et 2023 (les seules calculées)" in fr
    _, en = rendered["MEL", "en"]
    assert "rebuilt for the years 1990, 2010 and 2023 (the only ones calculated)" in en
    every = _output().assign_coords(year=[2021, 2022, 2023])
    assert "refaits pour chaque année de 2021 à 2023" in _render(every, "MEL")[1]


def test_year_list_words():
    from trajectoire.report.wording import year_list

    assert year_list([2023, 1990, 1991, 1992, 2010], "fr") == "1990 à 1992, 2010 et 2023"
    assert year_list([2023], "en") == "2023"
