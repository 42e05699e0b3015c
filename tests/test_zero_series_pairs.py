"""A (sector, pollutant) that emits nothing needs no trend series (review probe 20).

Eurostat's 2016 vintage has NH3 of households (``SE1_CIH``, GNFR ``C_OtherStationaryComb``)
at 0 in every year, genuinely. A real inventory with no C x NH3 anywhere (reference, anchors,
stacks) and NH3 among the run's pollutants was refused: ``rebuild`` read the series of every
pair, and a series of zeros has no index. Such a pair is 0 in every year whatever its index:
it now reads no series and is ``no_emission`` in the years outside the anchors (the flag the
output already gave every pair without emission). A pair that emits, however little, in any
inventory or stack still needs its series, and a series of zeros for it is still an error,
whose message offers only the fixes that work (sector_mapping, a surrogate driver, the
pollutant left out).

Tests that fail on the code before the change: every test here except those named
``..._stays_accepted`` and ``..._fixes_the_message_offers_work``.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from test_pipeline import SAMPLE, small_config
from trajectoire import TrajectoireWarning
from trajectoire import pipeline as P
from trajectoire.config import load_config
from trajectoire.errors import InputError
from trajectoire.grid import Grid
from trajectoire.io.outputs import EMISSION_METHOD_FLAGS, emission_method_flags
from trajectoire.runner import run as run_chain
from trajectoire.sample.synthetic import synthetic_inventory
from trajectoire.trajectory import rebuild
from trajectoire.trends import Method, ratio_series, read_trends, validate_trends

SECTORS = ("A_PublicPower", "F_RoadTransport")
POLS = ("NOx", "NH3")
SILENT = ("F_RoadTransport", "NH3")  # no emission in the inventories nor the stacks
GRID = Grid.from_bounds(700_000, 7_050_000, 700_600, 7_050_400, 100)  # 6 x 4 cells
REF, ANCHOR = 2010, 2005
YEARS = range(2000, 2013)  # 2000-2004 before the anchors, 2011-2012 after
OUTSIDE = [y for y in YEARS if y < ANCHOR or y > REF]
ZERO_SERIES = re.escape(
    "the series of sector F_RoadTransport, pollutant NH3 is 0 in every year of the file "
    "(1990-2020), perhaps genuinely"
)


def inventory(year: int = REF, seed: int = 0) -> xr.Dataset:
    """A synthetic inventory whose F_RoadTransport x NH3 is 0 in every cell, with stacks
    S000 (A), S001 (F), S002 (A), F's stack at 0 t of NH3."""
    ds = synthetic_inventory(
        GRID, sectors=SECTORS, pollutants=POLS, reference_year=year, n_sources=3, seed=seed
    )
    ds["emission"].loc[{"sector": SILENT[0], "pollutant": SILENT[1]}] = 0.0
    ds["point_emission"].loc[{"source": "S001", "pollutant": SILENT[1]}] = 0.0
    return ds


def indices(silent_values: float | None = 0.0) -> pd.DataFrame:
    """Positive random series for every pair, 1990-2020; the silent pair's values are
    `silent_values` (None: no rows for it)."""
    rng = np.random.default_rng(3)
    rows = [
        (s, p, y, rng.uniform(0.5, 2.0)) for s in SECTORS for p in POLS for y in range(1990, 2021)
    ]
    t = pd.DataFrame(rows, columns=["sector", "pollutant", "year", "value"])
    mine = (t["sector"] == SILENT[0]) & (t["pollutant"] == SILENT[1])
    if silent_values is None:
        return t[~mine].reset_index(drop=True)
    t.loc[mine, "value"] = silent_values
    return t


def anchor(ref: xr.Dataset) -> xr.Dataset:
    """The anchor of 2005: the reference's fields and figures times 1.3."""
    a = ref.copy(deep=True)
    a.attrs["reference_year"] = ANCHOR
    a["emission"] = a["emission"] * 1.3
    a["emission"].attrs["units"] = "t yr-1"
    a["point_emission"] = a["point_emission"] * 1.3
    a["point_emission"].attrs["units"] = "t yr-1"
    return a


def quiet_rebuild(*args, **kw) -> xr.Dataset:  # noqa: ANN002, ANN003
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrajectoireWarning)  # valid inputs: no warning
        return rebuild(*args, **kw)


def labels(out: xr.Dataset, pair: tuple[str, str] = SILENT) -> list[str]:
    return [str(v) for v in out["method"].sel(sector=pair[0], pollutant=pair[1]).values]


def expected_labels() -> list[str]:
    """``reference``/``anchor``/``interpolation`` inside the anchors, ``no_emission`` outside."""
    out = []
    for y in YEARS:
        if y == REF:
            out.append("reference")
        elif y == ANCHOR:
            out.append("anchor")
        elif ANCHOR < y < REF:
            out.append("interpolation")
        else:
            out.append("no_emission")
    return out


# ------------------------------------------------------------------ a pair that emits nothing
@pytest.mark.parametrize(
    ("series", "method"),
    [
        (0.0, Method("index")),
        (0.0, Method("extrapolation", trend="linear")),
        (0.0, Method("overlap", old_series="old")),
        (None, Method("index")),  # no series at all for the pair
        (None, Method("interpolation")),  # no anchor on either side of 2000-2004, 2011
    ],
    ids=["zeros-index", "zeros-extrapolation", "zeros-overlap", "absent", "interpolation"],
)
def test_a_pair_that_emits_nothing_needs_no_series(series, method) -> None:
    ref = inventory()
    out = quiet_rebuild(
        ref, indices(series), YEARS, anchors=[anchor(ref)], methods={SILENT: method}
    )
    total = out["total"].sel(sector=SILENT[0], pollutant=SILENT[1])
    assert total.values.tolist() == [0.0] * len(YEARS)
    assert not out["emission"].sel(sector=SILENT[0], pollutant=SILENT[1]).any().compute()
    assert labels(out) == expected_labels()
    # its stack: 0 t, labelled as its sector's pair
    stack = out["point_emission"].sel(source="S001", pollutant=SILENT[1])
    assert stack.values.tolist() == [0.0] * len(YEARS)
    assert [str(v) for v in out["point_method"].sel(source="S001", pollutant="NH3").values] == (
        expected_labels()
    )
    assert (out["target_total"].sel(sector=SILENT[0], pollutant=SILENT[1], year=OUTSIDE) == 0).all()
    # the output's flags: no_emission in every year, as for any pair without emission
    flags = emission_method_flags(out, list(POLS))
    words = [EMISSION_METHOD_FLAGS[v] for v in flags.sel(sector=SILENT[0], pollutant="NH3").values]
    assert words == ["no_emission"] * len(YEARS)


def test_the_run_does_not_depend_on_the_silent_pairs_series() -> None:
    """Every variable is that of a run where the silent pair's series is an ordinary one:
    the pairs that emit are untouched, and the silent pair is 0 whatever its series."""
    ref = inventory()
    zeros = quiet_rebuild(ref, indices(0.0), YEARS, anchors=[anchor(ref)])
    ordinary = quiet_rebuild(
        ref, _with_ordinary_silent(indices(None)), YEARS, anchors=[anchor(ref)]
    )
    xr.testing.assert_identical(zeros.compute(), ordinary.compute())


def _with_ordinary_silent(t: pd.DataFrame) -> pd.DataFrame:
    years = range(1990, 2021)
    extra = pd.DataFrame({"sector": SILENT[0], "pollutant": SILENT[1], "year": years, "value": 1.0})
    return pd.concat([t, extra], ignore_index=True)


def test_a_silent_pair_with_an_ordinary_series_stays_accepted() -> None:
    """A pair without emission whose series is fine ran before: it still does, 0 in every
    year and ``no_emission`` in the output's flags (its ``method`` outside the anchors is
    now ``no_emission`` too, where it was its series' label)."""
    ref = inventory()
    out = quiet_rebuild(ref, indices(None).pipe(_with_ordinary_silent), YEARS)
    assert out["total"].sel(sector=SILENT[0], pollutant=SILENT[1]).values.tolist() == (
        [0.0] * len(YEARS)
    )
    flags = emission_method_flags(out, list(POLS))
    words = {EMISSION_METHOD_FLAGS[v] for v in flags.sel(sector=SILENT[0], pollutant="NH3").values}
    assert words == {"no_emission"}


# ------------------------------------------------------------------ a pair that emits
def _emits_in(case: str) -> dict:
    """rebuild's arguments where the silent pair emits in one place only."""
    ref = inventory()
    kw: dict = {"anchors": [anchor(ref)]}
    f_nh3 = {"sector": SILENT[0], "pollutant": SILENT[1]}
    if case == "one cell of the reference, tiny":
        ref["emission"].loc[f_nh3] = 0.0
        ref["emission"].loc[{**f_nh3, "y": ref["y"].values[0], "x": ref["x"].values[0]}] = 5e-324
        kw["anchors"] = [anchor(inventory())]
    elif case == "one anchor only":
        a = anchor(ref)
        a["emission"].loc[{**f_nh3, "y": ref["y"].values[1], "x": ref["x"].values[2]}] = 1e-12
        kw["anchors"] = [a]
    elif case == "the reference's stack":
        ref["point_emission"].loc[{"source": "S001", "pollutant": "NH3"}] = 0.5
        kw["anchors"] = [anchor(inventory())]
    elif case == "the anchor's stack":
        a = anchor(ref)
        a["point_emission"].loc[{"source": "S001", "pollutant": "NH3"}] = 0.5
        kw["anchors"] = [a]
    elif case == "the register":
        kw["point_history"] = pd.DataFrame(
            {"source_id": ["S001"], "year": [2001], "pollutant": ["NH3"], "emission": [0.2]}
        )
    return {"reference": ref, **kw}


EMITS = [
    "one cell of the reference, tiny",
    "one anchor only",
    "the reference's stack",
    "the anchor's stack",
    "the register",
]


@pytest.mark.parametrize("case", EMITS)
def test_a_pair_that_emits_anywhere_still_needs_its_series(case: str) -> None:
    """However little it emits, in one place only: a series of zeros is refused (with the
    new message), an ordinary series rebuilds it (labelled by its method)."""
    table = indices(0.0)
    table.attrs["what"] = "trends.csv ([inputs] trends)"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        with pytest.raises(InputError, match=ZERO_SERIES):
            rebuild(indices=table, years=YEARS, **_emits_in(case))
        out = rebuild(indices=indices(1.0), years=YEARS, **_emits_in(case))
    assert set(labels(out)[: ANCHOR - YEARS[0]]) == {"index"}


def test_the_message_of_a_series_of_zeros_offers_only_fixes_that_work() -> None:
    """One line: the file, the pair, the value (0 in every year, perhaps genuinely), what
    is expected, and the keys that fix it: sector_mapping (every pollutant of the sector),
    a surrogate driver for the pair, or the pollutant left out. No 'choose another method'
    that would divide by the same zeros, no 'a column of zeros?' guess."""
    t = validate_trends(indices(0.0))
    what = "tr.csv ([inputs] trends)"
    with pytest.raises(InputError) as info:
        ratio_series(t, *SILENT, [2000], REF, Method("extrapolation"), what=what)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("tr.csv ([inputs] trends): the series of sector F_RoadTransport, ")
    assert "is 0 in every year of the file (1990-2020), perhaps genuinely" in message
    assert "expected a series with values > 0" in message
    assert '[inputs.trends] sector_mapping.F_RoadTransport = ["<code>", ...]' in message
    assert "for every pollutant of F_RoadTransport: it cannot map NH3 alone" in message
    assert (
        '[trajectory.methods] F_RoadTransport = { NH3 = { kind = "surrogate", driver = '
        '"<driver>" } }' in message
    )
    assert "[inputs] surrogates" in message
    assert "leave NH3 out of [run] pollutants" in message
    assert "column of zeros?" not in message and '"..."' not in message


@pytest.mark.parametrize("fix", ["surrogate", "sector_mapping", "pollutant left out"])
def test_the_fixes_the_message_offers_work(fix: str, tmp_path: Path) -> None:
    """Each fix the message names gives a pair that emits a usable series."""
    ref = inventory()
    ref["point_emission"].loc[{"source": "S001", "pollutant": "NH3"}] = 0.5  # it emits
    kw: dict = {}
    if fix == "surrogate":
        kw["methods"] = {SILENT: Method("surrogate", driver="fleet")}
        kw["surrogates"] = pd.DataFrame(
            {"driver": "fleet", "year": range(1990, 2021), "value": np.linspace(2, 1, 31)}
        )
        table = indices(0.0)
    elif fix == "sector_mapping":
        # a tidy file of codes: F's series taken from code RD (both pollutants), A's from EP
        t = indices(0.0)
        t["sector"] = t["sector"].map({"A_PublicPower": "EP", "F_RoadTransport": "RD0"})
        rd = t[t["sector"] == "RD0"].assign(sector="RD", value=1.5)
        path = tmp_path / "trends.csv"
        pd.concat([t, rd]).to_csv(path, index=False)
        table = read_trends(path, sector_mapping={"A_PublicPower": "EP", "F_RoadTransport": "RD"})
    else:
        ref = ref.sel(pollutant=["NOx"])
        table = indices(0.0)
    out = quiet_rebuild(ref, table, YEARS, **kw)
    assert np.isfinite(out["total"].values).all()


# ------------------------------------------------------------------ through the sample's run
def _sample_config(d: Path, zero: tuple[str, str]):  # noqa: ANN202
    """The sample on ARC alone at 1 km, 2017-2018 (2017 outside the reference year 2018),
    with the trend series of `zero` at 0 in every year."""
    trends = pd.read_csv(SAMPLE / "trends.csv")
    mine = (trends["sector"] == zero[0]) & (trends["pollutant"] == zero[1])
    assert mine.sum() > 30
    trends.loc[mine, "value"] = 0.0
    trends.to_csv(d / "trends.csv", index=False)
    over = {
        r"^first_year = \d+": "first_year = 2017",
        r"^resolution = [\d.]+": "resolution = 1000.0",
        r"^territories = \[.*\]": 'territories = ["ARC"]',
        r'^trends = ".*"': f'trends = "{d / "trends.csv"}"',
    }
    return load_config(small_config(d, **over))


def test_the_sample_runs_with_a_series_of_zeros_for_a_pair_it_does_not_emit(tmp_path) -> None:
    """D_Fugitive x NH3: no area row, and the sample's fugitive stacks (CUD-LNG, CUD-DEPOT)
    at 0 t of NH3 with no register figure of it. Before, the run was refused in prepare;
    it now goes through and writes ``no_emission`` for the pair."""
    area = pd.read_csv(SAMPLE / "area_emissions.csv")
    assert not ((area["sector"] == "D_Fugitive") & (area["pollutant"] == "NH3")).any()
    cfg = _sample_config(tmp_path, ("D_Fugitive", "NH3"))
    out = tmp_path / "out.nc"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)  # zones beyond the grid...
        run_chain(cfg, out, progress=False)
    with xr.open_dataset(out) as ds:
        words = ds.trajectoire.emission_methods()
        assert words.sel(sector="D_Fugitive", pollutant="NH3").values.tolist() == [
            "no_emission",
            "no_emission",
        ]
        assert words.sel(sector="C_OtherStationaryComb", pollutant="NH3").values.tolist() == [
            "index",
            "reference",
        ]


def test_the_sample_refuses_a_series_of_zeros_for_a_pair_it_emits(tmp_path) -> None:
    """C_OtherStationaryComb x NH3 emits in the sample: its series of zeros is refused in
    prepare, with the file, the pair and the fixes that work."""
    cfg = _sample_config(tmp_path, ("C_OtherStationaryComb", "NH3"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        with pytest.raises(InputError) as info:
            P.prepare(cfg)
    message = str(info.value)
    assert message.startswith("trends.csv ([inputs] trends): the series of sector ")
    assert "C_OtherStationaryComb, pollutant NH3 is 0 in every year of the file (1990-" in message
    assert "[inputs.trends] sector_mapping.C_OtherStationaryComb" in message
    assert 'kind = "surrogate"' in message and "leave NH3 out of [run] pollutants" in message
