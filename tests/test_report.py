"""The territory report (issue 17): one self-contained HTML page, every number traced.

The output is built by hand (an output-like NetCDF on a 30 x 70 grid at 100 m in Lambert-93,
the seven territories side by side, three years, three sectors) so that the seven reports
render in seconds; ``docs/report.md`` shows one made from the sample run. Each number of a
report is read again here from the NetCDF with an evaluator written independently of
:mod:`trajectoire.report.numbers`, from the attributes of its ``<span class="n">``.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import subprocess
import warnings
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr
from matplotlib.image import imread

from trajectoire.cli import main
from trajectoire.errors import TrajectoireWarning
from trajectoire.geo.grid import Grid
from trajectoire.report import build_report, chromium_command, find_chromium, format_number

YEARS = [1990, 2005, 2023]
SECTORS = ["C_OtherStationaryComb", "F_RoadTransport", "B_Industry"]
POLLUTANTS = ["NOx", "PM10", "PM2.5", "NO2"]
TERRITORIES = ["MEL", "CUD", "ACSO", "CCHF", "DOUAISIS", "CCVT", "ARC"]
ORIGINS = [*TERRITORIES, "rest"]
THRESHOLDS = {"WHO2021": [np.nan, 15.0, 5.0, 10.0], "EU2030": [np.nan, 20.0, 10.0, 20.0]}
SECTIONS_FR = ["respirer", "seuils", "evolution", "sources", "emergents", "quartiers", "scenario",
               "methode"]  # fmt: skip
SECTIONS_EN = ["breathe", "thresholds", "change", "sources", "emerging", "neighbourhoods", "scenario",
               "method"]  # fmt: skip


# ----------------------------------------------------------------------------- fixtures
def _output(scale: float = 1.0, *, zones: bool = False, change: bool = False) -> xr.Dataset:
    """An output-like dataset with the variables of docs/outputs.md the report reads."""
    rng = np.random.default_rng(17)
    g = Grid.from_bounds(700_000, 7_050_000, 707_000, 7_053_000, 100)
    ny, nx = g.shape
    frac = np.zeros((7, ny, nx), np.float32)
    for i in range(7):
        frac[i, 5:25, 10 * i : 10 * i + 10] = 1.0
    trend = np.array([2.0, 1.4, 1.0])[:, None, None, None, None]
    emission = trend * rng.gamma(2.0, 0.5, size=(1, 3, 4, ny, nx)).astype(np.float32)
    emission[:, :, 3] = np.nan  # NO2 is not emitted
    yy, xx = np.mgrid[0:ny, 0:nx]
    smooth = 4.0 + 12.0 * np.exp(-((yy - 15) ** 2 + (xx - 20) ** 2) / 300.0)
    bg = np.array([[30.0, 20.0, 14.0, 22.0], [25.0, 17.0, 11.0, 18.0], [18.0, 13.0, 7.0, 9.0]])
    conc = scale * (trend[:, 0] * smooth[None, None] * 0.5) + bg[:, :, None, None]
    agg = scale * rng.uniform(0.0, 1.0, size=(3, 7, 3, 8, 4)) * trend
    agg[:, :, 2, :, 3] = 0.0  # industry brings no NO2 (a sector left out of the shares)
    dims5 = ("year", "receptor", "sector", "origin", "pollutant")
    c5 = {"year": YEARS, "receptor": TERRITORIES, "sector": SECTORS, "origin": ORIGINS}
    c5 = {**c5, "pollutant": POLLUTANTS}
    exp_c = xr.DataArray(agg.astype(np.float32), dims=dims5, coords=c5, attrs={"units": "ug m-3"})
    bg_da = xr.DataArray(
        bg, dims=("year", "pollutant"), coords={"year": YEARS, "pollutant": POLLUTANTS}
    )
    exposure = (exp_c.sum(("sector", "origin")) + bg_da).rename(receptor="territory")
    people = np.array([1_195_234, 191_478, 90_234, 53_437, 149_282, 20_462, 83_992], float)
    pop = np.tile(people, (3, 1)) * np.array([0.95, 0.98, 1.0])[:, None]
    thr = xr.DataArray(
        np.array([THRESHOLDS["WHO2021"], THRESHOLDS["EU2030"]]),
        dims=("threshold", "pollutant"),
        coords={"threshold": ["WHO2021", "EU2030"], "pollutant": POLLUTANTS},
    )
    above = (exposure > thr) * xr.DataArray(pop, dims=("year", "territory")) * 0.87
    above = above.where(thr.notnull()).transpose("year", "territory", "pollutant", "threshold")
    q = xr.DataArray([0.05, 0.5, 0.95], dims="quantile")
    quant = exposure * (0.7 + 0.6 * q)
    ds = xr.Dataset(
        {
            "emission": (("year", "sector", "pollutant", "y", "x"), emission, {"units": "t yr-1"}),
            "concentration": (("year", "pollutant", "y", "x"), conc, {"units": "ug m-3"}),
            "background": bg_da.assign_attrs(units="ug m-3"),
            "exposure_contribution": exp_c,
            "territory_contribution": exp_c * 0.9,
            "exposure": exposure.assign_attrs(units="ug m-3"),
            "exposure_quantile": quant.transpose("year", "territory", "pollutant", "quantile"),
            "inhabitants_above": above.assign_attrs(units="1"),
            "exposure_threshold": thr.assign_attrs(units="ug m-3"),
            "population_total": (("year", "territory"), pop, {"units": "1"}),
            "territory_fraction": (("territory", "y", "x"), frac, {"units": "1"}),
            "mask": (("y", "x"), np.ones((ny, nx), np.int8)),
        },
        coords={**g.coords(), "territory": TERRITORIES, "quantile": [0.05, 0.5, 0.95]},
        attrs={
            "crs": "EPSG:2154",
            "title": "trajectoire sample",
            "trajectoire_version": "0.1.test",
            "input_checksums": json.dumps({"roads": "sha256:0", "meteo": "sha256:1"}),
        },
    )
    if change:  # a run with [trajectory.uncertainty]: the percentiles of the exposures
        from trajectoire.trajectory.uncertainty import Uncertainty, propagate

        unc = Uncertainty(30.0, realizations=200, seed=3)
        ds["exposure_percentile"] = propagate(ds, unc)["exposure_percentile"]
    if zones:  # the rich variant has the emerging species too
        ds = xr.merge(
            [ds, _emerging(exp_c)],
            join="outer",
            compat="no_conflicts",
            combine_attrs="override",
        )
    if zones:  # as a run writes them with [inputs] exposure_zones (docs/exposure.md)
        ds = ds.merge(_zone_split(exposure, pop, thr), join="left", compat="no_conflicts")
    if change:
        d = exposure.sel(year=YEARS[-1]) - exposure.sel(year=YEARS[0])
        d = d.rename(territory="receptor")
        sect = xr.DataArray([0.5, 0.3, 0.2], dims="sector", coords={"sector": SECTORS})
        ds["change_emission"] = (0.6 * d * sect).assign_attrs(units="ug m-3")
        ds["change_meteorology"] = (0.1 * d * sect).assign_attrs(units="ug m-3")
        ds["change_background"] = (0.3 * d).assign_attrs(units="ug m-3")
        ds["change_total"] = d.assign_attrs(units="ug m-3")
        ds.attrs["period"] = f"{YEARS[0]} et {YEARS[-1]}"
    return ds


def _zone_split(exposure: xr.DataArray, pop: np.ndarray, thr: xr.DataArray) -> xr.Dataset:
    """The zone variables of a run: 8 % of each territory's inhabitants inside the priority
    neighbourhoods, breathing 15 % more than the territory's mean; the two sides, weighted
    by their inhabitants, give ``exposure``."""
    people = xr.DataArray(pop, dims=("year", "territory"), coords=exposure["territory"].coords)
    people = people.assign_coords(year=YEARS)
    inside_people = 0.08 * people
    inside = 1.15 * exposure
    outside = (exposure * people - inside * inside_people) / (people - inside_people)
    zone = xr.DataArray(["inside", "outside"], dims="zone")
    level = xr.concat([inside, outside], dim=zone).transpose(
        "year", "territory", "zone", "pollutant"
    )
    count = xr.concat([inside_people, people - inside_people], dim=zone).transpose(
        "year", "territory", "zone"
    )
    above = ((level > thr) * count * 0.9).where(thr.notnull())
    return xr.Dataset(
        {
            "zone_inhabitants": count.assign_attrs(units="1"),
            "zone_exposure": level.assign_attrs(units="ug m-3"),
            "zone_inhabitants_above": above.transpose(
                "year", "territory", "zone", "pollutant", "threshold"
            ).assign_attrs(units="1"),
        }
    )


def _emerging(exp_c: xr.DataArray) -> xr.Dataset:
    """Two emerging species as a run writes them: PFOA (a mass, a few pg m-3 to ng m-3, from
    industry) on ``pollutant``, UFP (particle numbers, cm-3, mostly road traffic) on
    ``pollutant_number``, with a reference level for UFP (WHO 2021 good practice)."""
    pfoa = (exp_c.sel(pollutant=["NOx"]) * 1e-4).assign_coords(pollutant=["PFOA"])
    pfoa.loc[{"sector": "B_Industry"}] *= 30.0
    ufp = (exp_c.sel(pollutant=["PM2.5"]) * 400.0).assign_coords(pollutant=["UFP"])
    ufp = ufp.rename(pollutant="pollutant_number").assign_attrs(units="cm-3")
    bg = xr.DataArray([[3e-6], [2e-6], [1e-6]], dims=("year", "pollutant"),
                      coords={"year": YEARS, "pollutant": ["PFOA"]})  # fmt: skip
    exposure = (pfoa.sum(("sector", "origin")) + bg).rename(receptor="territory")
    number = (ufp.sum(("sector", "origin")) + 2500.0).rename(receptor="territory")
    gps = xr.DataArray([[10000.0]], dims=("threshold", "pollutant_number"),
                       coords={"threshold": ["WHO2021_GPS"], "pollutant_number": ["UFP"]})  # fmt: skip
    return xr.Dataset(
        {
            "exposure": exposure.assign_attrs(units="ug m-3"),
            "exposure_contribution": pfoa.assign_attrs(units="ug m-3"),
            "exposure_number": number.assign_attrs(units="cm-3"),
            "exposure_contribution_number": ufp,
            "exposure_threshold_number": gps.assign_attrs(units="cm-3"),
        }
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The output, a variant with zones and a change split, and a scenario, as NetCDF."""
    d = tmp_path_factory.mktemp("report")
    out = {"out": d / "out.nc", "rich": d / "rich.nc", "scenario": d / "scenario.nc"}
    _output().to_netcdf(out["out"])
    _output(zones=True, change=True).to_netcdf(out["rich"])
    sc = _output(scale=0.5)[["exposure", "inhabitants_above"]].sel(year=[2023])
    sc.attrs = {"scenario": "moins de voitures"}
    sc.to_netcdf(out["scenario"])
    return out


@pytest.fixture(scope="module")
def reports(files: dict[str, Path]) -> dict[str, Path]:
    """The seven French reports, MEL in English, and MEL with zones, split and scenario."""
    made: dict[str, Path] = {}
    d = files["out"].parent
    for t in TERRITORIES:
        made[t] = d / f"rapport-{t}.html"
        assert main(["report", str(files["out"]), "--territory", t, "--out", str(made[t])]) == 0
    made["en"] = d / "report-MEL-en.html"
    assert (
        main(["report", str(files["out"]), "-t", "MEL", "--lang", "en", "-o", str(made["en"])]) == 0
    )
    made["rich"] = d / "rapport-riche.html"
    argv = ["report", str(files["rich"]), "-t", "CUD", "--scenario", str(files["scenario"])]
    assert main([*argv, "-o", str(made["rich"])]) == 0
    return made


# ----------------------------------------------------------------------------- html reading
class _Page(HTMLParser):
    """The numbers, images, links and ids of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.numbers: list[dict[str, str]] = []
        self.images: list[str] = []
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.sources: list[str] = []
        self.visible = ""  #: the text a reader sees (outside tags, styles and attributes)
        self._open: dict[str, str] | None = None
        self._style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self._style = tag == "style"
        if tag == "img":
            self.visible += " " + a.get("alt", "") + " "
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "span" and a.get("class") == "n":
            self._open = {**a, "text": ""}
        if tag == "img":
            self.images.append(a.get("src", ""))
        if tag == "a" and "href" in a:
            self.links.append(a["href"])
        for k in ("src", "href"):
            if k in a and tag in ("link", "script", "iframe", "img"):
                self.sources.append(a[k])

    def handle_data(self, data: str) -> None:
        if not self._style:
            self.visible += data
        if self._open is not None:
            self._open["text"] += data

    def handle_endtag(self, tag: str) -> None:
        self._style = False
        if tag == "span" and self._open is not None:
            self.numbers.append(self._open)
            self._open = None


def _page(path: Path) -> tuple[_Page, str]:
    text = path.read_text(encoding="utf-8")
    p = _Page()
    p.feed(text)
    return p, text


def _term(ds: xr.Dataset, var: str, sel: dict[str, Any], dims: list[str], weight: Any) -> float:
    da = ds[var].sel(sel)
    if weight:
        da = da.fillna(0) * ds[weight["var"]].sel(weight["sel"]).fillna(0)
    if dims:
        da = da.sum(dims)
    assert da.ndim == 0, (var, sel, dims)
    return float(da)


def _expected(ds: xr.Dataset, n: dict[str, str]) -> float:
    """A number re-read from the NetCDF, from the recipe of its span only."""
    a = _term(
        ds,
        n["data-var"],
        json.loads(n["data-sel"]),
        json.loads(n.get("data-sum", "[]")),
        json.loads(n.get("data-weight", "null")),
    )
    op = n.get("data-op")
    if op:
        r = json.loads(n["data-ref"])
        b = _term(ds, r["var"], r["sel"], r.get("sum", []), r.get("weight"))
        if n.get("data-round") == "1":  # the difference of the two values as written
            a, b = round(a, int(n["data-nd"])), round(b, int(n["data-nd"]))
        a = {"diff": a - b, "share": 100 * a / b, "pct_change": 100 * (a - b) / b}[op]
    a = abs(a) if n.get("data-abs") == "1" else a
    return a * float(n.get("data-scale", "1"))


def _parse(text: str, lang: str) -> float:
    s = text.replace("−", "-")
    s = s.replace("\u202f", "") if lang == "fr" else s.replace(",", "")
    return float(s.replace(",", ".")) if lang == "fr" else float(s)


# ----------------------------------------------------------------------------- tests
@pytest.mark.slow  # the nine reports of the module fixture take about 30 s
@pytest.mark.parametrize("territory", TERRITORIES)
def test_report_renders_for_each_territory(reports: dict[str, Path], territory: str):
    page, text = _page(reports[territory])
    assert text.startswith("<!DOCTYPE html>") and '<html lang="fr">' in text
    assert all(f'id="{s}"' in text for s in SECTIONS_FR)
    assert "microgrammes par mètre cube d'air" in text
    assert "trafic routier" in text.lower() and "chauffage des logements" in text.lower()
    assert len(page.numbers) > 40 and len(page.images) == 6
    # no jargon: no sector code, no nomenclature name, no unit symbol of the files
    for word in ("GNFR", "F_RoadTransport", "RoadTransport", "ug m-3", "µg m⁻³", " nan ", "None"):
        assert word not in page.visible, word
    # the unit is explained before its symbol is first used
    assert page.visible.index("microgrammes par mètre cube") < page.visible.index("µg/m³")
    assert "n'est pas disponible" in text  # no change split in this output
    box = text[text.index('id="essentiel"') : text.index("<nav>")]
    assert "Quartiers prioritaires" not in box  # no zones in this output: nothing said
    assert "ne sont pas dans ce fichier" in text  # no zones
    assert "Aucun scénario" in text


@pytest.mark.slow  # the nine reports of the module fixture take about 30 s
@pytest.mark.parametrize("name", [*TERRITORIES, "en", "rich"])
def test_every_number_is_read_from_the_netcdf(reports, files, name):
    page, _ = _page(reports[name])
    lang = "en" if name == "en" else "fr"
    path = files["rich"] if name == "rich" else files["out"]
    with xr.open_dataset(path) as ds, xr.open_dataset(files["scenario"]) as sc:
        for n in page.numbers:
            source = sc if n.get("data-src") == "scenario" else ds
            nd = int(n["data-nd"])
            want = _expected(source, n)
            shown = _parse(n["text"], lang)
            assert n["text"] == format_number(want, nd, lang) or abs(
                shown - want
            ) <= 0.5 * 10.0 ** (-nd) * (1 + 1e-6), n


@pytest.mark.slow  # the nine reports of the module fixture take about 30 s
def test_numbers_are_written_in_french_style(reports):
    page, text = _page(reports["MEL"])
    assert "<span class=\"n\" data-var='exposure'" in text
    no2 = [n for n in page.numbers if n["data-var"] == "exposure" and '"NO2"' in n["data-sel"]]
    assert any("," in n["text"] for n in no2)
    people = [n for n in page.numbers if n["data-var"] == "population_total"]
    assert people[0]["text"] == "1\u202f195\u202f200"  # 1 195 234 to the nearest hundred
    assert format_number(1234567.891, 1, "fr") == "1\u202f234\u202f567,9"
    assert format_number(-0.04, 1, "fr") == "0,0" or format_number(-0.04, 1, "fr") == "−0,0"


@pytest.mark.slow  # the nine reports of the module fixture take about 30 s
def test_english_report(reports):
    page, text = _page(reports["en"])
    assert '<html lang="en">' in text and all(f'id="{s}"' in text for s in SECTIONS_EN)
    assert "micrograms per cubic metre of air" in text and "road traffic" in text.lower()
    assert "1,195,200" in text


@pytest.mark.slow  # the nine reports of the module fixture take about 30 s
def test_zones_change_split_and_scenario(reports):
    page, text = _page(reports["rich"])
    assert (
        "vivent dans les quartiers prioritaires" in text
        and "ne sont pas dans ce fichier" not in text
    )
    assert "de plus que le reste du territoire" in text  # 15 % more inside, in words
    # the essentials at the top: each pollutant, the first nearby source, the neighbourhoods
    box = text[text.index('id="essentiel"') : text.index("<nav>")]
    assert box.count("µg/m³ en moyenne") == 3 and "Première source proche (NO₂)" in box
    assert "Quartiers prioritaires" in box and "data-var='zone_exposure'" in box
    assert "inside" not in page.visible and "exposure_zones" not in page.visible
    assert "n'est pas disponible" not in text and "se partage ainsi" in text
    assert "moins de voitures" in text
    assert {n["data-var"] for n in page.numbers} >= {
        "zone_exposure",
        "zone_inhabitants",
        "zone_inhabitants_above",
        "change_emission",
        "change_total",
        "exposure_percentile",  # the run carried the emissions' uncertainty
    }
    assert "très probablement comprise entre" in text
    assert any(n.get("data-src") == "scenario" for n in page.numbers)
    # the plain run has no percentiles: no such sentence
    assert "très probablement" not in _page(reports["CUD"])[1]


@pytest.mark.slow  # the nine reports of the module fixture take about 30 s
@pytest.mark.parametrize("name", ["MEL", "en", "rich"])
def test_images_embedded_and_links_internal(reports, name):
    page, text = _page(reports[name])
    for src in page.images:
        assert src.startswith("data:image/png;base64,")
        png = base64.b64decode(src.split(",", 1)[1])
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        img = imread(io.BytesIO(png))
        assert img.shape[0] > 100 and img.shape[1] > 100 and float(img[..., :3].std()) > 0.05
    assert page.links and all(h.startswith("#") and h[1:] in page.ids for h in page.links)
    assert all(s.startswith("data:") for s in page.sources)
    assert "http://" not in text and "https://" not in text and "<link" not in text


@pytest.mark.slow  # the nine reports of the module fixture take about 30 s
def test_headless_chromium_screenshot(reports, tmp_path):
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("no headless Chromium (apt-get install chromium, or set TRAJECTOIRE_CHROMIUM)")
    shot = tmp_path / "shot.png"
    cmd = chromium_command(
        chromium,
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--screenshot={shot}",
        "--window-size=1200,3000",
        reports["MEL"].resolve().as_uri(),
    )
    subprocess.run(cmd, capture_output=True, timeout=120, check=True)
    img = imread(shot)
    assert img.shape[:2] == (3000, 1200)
    rgb = img[..., :3]
    assert float(rgb.std()) > 0.05 and float((rgb.mean(-1) < 0.5).mean()) > 0.01  # text drawn


def test_pdf_through_chromium(files, tmp_path, monkeypatch, capsys):
    out = tmp_path / "r.html"
    argv = ["report", str(files["out"]), "-t", "CCVT", "-o", str(out), "--pdf"]
    if find_chromium() is None:
        assert main(argv) == 2
        assert "needs headless Chromium" in capsys.readouterr().err
        return
    assert main(argv) == 0
    pdf = out.with_suffix(".pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 10_000
    monkeypatch.setenv("TRAJECTOIRE_CHROMIUM", str(tmp_path / "no-chromium"))
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "needs headless Chromium" in err[0]


@pytest.mark.parametrize(
    ("extra", "drop", "message"),
    [
        (["-t", "LILLE"], None, "territory 'LILLE' is not in the output"),
        (["-t", "MEL", "--lang", "de"], None, "--lang 'de' is not available"),
        (["-t", "MEL"], "inhabitants_above", "partial.nc' lacks inhabitants_above (it needs"),
        # a NetCDF that is no run's output: was a KeyError's traceback
        (["-t", "MEL"], "all", "foreign.nc' has none of the variables it needs (exposure,"),
        (["-t", "MEL", "--scenario", "missing.nc"], None, "--scenario"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(files, tmp_path, capsys, extra, drop, message):
    path = files["out"]
    if drop == "all":
        path = tmp_path / "foreign.nc"
        xr.Dataset({"t": (("y", "x"), np.zeros((3, 4)))}).to_netcdf(path)
    elif drop is not None:
        path = tmp_path / "partial.nc"
        with xr.open_dataset(files["out"]) as ds:
            ds.drop_vars(drop).to_netcdf(path)
    assert main(["report", str(path), "-o", str(tmp_path / "r.html"), *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert (
        len(err) == 1 and err[0].startswith("trajectoire: error: report") or "--scenario" in err[0]
    )
    assert message in err[0]
    assert not (tmp_path / "r.html").exists()


def test_build_report_in_memory():
    html = build_report(_output(), "ARC", lang="en")
    assert "Agglomération de la Région de Compiègne" in html and os.linesep in html


def test_a_scenario_file_as_trajectoire_scenario_writes_it():
    """`trajectoire scenario` writes one threshold per pollutant (no `threshold` dim): the
    report compares the exposure and leaves the inhabitants columns out (no traceback)."""
    base = _output()
    sc = base[["exposure"]].copy()
    sc["exposure"] = sc["exposure"] * 0.9
    sc["inhabitants_above"] = sc["exposure"] * 0.0  # (year, territory, pollutant)
    sc.attrs = {"scenario": "moins de voitures"}
    html = build_report(base, "MEL", lang="fr", scenario=sc)
    assert "moins de voitures" in html


def test_the_inputs_named_in_plain_words_with_anchor_inventories():
    """The report's list of data: each input once by its plain name, an anchor
    inventory's inputs (``anchors[i].<key>``) as "of other years", unnamed keys left out."""
    from trajectoire.report.build import _input_names

    keys = ["territories", "area_emissions", "point_sources.1", "anchors[0].area_emissions",
            "anchors[1].area_emissions", "anchors[1].gridded", "anchors[0].roads"]  # fmt: skip
    fr = _input_names(keys, "fr")
    assert fr == [
        "contours des territoires",
        "inventaire des émissions par commune",
        "inventaire des émissions par commune, d'autres années (ancrages)",
        "réseau routier et trafic, d'autres années (ancrages)",
    ]
    assert (
        _input_names(keys, "en")[2]
        == "emission inventory by municipality, of other years (anchors)"
    )


def test_the_new_pollutants_in_plain_words_and_readable_units():
    """Section 5: each emerging species the inhabitants breathe, in a unit that keeps its level
    readable (particles per cm3 for UFP), with its largest nearby source; every number is
    its recipe's value (the change of unit included)."""
    from trajectoire.report import report_context
    from trajectoire.report.wording import SECTORS as WORDS

    ds = _output(zones=True)
    ctx, tracer = report_context(ds, "CUD", lang="fr", figures=False)
    rows = {r["id"]: r for r in ctx["emerging"]["rows"]}
    assert list(rows) == ["PFOA", "UFP"]  # the regulated pollutants are not repeated here
    pfoa = float(ds["exposure"].sel(year=2023, territory="CUD", pollutant="PFOA"))
    assert rows["PFOA"]["unit"] == ("ng/m³" if pfoa * 1e3 >= 0.1 else "pg/m³")
    assert rows["UFP"]["unit"] == "particules/cm³"
    for pol, var in (("PFOA", "exposure_contribution"), ("UFP", "exposure_contribution_number")):
        dim = "pollutant" if pol == "PFOA" else "pollutant_number"
        parts = ds[var].sel({"year": 2023, "receptor": "CUD", dim: pol}).sum("origin")
        assert rows[pol]["source"] == WORDS["fr"][str(parts.idxmax("sector").item())]
    assert "particules par centimètre cube" in [u["words"] for u in ctx["emerging"]["units"]][-1]
    assert ctx["emerging"]["ufp_gps"] is not None
    for rec in tracer.records:
        want = _expected(ds, rec)
        assert np.isclose(rec["value"], want, rtol=1e-9, atol=0), rec
    assert any(r.get("data-scale") for r in tracer.records)
    html = build_report(ds, "CUD", lang="fr")
    assert "<h2>5. Les nouveaux polluants</h2>" in html and "polluants éternels" in html
    assert "ne contient pas les nouveaux polluants" not in html
    assert "ne contient pas les nouveaux polluants" in build_report(_output(), "CUD")


@pytest.mark.parametrize(
    ("level", "number", "unit"),
    [(0.36, False, ("ug", 1)), (5.9e-4, False, ("ng", 1)), (4.9e-6, False, ("pg", 1)),
     (2e-8, False, ("pg", 3)), (4313.0, True, ("number", -2)), (640.0, True, ("number", 0))],
)  # fmt: skip
def test_levels_are_written_in_the_largest_unit_that_keeps_a_tenth(level, number, unit):
    from trajectoire.report.build import _level_unit

    assert _level_unit(level, number) == unit


def test_neighbourhoods_named_one_by_one_get_a_table():
    """An output whose ``zone`` labels are the neighbourhoods themselves (not the run's
    inside / outside split): one row per neighbourhood, its level per pollutant."""
    ds = _output()
    level = ds["exposure"].expand_dims(zone=["QPV Lille-Sud", "QPV Roubaix"]) * xr.DataArray(
        [1.1, 1.2], dims="zone"
    )
    ds["zone_exposure"] = level.transpose("year", "territory", "zone", "pollutant")
    ds["zone_exposure"].attrs = {"units": "ug m-3", "long_name": "the zones' exposure"}
    people = ds["population_total"].expand_dims(zone=["QPV Lille-Sud", "QPV Roubaix"]) * 0.01
    ds["zone_inhabitants"] = people.transpose("year", "territory", "zone").assign_attrs(units="1")
    html = build_report(ds, "MEL", lang="fr")
    section = html[html.index('<section id="quartiers">') : html.index('<section id="scenario">')]
    assert "QPV Lille-Sud" in section and "QPV Roubaix" in section
    assert section.count("data-var='zone_exposure'") == 2 * 3  # two rows, three pollutants
    assert section.count("data-var='zone_inhabitants'") == 2  # one column: the inhabitants
    assert "moyenne respirée" in section.lower()
    assert "the zones' exposure" not in section  # a plain title, not the file's long_name


def test_a_run_without_background_or_with_few_sources_says_so():
    """A run given no regional background (``background`` 0 everywhere) counts the nearby
    sources only: the report says so at the top and in its method, with the sources the
    file counts; a run with a background does not. The sources counted are those that
    contribute to some receptor. A run named as illustrative is flagged as invented."""
    base = _output()
    base.attrs["title"] = "real territories (illustrative emissions)"
    empty = base.copy()
    empty["background"] = base["background"] * 0.0
    empty["territory_contribution"] = base["territory_contribution"].where(
        base["sector"] == "B_Industry", 0.0
    )
    fr, en = build_report(empty, "MEL", lang="fr"), build_report(empty, "MEL", lang="en")
    assert "aucune pollution de fond" in fr and "sources proches (industrie)" in fr
    assert "Sources comptées</strong> : industrie." in fr
    assert "n'a pas été donnée à ce calcul : elle n'est pas comptée" in fr
    assert "On y ajoute la pollution venue de loin" not in fr
    assert "no background pollution" in en and "nearby sources only (industry)" in en
    assert "données d'exemple inventées" in fr  # "illustrative" in the run's name
    full = build_report(base, "MEL", lang="fr")
    assert "aucune pollution de fond" not in full
    assert "On y ajoute la pollution venue de loin" in full
    assert (
        "Sources comptées</strong> : chauffage des logements et des bureaux, trafic routier, industrie."
        in full
    )
    base.attrs["title"] = "Hauts-de-France 1990-2023"
    assert "données d'exemple inventées" not in build_report(base, "MEL", lang="fr")


def test_the_zones_are_called_by_the_configured_name():
    """``[exposure] zones_name`` (an IRIS layer, schools...) names the zones in the report
    instead of "quartiers prioritaires", in both languages; a plain string serves both;
    without it the priority neighbourhoods' words stay."""
    import json

    rich = _output(zones=True, change=True)
    plain_fr = build_report(rich, "MEL", lang="fr")
    assert "<h2>6. Les quartiers prioritaires</h2>" in plain_fr
    rich.attrs["trajectoire_config_resolved"] = json.dumps(
        {"exposure": {"zones_name": {"fr": "abords des écoles", "en": "school surroundings"}}}
    )
    fr, en = build_report(rich, "MEL", lang="fr"), build_report(rich, "MEL", lang="en")
    assert "<h2>6. Les abords des écoles</h2>" in fr and "quartiers prioritaires" not in fr
    assert '<th scope="col">Dans les abords des écoles</th>' in fr
    assert "<h2>6. School surroundings</h2>" in en and "priority neighbourhood" not in en
    rich.attrs["trajectoire_config_resolved"] = json.dumps({"exposure": {"zones_name": "IRIS"}})
    assert "<h2>6. IRIS</h2>" in build_report(rich, "MEL", lang="en")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('""', "expected a plural noun phrase"),
        ('{ de = "Schulen" }', "the languages of zones_name are 'fr' and 'en'"),
        ("3", "expected a plural noun phrase"),
    ],
)
def test_zones_name_checked(tmp_path, value, expected):
    from fake_pipeline import write_config
    from trajectoire.config import load_config
    from trajectoire.errors import ConfigError

    path = write_config(tmp_path, extra=f"[exposure]\nzones_name = {value}\n")
    with pytest.raises(ConfigError, match=re.escape(expected)):
        load_config(path)
    ok = write_config(tmp_path / "ok", extra='[exposure]\nzones_name = "IRIS"\n')
    assert load_config(ok).exposure.zones_name == "IRIS"
    plain = load_config(write_config(tmp_path / "plain"))  # wording only: the same hash
    assert load_config(ok).config_hash() == plain.config_hash()


def test_the_new_pollutants_inside_and_outside_the_zones():
    """Section 6 compares the emerging species inside the zones with the rest of the
    territory too (``zone_exposure`` of PFOA, ``zone_exposure_number`` of UFP), each in a
    unit that reads, every number traced to its variable; a species that reaches neither
    side is left out."""
    rich = _output(zones=True, change=True)
    ze = rich["zone_exposure"].copy(deep=True)
    ze.loc[{"pollutant": "PFOA", "zone": "inside"}] = 5e-6
    ze.loc[{"pollutant": "PFOA", "zone": "outside"}] = 4e-6
    rich["zone_exposure"] = ze
    number = xr.zeros_like(ze.isel(pollutant=[0])).rename(pollutant="pollutant_number")
    number = number.assign_coords(pollutant_number=["UFP"]).copy(deep=True)
    number.loc[{"zone": "inside"}] = 4500.0
    number.loc[{"zone": "outside"}] = 5200.0
    rich["zone_exposure_number"] = number.assign_attrs(units="cm-3")
    html_fr = build_report(rich, "MEL", lang="fr")
    section = html_fr[
        html_fr.index('<section id="quartiers">') : html_fr.index('<section id="scenario">')
    ]
    assert "Les nouveaux polluants (section 5), dans les quartiers prioritaires" in section
    # each species in the unit of section 5 (ng/m³ for MEL's PFOA here), not one of its own
    # chosen on the zones' levels (pg/m³): one quantity, one unit on the page (probe 17)
    assert "PFOA" in section and "ng/m³" in section and "plus dans les quartiers" in section
    assert "pg/m³" not in section
    assert "particules/cm³" in section and "moins dans les quartiers" in section
    page = _Page()
    page.feed(section)
    zoned = [n for n in page.numbers if n["data-var"].startswith("zone_exposure")]
    scales = {(n["data-var"], n.get("data-scale")) for n in zoned}
    assert ("zone_exposure", "1000.0") in scales  # PFOA in ng/m³, as section 5 writes it
    assert ("zone_exposure_number", None) in scales or ("zone_exposure_number", "1.0") in scales
    for n in zoned:  # every number re-read from the dataset
        want = _expected(rich, n)
        assert abs(_parse(n["text"], "fr") - want) <= 0.5 * 10.0 ** (-int(n["data-nd"])) * (
            1 + 1e-6
        ), n
    rich["zone_exposure"].loc[{"pollutant": "PFOA"}] = 0.0  # reaches neither side: left out
    again = build_report(rich, "MEL", lang="fr")
    again = again[again.index('<section id="quartiers">') : again.index('<section id="scenario">')]
    assert "PFOA" not in again and "Particules ultrafines" in again


# ----------------------------------------------------------------------------- wording
def _render(
    ds: xr.Dataset, territory: str, lang: str = "fr", scenario: xr.Dataset | None = None
) -> tuple[str, str]:
    """The page without its figures (fast) and its visible text, spaces collapsed; every
    number's recorded value is checked against its recipe on the way."""
    from trajectoire.report import report_context
    from trajectoire.report.build import _environment

    ctx, _ = report_context(ds, territory, lang=lang, scenario=scenario, figures=False)
    html = _environment().get_template(f"report_{lang}.html.j2").render(**ctx)
    page = _Page()
    page.feed(html)
    for n in page.numbers:
        source = scenario if n.get("data-src") == "scenario" else ds
        assert source is not None
        want = _expected(source, n)
        nd = int(n["data-nd"])
        assert n["text"] == format_number(want, nd, lang) or abs(
            _parse(n["text"], lang) - want
        ) <= 0.5 * 10.0 ** (-nd) * (1 + 1e-6), n
    return html, " ".join(page.visible.split())


def test_the_cell_size_is_the_grids():
    """The method says the size of the run's cells, read from the spacing of ``x`` and ``y``
    (a traced number), not "a few hundred metres at most" whatever the grid."""
    ds = _output()  # 100 m
    html, fr = _render(ds, "MEL")
    assert "petits carrés de 100 m de côté" in fr and "quelques centaines" not in fr
    assert "small squares 100 m wide" in _render(ds, "MEL", "en")[1]
    assert "data-var='x'" in html and "data-var='y'" not in html
    coarse = ds.assign_coords(x=ds["x"] * 20.0, y=ds["y"] * 20.0)  # 2 km
    assert "petits carrés de 2 km de côté" in _render(coarse, "MEL")[1]
    assert "small squares 2 km wide" in _render(coarse, "MEL", "en")[1]
    oblong = ds.assign_coords(x=ds["x"] * 15.0, y=ds["y"] * 2.5)  # 1.5 km by 250 m
    assert "petits rectangles de 1,5 km sur 250 m" in _render(oblong, "MEL")[1]


def test_the_number_of_pollutants_is_worded_from_the_data():
    """A run of one or two pollutants is not said to follow three."""
    one = _output().sel(pollutant=["PM2.5"])
    fr, en = _render(one, "MEL")[1], _render(one, "MEL", "en")[1]
    assert "Le rapport suit un polluant :" in fr and "trois polluants" not in fr
    assert "The report follows one pollutant:" in en
    two = _output().sel(pollutant=["NOx", "PM10", "PM2.5"])
    assert "Le rapport suit deux polluants :" in _render(two, "MEL")[1]
    assert "Le rapport suit trois polluants :" in _render(_output(), "MEL")[1]


def test_every_species_has_its_own_article():
    """Each species of the registry is named with the article of its gender and number
    (``du dioxyde d'azote``, ``des particules``, ``de l'ammoniac``), in both languages,
    with the plain name the report uses elsewhere."""
    from trajectoire.report.wording import EMERGING, POLLUTANTS, SPECIES_WORDS
    from trajectoire.species import builtin_species

    ids = [str(s) for s in builtin_species()]
    assert {"NO2", "PM2.5", "NH3", "UFP", "PFAS", "pesticides", "TRWP"} <= set(ids)
    for lang in ("fr", "en"):
        assert set(ids) <= set(SPECIES_WORDS[lang]), lang
        for sid, words in SPECIES_WORDS[lang].items():
            plain = {**{k: v[1] for k, v in POLLUTANTS[lang].items()},
                     **{k: v[0] for k, v in EMERGING[lang].items()}}.get(sid)  # fmt: skip
            assert plain is None or words.name == plain, (lang, sid)
    fr = SPECIES_WORDS["fr"]
    for sid, w in fr.items():
        article = w.the[: len(w.the) - len(w.name)]
        of_the, agree = {"le ": ("du ", ""), "la ": ("de la ", "e"), "l'": ("de l'", ""),
                         "les ": ("des ", "s")}[article]  # fmt: skip
        assert w.the == article + w.name and w.of_the == of_the + w.name, sid
        assert w.of in ("de " + w.name, "d'" + w.name) and w.agree.endswith(agree), sid
    assert fr["NO2"].of_the == "du dioxyde d'azote"
    assert fr["PM2.5"].of_the == "des particules de moins de 2,5 micromètres"
    assert fr["PM2.5"].agree == "es" and fr["UFP"].agree == "es" and fr["PFAS"].agree == "s"
    assert fr["NH3"].of_the == "de l'ammoniac" and fr["NH3"].of == "d'ammoniac"
    assert fr["NOx"].of == "d'oxydes d'azote" and fr["TRWP"].of_the.startswith("des particules")


def test_figures_speak_french_captions_and_numbers(monkeypatch):
    """The figures of a PM2.5-only run: captions with the article of particles (``des
    particules ... respirées``), the emissions of PM2.5 (not "oxydes d'azote"), no second
    copy of the same trajectory; in French every number drawn has a decimal comma."""
    import matplotlib.text

    import trajectoire.report.build as build

    drawn: list[list[str]] = []

    def keep(fig: Any) -> str:
        fig.canvas.draw()
        drawn.append([t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_visible()])
        return "data:image/png;base64,"

    monkeypatch.setattr(build, "_png", keep)
    ctx, _ = build.report_context(_output().sel(pollutant=["PM2.5"]), "MEL", lang="fr")
    captions = {k: f["caption"] for k, f in ctx["figures"].items()}
    assert "moyenne annuelle des particules de moins de 2,5 micromètres" in captions["map"]
    assert "niveau de particules de moins de 2,5 micromètres" in captions["distribution"]
    assert (  # the figure shows levels in µg/m³, not shares (probe 17)
        "le niveau de particules de moins de 2,5 micromètres que respirent"
        in captions["source_receptor"]
        and "en µg/m³" in captions["source_receptor"]
    )
    assert captions["emission"].startswith("Émissions de particules de moins de 2,5")
    assert "trajectory_fine" not in captions  # the same pollutant as "trajectory"
    texts = [t for fig in drawn for t in fig]
    assert not [t for t in texts if re.search(r"\d\.\d", t)]
    assert any(re.search(r"\d,\d", t) for t in texts)
    drawn.clear()
    build.report_context(_output(), "MEL", lang="en")
    assert any(re.search(r"\d\.\d", t) for fig in drawn for t in fig)  # English: a point


def test_a_single_year_is_not_compared_with_itself():
    """An output of one year: its year in the title, no change section comparing it with
    itself (a sentence says only one year was computed), no "since"."""
    for ds in (_output().sel(year=[2023]), _output(zones=True).sel(year=[2023])):
        html, fr = _render(ds, "CUD")
        assert "<title>La qualité de l'air : Communauté Urbaine de Dunkerque, 2023</title>" in html
        assert "2023–2023" not in html and "De 2023 à 2023" not in fr and "depuis 2023" not in fr
        assert "ne porte que sur l'année 2023" in fr and "en 2023 et" not in fr
        assert "refaits pour l'année 2023" in fr
        assert "Moyenne en 2023</th><th>Moyenne en 2023" not in html
        html, en = _render(ds, "CUD", "en")
        assert "2023–2023" not in html and "since" not in en and "From 2023 to 2023" not in en
        assert "covers the year 2023 only" in en
    _, fr = _render(_output(), "CUD")  # 1990, 2005 and 2023 only: said so (probe 17)
    assert "De 1990 à 2023" in fr and "les années 1990, 2005 et 2023 (les seules calculées)" in fr


def _scenario_file(base: xr.Dataset) -> xr.Dataset:
    """A scenario output as ``trajectoire scenario`` (exact path) writes its attributes:
    industry halved everywhere and road traffic cut by 30 % in MEL; NO2 is not computed."""
    from trajectoire.scenario import Cut, Scenario

    s = Scenario(
        "moins d'usines",
        [Cut("B_Industry", None, 0.5, 2018), Cut("F_RoadTransport", "MEL", 0.3, 2020)],
    )
    sc = base[["exposure", "inhabitants_above"]].sel(year=[2023]) * 0.8
    sc["exposure"].loc[{"pollutant": "NO2"}] = np.nan
    sc["inhabitants_above"].loc[{"pollutant": "NO2"}] = np.nan
    sc.attrs = {"title": f"trajectoire scenario: {s.name}", "scenario_name": s.name,
                "scenario": s.describe(), "scenario_json": s.to_json(),
                "scenario_method": "exact"}  # fmt: skip
    return sc


def test_the_scenario_is_described_in_the_reports_words():
    """The scenario's cuts are said from its structured ``scenario_json`` (the sector's
    plain name, the percentage, where, from when), not its English ``scenario`` line; the
    NO2 the exact path does not compute is said so, not a dash."""
    base = _output()
    sc = _scenario_file(base)
    html, fr = _render(base, "MEL", scenario=sc)
    assert "Scénario « moins d'usines »" in fr
    assert "Industrie : émissions réduites de 50 % partout, à partir de 2018." in fr
    assert "Trafic routier : émissions réduites de 30 % sur ce territoire seulement" in fr
    for english in ("B_Industry", "everywhere", " from 2018", "F_RoadTransport"):
        assert english not in fr, english
    assert "– µg/m³" not in fr and "non calculé*" in fr and "--recompute" in fr
    assert "Le dioxyde d'azote n'est pas calculé par ce scénario" in fr
    _, cud = _render(base, "CUD", scenario=sc)
    assert "sur le territoire « Métropole Européenne de Lille » seulement" in cud
    _, en = _render(base, "MEL", "en", scenario=sc)
    assert "Industry: emissions cut by 50 % everywhere, from 2018." in en
    assert "not computed*" in en and "– µg/m³" not in en
    sc.attrs = {"scenario": "moins de voitures"}  # a file of its own: its name as given
    assert "Scénario « moins de voitures »" in _render(base, "MEL", scenario=sc)[1]


def test_no_one_and_one_take_the_singular():
    """French: 0 and 1 take the singular (« 0 habitant »), the verb agreeing; English:
    only one does."""
    from trajectoire.report.wording import takes_plural

    assert [takes_plural(v, "fr") for v in (0, 1, 1.5, 2, 1200)] == [False] * 3 + [True] * 2
    assert [takes_plural(v, "en") for v in (0, 1, 2)] == [True, False, True]
    ds = _output()
    ds["inhabitants_above"] = ds["inhabitants_above"] * 0.0
    _, fr = _render(ds, "MEL")
    assert "0 habitant (0 %) respire un air" in fr and " 0 habitants" not in fr
    assert "0 inhabitants (0 %) breathe air" in _render(ds, "MEL", "en")[1]


def test_a_pollutant_with_nothing_counted_is_said_so():
    """A pollutant with neither a local part nor a background in the territory (no source
    of it in the inputs): the report says that no emission of it was counted, not
    "about – %" nor that the nearby sources hardly count."""
    ds = _output()
    for var in ("exposure_contribution", "exposure", "background", "exposure_quantile"):
        ds[var] = ds[var].where(ds["pollutant"] != "PM2.5", 0.0)
    html, fr = _render(ds, "MEL")
    section = fr[fr.index("4. D'où vient") : fr.index("5. Les nouveaux")]
    part = section[section.index("Particules de moins de 2,5") :]
    assert "Aucune émission de particules de moins de 2,5 micromètres n'a été comptée" in part
    assert "– %" not in fr and "ne comptent presque pas" not in part
    assert "environ" in section  # the other pollutants keep their background share
    _, en = _render(ds, "MEL", "en")
    assert "No emission of particles smaller than 2.5 micrometres was counted" in en
    assert "– %" not in en


@pytest.mark.slow  # a run of the real-data example (about 30 s)
@pytest.mark.requires_shared
def test_the_real_data_example_single_year_report(shared_data, tmp_path):
    """The real-data example run for 2019 alone (1 km cells, no PM2.5 source in its
    inputs) and its exact-path scenario: the report says 1 km, one year, no change section,
    no dash percentage, the scenario in French and why NO2 is missing; every number is
    read from the files."""
    example = Path(__file__).resolve().parents[1] / "examples" / "hauts-de-france"
    out, sc_out = tmp_path / "hdf.nc", tmp_path / "sc.nc"
    with warnings.catch_warnings():  # what the real data lack: test_example_hdf checks it
        warnings.simplefilter("ignore", TrajectoireWarning)
        assert main(["run", str(example / "config.toml"), "--out", str(out), "--years", "2019",
                     "-q"]) == 0  # fmt: skip
        (tmp_path / "sc.toml").write_text(
            '[scenario]\nname = "industrie -50 %"\n[[scenario.cut]]\nsector = "B_Industry"\n'
            "percent = 50\nfrom_year = 2019\n"
        )
        assert main(["scenario", str(tmp_path / "sc.toml"), "--from", str(out), "-o",
                     str(sc_out), "-q"]) == 0  # fmt: skip
    with xr.open_dataset(out) as ds, xr.open_dataset(sc_out) as sc:
        html, fr = _render(ds, "MEL", scenario=sc)
        no2 = float(sc["exposure"].sel(year=2019, territory="MEL", pollutant="NO2"))
    assert "petits carrés de 1 km de côté" in fr and "2019–2019" not in html
    assert "depuis 2019" not in fr and "ne porte que sur l'année 2019" in fr
    assert "– %" not in fr and "– µg/m³" not in fr and " 0 habitants" not in fr
    # 2019 is a map year and the cut applies everywhere: NO2 is recomputed from the maps,
    # its level and counts shown (they were « non calculé » while the file held them)
    assert np.isfinite(no2)
    assert "Le dioxyde d'azote n'est pas calculé par ce scénario" not in fr
    assert "Industrie : émissions réduites de 50 % partout, à partir de 2019." in fr
    assert "everywhere" not in fr and "B_Industry" not in fr
    assert "Carte de la moyenne annuelle du particules" not in html


def test_the_yardsticks_said_are_those_the_table_lists():
    """The thresholds' sentence names the yardsticks the output holds: two when both are
    there, one ("Un repère") when the output holds only the WHO value."""
    ds = _output()
    fr, en = _render(ds, "MEL")[1], _render(ds, "MEL", "en")[1]
    assert "Deux repères : la valeur recommandée par l'Organisation mondiale" in fr
    assert "Two yardsticks: the level recommended" in en
    who = ds.sel(threshold=["WHO2021"])
    fr, en = _render(who, "MEL")[1], _render(who, "MEL", "en")[1]
    assert "Deux repères" not in fr and "limite européenne qui s'appliquera" not in fr
    assert "Un repère : la valeur recommandée par l'Organisation mondiale de la santé (OMS)" in fr
    assert "One yardstick: the level recommended" in en and "Two yardsticks" not in en


def test_a_share_of_its_own_that_rounds_to_an_end_is_worded_so():
    """« 0 % de cette pollution proche vient du territoire lui-même ; le reste vient des
    voisins » reads as nothing at all: a share that rounds to 0 or 100 says « presque
    rien » / « presque toute », with its rounded number kept."""
    ds = _output()
    ec = ds["exposure_contribution"]
    own = ec["origin"] == "MEL"
    none = ds.assign(exposure_contribution=ec.where(~own, 0.0))
    fr, en = _render(none, "MEL")[1], _render(none, "MEL", "en")[1]
    assert "Presque rien de cette pollution proche ne vient des émissions du territoire" in fr
    assert "0 % de cette pollution proche vient" not in fr
    assert "Almost none of this nearby pollution comes from the territory's own" in en
    alone = ds.assign(exposure_contribution=ec.where(own, 0.0))
    fr, en = _render(alone, "MEL")[1], _render(alone, "MEL", "en")[1]
    assert "Presque toute cette pollution proche vient des émissions du territoire" in fr
    assert "le reste vient des territoires voisins" not in fr
    assert "Almost all of this nearby pollution comes from the territory's own" in en
    fr = _render(ds, "MEL")[1]  # the sample's mixed shares keep the plain sentence
    assert "% de cette pollution proche vient des émissions du territoire lui-même ; le reste" in fr


def test_a_run_without_background_does_not_write_it_as_a_measured_zero():
    """A run given no regional background: sections 3 and 4 say it was not given (not
    counted), never « 0,0 µg/m³ » of background nor « environ 0 % » of far pollution."""
    ds = _output()
    ds["background"] = ds["background"] * 0.0
    _, fr = _render(ds, "MEL")
    assert (
        "Pollution venue de plus loin (le « fond régional », apporté par le vent) : elle n'a pas été donnée"
        in fr
    )
    assert "représente environ" not in fr and "Une partie de la pollution vient de loin" not in fr
    assert "ce rapport ne compte que les sources proches" in fr
    _, en = _render(ds, "MEL", "en")
    assert "it was not given to this calculation, so it is not counted" in en
    assert "makes up about" not in en and "Part of the pollution comes from far away" not in en
    _, full = _render(_output(), "MEL")
    assert "représente environ" in full and "Une partie de la pollution vient de loin" in full


def _levels(ds: xr.Dataset, pol: str, then: float, now: float) -> xr.Dataset:
    """`ds` with MEL's mean level of `pol` `then` in the first year and `now` in the last,
    its quantiles around it."""
    ds = ds.copy(deep=True)
    mean = ds["exposure"].sel(territory="MEL", pollutant=pol).copy()
    for var in ("exposure", "exposure_quantile", "exposure_percentile"):
        if var not in ds.data_vars:
            continue
        da = ds[var]
        scale = da.sel(territory="MEL", pollutant=pol) / mean
        for year, value in ((YEARS[0], then), (YEARS[-1], now)):
            at = {"territory": "MEL", "pollutant": pol, "year": year}
            da.loc[at] = (value * scale.sel(year=year)).values
    return ds


def test_the_direction_of_a_change_is_decided_on_its_relative_size():
    """A level falling from 0,0632 to 0,0490 µg/m³ (−22 %) is a fall, written with the
    digits that show it (0,063 and 0,049), kept in « L'essentiel »; a change under 1 % of
    the earlier level is « presque pas de changement »."""
    ds = _levels(_output(), "NO2", 0.0632, 0.0490)
    _, fr = _render(ds, "MEL")
    assert (
        "0,063 µg/m³ en 1990 et 0,049 µg/m³ en 2023 : une baisse de 0,014 µg/m³ (22 % de moins)"
        in fr
    )
    assert "0,049 µg/m³ en moyenne, 22 % de moins qu'en 1990" in fr
    _, en = _render(ds, "MEL", "en")
    assert "0.063 µg/m³ in 1990 and 0.049 µg/m³ in 2023: a fall of 0.014 µg/m³ (22 % less)" in en
    flat = _levels(_output(), "NO2", 20.0, 20.15)
    assert (
        "20,0 µg/m³ en 1990 et 20,1 µg/m³ en 2023 : presque pas de changement"
        in _render(flat, "MEL")[1]
    )
    small = _levels(_output(), "NO2", 2.00, 2.03)  # 1.5 %: the digits that show it
    assert (
        "2,00 µg/m³ en 1990 et 2,03 µg/m³ en 2023 : une hausse de 0,03 µg/m³"
        in _render(small, "MEL")[1]
    )


def test_a_written_difference_is_the_difference_of_the_written_values():
    """« 16,2 et 14,5 : une baisse de 1,7 », not 1,8 (16,24 − 14,46 rounded): the difference
    is taken between the two values as written, and its recipe says so (data-round)."""
    ds = _levels(_output(), "NO2", 16.24, 14.46)
    html, fr = _render(ds, "MEL")
    assert "16,2 µg/m³ en 1990 et 14,5 µg/m³ en 2023 : une baisse de 1,7 µg/m³" in fr
    assert "data-round='1'" in html


def test_levels_below_the_written_precision_are_not_written_as_zero():
    """« la moitié des habitants respire moins de 0,0 µg/m³ », « entre 0,0 et 0,0 »,
    "0.0 µg/m³ on average": small levels get the digits they need, and a level still
    written 0 while above 0 is « moins de 0,001 »."""
    ds = _levels(_output(change=True), "NO2", 0.05, 0.04)
    _, fr = _render(ds, "MEL")
    assert "moins de 0,0 µg/m³" not in fr and "0,0 et 0,0" not in fr
    assert "Dioxyde d'azote : 0,040 µg/m³ en moyenne" in fr
    assert re.search(r"NO₂ : la moitié des habitants respire moins de 0,0\d\d µg/m³", fr)
    tiny = _levels(_output(), "NO2", 0.0003, 0.0002)
    _, fr = _render(tiny, "MEL")
    assert "Dioxyde d'azote : moins de 0,001 µg/m³ en moyenne" in fr
    _, en = _render(tiny, "MEL", "en")
    assert "Nitrogen dioxide: less than 0.001 µg/m³ on average" in en
    assert " 0.0 µg/m³ on average" not in en
    assert "moins de 0,001 µg/m³ en 2023 : des niveaux trop faibles pour en suivre" in fr


def test_the_distribution_caption_says_which_inhabitants_the_figure_used(monkeypatch):
    """The figure counts the output's ``population(y, x)`` grid when it has one (its
    subtitle says so): the caption says so too, and speaks of an even spread only for an
    output without one."""
    import trajectoire.plot as plot
    import trajectoire.report.build as build

    monkeypatch.setattr(build, "_png", lambda fig: "data:image/png;base64,")
    for name in ("map", "exposure_distribution", "trajectories", "source_receptor"):
        monkeypatch.setattr(plot, name, lambda *a, **k: (None, None))
    ds = _output()
    fr = build._figures(ds, "MEL", ["NO2"], 1990, 2023, "fr")
    caption = {f["key"]: f["caption"] for f in fr}["distribution"]
    assert "répartissent les habitants également" in caption and "grille" not in caption
    ds["population"] = (("year", "y", "x"), np.ones((3, ds.sizes["y"], ds.sizes["x"])))
    for lang, grid, even in (("fr", "grille de population", "également"),
                             ("en", "population grid", "evenly")):  # fmt: skip
        figs = build._figures(ds, "MEL", ["NO2"], 1990, 2023, lang)
        caption = {f["key"]: f["caption"] for f in figs}["distribution"]
        assert grid in caption and even not in caption, caption


def test_a_scenario_of_another_run_is_refused_and_an_empty_one_said_so():
    """--scenario takes a ``trajectoire scenario`` output of this run: one of another run
    (``baseline_trajectoire_config_hash`` not the run's ``trajectoire_config_hash``), or
    another run's output, is refused in one line; a scenario with none of the report's
    pollutants says so instead of an empty table."""
    from trajectoire.errors import InputError

    base = _output()
    base.attrs["trajectoire_config_hash"] = "aaaa"
    sc = _scenario_file(base)
    sc.attrs["baseline_trajectoire_config_hash"] = "bbbb"
    with pytest.raises(InputError, match="made from another run"):
        _render(base, "MEL", scenario=sc)
    other = _output()
    other.attrs["trajectoire_config_hash"] = "cccc"
    with pytest.raises(InputError, match="is a run's output"):
        _render(base, "MEL", scenario=other)
    sc.attrs["baseline_trajectoire_config_hash"] = "aaaa"
    assert "Industrie : émissions réduites" in _render(base, "MEL", scenario=sc)[1]
    none = sc.sel(pollutant=["NOx"])
    _, fr = _render(base, "MEL", scenario=none)
    assert "ne contient aucun des polluants de ce rapport" in fr and "Aujourd'hui (" not in fr
    _, en = _render(base, "MEL", "en", scenario=none)
    assert "holds none of the pollutants of this report" in en


def test_a_trajectoire_scenario_output_shows_the_inhabitants_above_its_thresholds():
    """A ``trajectoire scenario`` output counts the inhabitants above its own thresholds
    (``threshold(pollutant)``, no ``threshold`` dim on ``inhabitants_above``), today
    (``baseline_inhabitants_above``) and with it: the page shows them with the threshold
    values, not nothing."""
    base = _output()
    sc = _scenario_file(base)
    above = sc["inhabitants_above"].sel(threshold="EU2030", drop=True)
    sc = sc.drop_dims("threshold")
    sc["inhabitants_above"] = above
    sc["baseline_inhabitants_above"] = above * 1.1
    sc["threshold"] = xr.DataArray(
        [np.nan, 20.0, 10.0, 20.0], dims="pollutant", coords={"pollutant": POLLUTANTS}
    )
    html, fr = _render(base, "MEL", scenario=sc)
    assert "Seuil du scénario" in fr and "Les seuils sont ceux du scénario" in fr
    assert "data-var='baseline_inhabitants_above'" in html
    assert html.count("data-var='threshold'") == 3
    _, en = _render(base, "MEL", "en", scenario=sc)
    assert "Inhabitants above the threshold, today" in en


def test_a_territory_without_anyone_in_the_zones_says_it_once():
    """Nobody in the zones: one sentence says so (it also wrote « 0 habitant ... vit dans
    les quartiers prioritaires, soit 0 % » before « Aucun habitant ... »)."""
    ds = _output(zones=True)
    zi = ds["zone_inhabitants"]
    inside = (zi["zone"] == "inside") & (zi["territory"] == "MEL")
    moved = zi.where(~inside, 0.0)
    outside = (zi["zone"] == "outside") & (zi["territory"] == "MEL")
    total = zi.sel(territory="MEL").sum("zone")
    ds = ds.assign(zone_inhabitants=moved.where(~outside, total).assign_attrs(zi.attrs))
    fr, en = _render(ds, "MEL")[1], _render(ds, "MEL", "en")[1]
    assert "Aucun habitant du territoire ne vit dans les" in fr
    assert "0 habitant du territoire vit" not in fr and "soit 0 %" not in fr
    assert "None of the territory's inhabitants lives in the" in en
    assert "0 of the territory's inhabitants lives" not in en


def test_the_rounding_note_says_the_rule_used():
    """Inhabitants are written to the hundred from a thousand up and to the unit below: the
    note says both (it said « arrondis à la centaine » above counts written to the unit)."""
    fr, en = _render(_output(), "MEL")[1], _render(_output(), "MEL", "en")[1]
    assert (
        "arrondis à la centaine à partir de 1 000 (au-dessous, à l'unité)" in fr
    )  # spaces collapsed
    assert "rounded to the nearest hundred from 1,000 up (below, to the unit)" in en


def test_a_few_inhabitants_above_are_not_written_zero_per_cent():
    """1 000 of 1 195 234 inhabitants above a value: « moins de 1 % », not « (0 %) » next to
    a count that is not 0."""
    ds = _output()
    above = ds["inhabitants_above"]
    few = (above["territory"] == "MEL") & (above["pollutant"] == "PM10")
    ds = ds.assign(inhabitants_above=above.where(~few, 1000.0).assign_attrs(above.attrs))
    fr, en = _render(ds, "MEL")[1], _render(ds, "MEL", "en")[1]
    # the table's cells follow each other in the visible text
    assert "1 000moins de 1 %" in fr and "1 0000 %" not in fr
    assert "1,000less than 1 %" in en


def test_the_years_extrapolated_or_interpolated_are_said_in_plain_words():
    """With ``emission_method`` (docs/outputs.md) the method section says which years'
    releases were extrapolated beyond the trend series of some activity, and which were
    interpolated between two inventories, for the pollutants the report shows (NO2 with the
    flags the run gives it, those of NOx); a pollutant it does not show, or an output without
    the flags, adds nothing."""
    from trajectoire.io.outputs import EMISSION_METHOD_FLAGS

    code = {m: i for i, m in enumerate(EMISSION_METHOD_FLAGS)}
    base = _output()  # 1990, 2005, 2023; NOx, PM10, PM2.5, NO2
    flags = np.full((3, len(SECTORS), len(POLLUTANTS)), code["reference"], np.int8)
    flags[0] = code["index"]
    flags[0, SECTORS.index("F_RoadTransport"), POLLUTANTS.index("PM10")] = code["extrapolation"]
    flags[0, SECTORS.index("B_Industry")] = code["no_emission"]
    flags[1] = code["interpolation"]
    flags[2, 0, POLLUTANTS.index("NOx")] = code["extrapolation"]  # NOx: not shown
    ds = base.assign(
        emission_method=xr.DataArray(
            flags,
            dims=("year", "sector", "pollutant"),
            coords={"year": YEARS, "sector": SECTORS, "pollutant": POLLUTANTS},
            attrs={
                "flag_values": np.arange(len(EMISSION_METHOD_FLAGS), dtype=np.int8),
                "flag_meanings": " ".join(EMISSION_METHOD_FLAGS),
            },
        )
    )
    fr, en = _render(ds, "MEL")[1], _render(ds, "MEL", "en")[1]
    assert "Pour certaines activités, les chiffres manquaient en 1990 :" in fr
    assert "(on dit « extrapolés ») et sont donc moins sûrs." in fr
    assert "En 2005, les rejets sont estimés entre deux inventaires connus" in fr
    assert "For some activities, figures were missing in 1990:" in en
    assert "In 2005, the releases are estimated between two known inventories" in en
    assert "2023" not in re.search(r"les chiffres manquaient ([^:]*):", fr)[1]
    ds["emission_method"].loc[{"pollutant": "NO2"}] = code["extrapolation"]  # every year
    assert "les chiffres manquaient en 1990, en 2005 et en 2023 :" in _render(ds, "MEL")[1]
    ds["emission_method"][:] = code["index"]
    plain = _render(ds, "MEL")[1]
    assert "les chiffres manquaient" not in plain and "interpolés" not in plain
    without = _render(base, "MEL")[1]
    assert "les chiffres manquaient" not in without and "interpolés" not in without


# ------------------------------------------------ the gap with the stations (probe 15, #5)
def _with_stations(ds: xr.Dataset) -> xr.Dataset:
    """`ds` with three monitoring stations in MEL (cells of columns 0-9) and one in CUD's
    (column 15) without a measurement, their measured and modelled NO2 (model 20 % low at
    two of them in 2023, the third measured only in 2005), as a run with [inputs] stations
    and observations writes them."""
    ids = ["M1", "M2", "M3", "C1"]
    x = ds["x"].values[[2, 5, 8, 15]]
    y = ds["y"].values[[8, 12, 20, 10]]
    obs = np.full((3, 4, 4), np.nan)
    obs[2, 0, 3], obs[2, 1, 3] = 30.0, 20.0  # NO2 2023 at M1, M2
    obs[1, 2, 3] = 40.0  # NO2 2005 at M3 only
    mod = np.full((3, 4, 4), 18.0)
    mod[2, 0, 3], mod[2, 1, 3] = 24.0, 16.0  # 40 modelled for 50 measured: 20 % lower
    dims = ("year", "station", "pollutant")
    out = ds.assign_coords(station=ids)
    out["station_x"] = ("station", x, {"units": "m"})
    out["station_y"] = ("station", y, {"units": "m"})
    out["station_observation"] = (dims, obs, {"units": "ug m-3"})
    out["station_concentration"] = (dims, mod, {"units": "ug m-3"})
    checks = json.loads(ds.attrs["input_checksums"])
    out.attrs["input_checksums"] = json.dumps({**checks, "stations": "sha256:2",
                                               "observations": "sha256:3"})  # fmt: skip
    return out


def test_the_gap_with_the_stations_is_the_runs_own():
    """The page said "the gap with monitoring stations can reach several tens of per cent"
    and listed the station measurements among its data, though it used neither. It now says
    the run's own gap at the territory's stations (NMB of the last year measured, traced),
    and lists the measurements only when it does."""
    ds = _with_stations(_output())
    html, en = _render(ds, "MEL", lang="en")
    assert "several tens of per cent" not in en
    assert ("the model gives for nitrogen dioxide a value 20 % lower than measured "
            "(2023, 2 stations)") in en  # fmt: skip
    used = en.split("Data used")[1].split("Calculation")[0]
    assert "station measurements" in used and "monitoring stations" in used
    page = _Page()
    page.feed(html)
    gap = [n for n in page.numbers if n["data-var"] == "station_concentration"]
    assert len(gap) == 1 and json.loads(gap[0]["data-sel"])["station"] == ["M1", "M2"]
    assert _expected(ds, gap[0]) == pytest.approx(20.0)  # 100 |40 - 50| / 50
    _, fr = _render(ds, "MEL", lang="fr")
    assert ("pour le dioxyde d'azote une valeur 20 % plus basse que la mesure "
            "(2023, 2 stations)") in fr  # fmt: skip
    assert "plusieurs dizaines de pour cent" not in fr


def test_a_territory_without_a_measured_station_says_so():
    """CUD's one station has no measurement, ARC has no station, the bare output none at
    all: no gap is claimed, and the measurements are not listed among the data used."""
    ds = _with_stations(_output())
    for territory, data in (("CUD", ds), ("ARC", ds), ("MEL", _output())):
        _, en = _render(data, territory, lang="en")
        assert (
            "No measurement at a monitoring station of the territory was compared with "
            "this calculation: the gap with measurements is not known here."
        ) in en
        used = en.split("Data used")[1].split("Calculation")[0]
        assert "station measurements" not in used and "monitoring stations" not in used
        _, fr = _render(data, territory, lang="fr")
        assert "Aucune mesure d'une station du territoire n'a été comparée" in fr
        used = fr.split("Données utilisées")[1].split("Calcul :")[0]
        assert "mesures des stations" not in used and "stations de mesure" not in used
