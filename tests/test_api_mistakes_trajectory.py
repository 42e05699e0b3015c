"""Ordinary user mistakes with rebuild, extrapolate_trend, Uncertainty and monte_carlo:
one-line errors naming the value and the fix, valid cases kept (probe of 2026-12-05)."""

from __future__ import annotations

import warnings

import dask.array as da
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from trajectoire.errors import ConfigError, InputError, MissingVariableError, TrajectoireWarning
from trajectoire.grid import Grid
from trajectoire.sample.synthetic import synthetic_inventory
from trajectoire.trajectory import Uncertainty, monte_carlo, rebuild
from trajectoire.trajectory.trends import Method, extrapolate_trend, ratio_series, validate_trends
from trajectoire.trajectory.uncertainty import propagate

SECTORS = ("A_PublicPower", "F_RoadTransport")
POLS = ("NOx", "PM10")
GRID = Grid.from_bounds(700_000, 7_050_000, 700_600, 7_050_400, 100)  # 6 x 4 cells


def one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


def inventory(year: int = 2015, seed: int = 0) -> xr.Dataset:
    return synthetic_inventory(
        GRID, sectors=SECTORS, pollutants=POLS, reference_year=year, n_sources=0, seed=seed
    )


def indices(years: range = range(2005, 2021)) -> pd.DataFrame:
    rows = [(s, p, y, 1.0 + 0.05 * (2020 - y)) for s in SECTORS for p in POLS for y in years]
    return pd.DataFrame(rows, columns=["sector", "pollutant", "year", "value"])


def totals(values: float = 1.0, years: tuple[int, ...] = (2000, 2001)) -> xr.DataArray:
    return xr.DataArray(
        np.full((len(years), 1, 1), values),
        dims=("year", "sector", "pollutant"),
        coords={"year": list(years), "sector": ["F_RoadTransport"], "pollutant": ["NOx"]},
    )


# ------------------------------------------------------------- rebuild: reference values
@pytest.mark.parametrize("lazy", [False, True])
def test_a_nan_reference_cell_is_an_error_naming_the_pair_and_the_cell(lazy: bool) -> None:
    ref = inventory()
    ref["emission"][1, 0, 2, 3] = np.nan  # F_RoadTransport, NOx
    if lazy:
        ref["emission"] = ref["emission"].copy(data=da.from_array(ref["emission"].values))
    with pytest.raises(InputError) as exc:
        rebuild(ref, indices(), [2010])
    msg = one_line(exc)
    y, x = float(ref["y"][2]), float(ref["x"][3])
    for part in (
        "reference inventory, variable 'emission'",
        "sector F_RoadTransport, pollutant NOx",
        "1 NaN or infinite cell(s) of 24",
        f"nan t yr-1 at y={y:.10g}, x={x:.10g}",
        "fillna(0.0)",
    ):
        assert part in msg


def test_infinite_and_negative_cells_are_errors_and_other_pairs_are_listed() -> None:
    ref = inventory()
    ref["emission"][0, 1, 0, 0] = np.inf
    ref["emission"][1, 1, 0, :2] = -5.0
    with pytest.raises(InputError) as exc:
        rebuild(ref, indices(), [2010])
    msg = one_line(exc)
    assert "sector A_PublicPower, pollutant PM10: 1 NaN or infinite cell(s)" in msg
    assert "inf t yr-1" in msg and "also in F_RoadTransport/PM10" in msg
    ref["emission"][0, 1, 0, 0] = 1.0
    with pytest.raises(InputError) as exc:
        rebuild(ref, indices(), [2010])
    msg = one_line(exc)
    assert "sector F_RoadTransport, pollutant PM10: 2 negative cell(s) of 24" in msg
    assert "-5 t yr-1" in msg and "sign convention" in msg


def test_an_anchor_with_a_nan_cell_is_named() -> None:
    anchor = inventory(2010, seed=1)
    anchor["emission"][0, 0, 0, 0] = np.nan
    with pytest.raises(InputError, match=r"anchor 0 \(year 2010\), variable 'emission'"):
        rebuild(inventory(), indices(), [2012], anchors=[anchor])


def test_valid_references_with_zeros_pass_unchanged() -> None:
    ref = inventory()
    ref["emission"][0] = 0.0  # a sector that emits nothing: no error
    out = rebuild(ref, indices(), [2010, 2015])
    assert float(out["total"].sel(year=2015, sector="A_PublicPower").sum()) == 0.0
    assert np.isfinite(out["total"].values).all()


# ------------------------------------------------------------- rebuild: years and anchors
@pytest.mark.parametrize("year", [2012, np.int64(2012), "2012", 2012.0])
def test_one_year_alone_is_a_one_year_list(year: object) -> None:
    ref, idx = inventory(), indices()
    alone = rebuild(ref, idx, year)  # type: ignore[arg-type]
    listed = rebuild(ref, idx, [2012])
    assert alone["year"].values.tolist() == [2012]
    xr.testing.assert_identical(alone["total"], listed["total"])


@pytest.mark.parametrize(
    ("years", "shown"),
    [([2012, 2015.5], "2015.5 (float) is not a whole year"), (None, "got NoneType")],
)
def test_years_that_are_no_years_are_one_line(years: object, shown: str) -> None:
    with pytest.raises(InputError) as exc:
        rebuild(inventory(), indices(), years)  # type: ignore[arg-type]
    assert shown in one_line(exc)


def test_one_anchor_dataset_alone_is_a_one_element_list() -> None:
    ref, idx, anchor = inventory(), indices(), inventory(2010, seed=1)
    alone = rebuild(ref, idx, [2010, 2012], anchors=anchor)
    listed = rebuild(ref, idx, [2010, 2012], anchors=[anchor])
    xr.testing.assert_identical(alone["total"], listed["total"])
    assert alone.attrs["anchor_years"].tolist() == [2010, 2015]


@pytest.mark.parametrize(
    ("anchors", "shown"),
    [
        ("inv2010.nc", "anchors: got str"),
        (inventory(2010)["emission"], "anchors: got DataArray"),
        ([inventory(2010), "inv2012.nc"], "anchors: item 1 is str"),
        (2010, "anchors: got int"),
    ],
)
def test_anchors_that_are_not_datasets_are_one_line(anchors: object, shown: str) -> None:
    with pytest.raises(InputError) as exc:
        rebuild(inventory(), indices(), [2012], anchors=anchors)  # type: ignore[arg-type]
    msg = one_line(exc)
    assert shown in msg and "anchors=[inv_2005]" in msg


# ------------------------------------------------------------- extrapolate_trend
def test_an_unsorted_series_is_sorted_to_the_bit() -> None:
    s = pd.Series([4.0, 3.5, 3.0, 2.0], index=[2000, 2001, 2002, 2003])
    shuffled = s.iloc[[2, 0, 3, 1]]
    for trend in ("linear", "multiplicative"):
        a = extrapolate_trend(s, [1997, 2001, 2006], trend=trend)
        b = extrapolate_trend(shuffled, [1997, 2001, 2006], trend=trend)
        assert a.to_numpy().tobytes() == b.to_numpy().tobytes()
    # the probe's case: 7.0 before (the positions of the reversed index taken as years)
    assert extrapolate_trend(
        pd.Series([2.0, 3.0, 4.0], index=[2002, 2001, 2000]), [2003]
    ).tolist() == [1.0]


def test_a_gap_is_fitted_per_year_not_per_point() -> None:
    s = pd.Series([4.0, 3.0, 2.0], index=[2000, 2001, 2005])
    assert extrapolate_trend(s, [2006]).tolist() == [pytest.approx(2.0 - 2.0 / 5)]  # was 1.0
    mul = extrapolate_trend(s, [2007], trend="multiplicative")
    assert mul.iloc[0] == pytest.approx(2.0 * (2.0 / 4.0) ** (2 / 5))
    # before the start: the window from 2000 forward to 2001 (within fit_years=2)
    assert extrapolate_trend(s, [1999], fit_years=2).tolist() == [5.0]
    # the window is in years: 5-yearly data, fit_years=5 -> the last 5 years, not 5 points
    five = pd.Series([10.0, 9.0, 7.0, 4.0], index=[1990, 1995, 2000, 2005])
    assert extrapolate_trend(five, [2006]).tolist() == [pytest.approx(4.0 - 3.0 / 5)]
    # a gap longer than the window: the next point back, however far
    far = pd.Series([10.0, 4.0], index=[1990, 2000])
    assert extrapolate_trend(far, [2001], fit_years=3).tolist() == [pytest.approx(3.4)]
    # the years of the series come back unchanged
    assert extrapolate_trend(s, [2000, 2005]).tolist() == [4.0, 2.0]


def test_a_wanted_year_in_a_gap_is_an_error() -> None:
    s = pd.Series([4.0, 3.0, 2.0], index=[2000, 2001, 2005])
    with pytest.raises(InputError) as exc:
        extrapolate_trend(s, [2003, 2006], what="index F/NOx")
    msg = one_line(exc)
    assert "index F/NOx: year(s) [2003] fall in a gap of the series" in msg
    assert ".interpolate()" in msg


@pytest.mark.parametrize(
    ("trend", "shown"),
    [
        ("exponential", "a constant annual growth rate is 'multiplicative'"),
        ("linaer", "did you mean 'linear'?"),
        ("Multiplicative", "did you mean 'multiplicative'?"),
        (None, "trend=None"),
    ],
)
def test_an_unknown_trend_is_an_error(trend: object, shown: str) -> None:
    s = pd.Series([4.0, 3.0, 2.0], index=[2000, 2001, 2002])
    with pytest.raises(InputError) as exc:
        extrapolate_trend(s, [2003], trend=trend)  # type: ignore[arg-type]
    msg = one_line(exc)
    assert shown in msg and "expected 'linear'" in msg


@pytest.mark.parametrize(
    ("kw", "shown"),
    [
        ({"max_ratio": 0}, "max_ratio=0: expected a number >= 1"),
        ({"max_ratio": 0.5}, "max_ratio=0.5"),
        ({"max_ratio": float("nan")}, "max_ratio=nan"),
        ({"max_ratio": "3"}, "max_ratio='3'"),
        ({"fit_years": -3}, "fit_years=-3: expected a whole number of years >= 0"),
        ({"fit_years": 2.5}, "fit_years=2.5"),
        ({"max_years": -1}, "max_years=-1"),
    ],
)
def test_bounds_out_of_range_are_errors(kw: dict[str, object], shown: str) -> None:
    s = pd.Series([4.0, 3.0, 2.0], index=[2000, 2001, 2002])
    with pytest.raises(InputError) as exc:
        extrapolate_trend(s, [2003], **kw)  # type: ignore[arg-type]
    assert shown in one_line(exc)


def test_valid_bounds_and_whole_floats_are_kept() -> None:
    s = pd.Series([4.0, 3.0, 2.0], index=[2000, 2001, 2002])
    assert extrapolate_trend(s, [2010], max_ratio=np.inf).tolist() == [0.0]
    assert extrapolate_trend(s, [2003], fit_years=0).tolist() == [2.0]  # held constant
    assert (
        extrapolate_trend(s, [2003], fit_years=5.0, max_years=10.0).tolist()  # type: ignore[arg-type]
        == extrapolate_trend(s, [2003]).tolist()
    )
    assert extrapolate_trend(s, 2003).tolist() == [1.0]  # one year alone


@pytest.mark.parametrize(
    ("series", "shown"),
    [
        (pd.Series([], dtype=float), "the series is empty"),
        (pd.Series([4.0, 3.0], index=[2000, 2000]), "year(s) [2000] given more than once"),
        (
            pd.Series([4.0, np.nan, 2.0], index=[2000, 2001, 2002]),
            "NaN or infinite in year(s) [2001]",
        ),
        (pd.Series([4.0, 3.0], index=[2000.5, 2001]), "index value=2000.5"),
        (pd.Series([4.0, 3.0], index=["a", "b"]), "index value='a'"),
        ([4.0, 3.0], "got list; expected a pandas.Series"),
        (pd.Series([4.0, "x"], index=[2000, 2001]), "'x' (str) at position 1 is not a number"),
    ],
)
def test_series_that_are_not_yearly_values_are_one_line(series: object, shown: str) -> None:
    with pytest.raises(InputError) as exc:
        extrapolate_trend(series, [2003], what="my series")  # type: ignore[arg-type]
    msg = one_line(exc)
    assert msg.startswith("my series") and shown in msg


def test_a_datetime_or_period_index_is_read_by_its_years() -> None:
    s = pd.Series([4.0, 3.0, 2.0], index=[2000, 2001, 2002])
    want = extrapolate_trend(s, [1999, 2003]).tolist()
    dated = s.set_axis(pd.to_datetime(["2000", "2001", "2002"]))
    assert extrapolate_trend(dated, [1999, 2003]).tolist() == want
    assert (
        extrapolate_trend(
            s.set_axis(pd.period_range("2000", periods=3, freq="Y")), [1999, 2003]
        ).tolist()
        == want
    )
    monthly = pd.Series([1.0, 2.0], index=pd.to_datetime(["2000-01", "2000-02"]))
    with pytest.raises(InputError, match="given more than once"):
        extrapolate_trend(monthly, [2003])


def test_the_method_path_is_unchanged() -> None:
    t = validate_trends(
        pd.DataFrame(
            {
                "sector": "F",
                "pollutant": "NOx",
                "year": range(2000, 2006),
                "value": [6.0, 5.5, 5.0, 4.0, 3.5, 3.0],
            }
        )
    )
    m = Method("extrapolation", trend="multiplicative", fit_years=3)
    ratio, label = ratio_series(t, "F_RoadTransport", "NOx", [1998, 2008], 2005, m)
    s = pd.Series([6.0, 5.5, 5.0, 4.0, 3.5, 3.0], index=range(2000, 2006))
    direct = extrapolate_trend(s, [1998, 2005, 2008], trend="multiplicative", fit_years=3)
    assert (ratio * 3.0).to_numpy().tobytes() == (direct / 3.0 * 3.0).to_numpy().tobytes()
    assert label.tolist() == ["extrapolation", "index", "extrapolation"]
    with pytest.raises(ConfigError, match="expected 'linear' or 'multiplicative'"):
        Method("extrapolation", trend="exponential")


# ------------------------------------------------------------- Uncertainty settings
def test_percentiles_given_as_fractions_are_refused() -> None:
    with pytest.raises(ConfigError) as exc:
        Uncertainty(20.0, percentiles=(0.025, 0.5, 0.975))
    msg = one_line(exc)
    assert "fractions" in msg and "give (2.5, 50, 97.5)" in msg
    assert "([trajectory.uncertainty] percentiles)" in msg
    with pytest.raises(ConfigError, match=r"give \(50,\)"):
        Uncertainty(20.0, percentiles=(0.5,))
    assert Uncertainty(20.0, percentiles=(0.0,)).percentiles == (0.0,)  # the minimum
    assert Uncertainty(20.0, percentiles=(1, 99)).percentiles == (1, 99)


@pytest.mark.parametrize(
    ("kw", "shown"),
    [
        ({"half_width": float("inf")}, "Uncertainty.half_width=inf: expected a 95 % half-width"),
        ({"half_width": "30%"}, "Uncertainty.half_width='30%' (str)"),
        ({"half_width": None}, "Uncertainty.half_width: got NoneType"),
        ({"half_width": [30.0]}, "Uncertainty.half_width: got list"),
        ({"half_width": {"default": "30"}}, "Uncertainty.half_width['default']='30' (str)"),
        ({"half_width": {"F": float("nan")}}, "Uncertainty.half_width['F']=nan"),
        ({"half_width": {("F", "NOx", 1): 3.0}}, "expected a sector, a (sector, pollutant)"),
        ({"rho": "0.9"}, "Uncertainty.rho='0.9' (str): expected a correlation in [0, 1]"),
        ({"rho": None}, "Uncertainty.rho=None (NoneType)"),
    ],
)
def test_settings_of_the_wrong_kind_are_one_config_line(kw: dict[str, object], shown: str) -> None:
    with pytest.raises(ConfigError) as exc:
        Uncertainty(**kw)  # type: ignore[arg-type]
    msg = one_line(exc)
    assert shown in msg and "[trajectory.uncertainty]" in msg


def test_a_pollutant_typo_in_a_key_is_warned_about_with_the_closest_name() -> None:
    unc = Uncertainty({("F", "NOX2"): 90.0, "default": 10.0}, realizations=10)
    with pytest.warns(TrajectoireWarning) as rec:
        table = unc.table(["F_RoadTransport"], ["NOx"])
    assert table.tolist() == [[10.0]]
    msg = str(rec[0].message)
    assert "\n" not in msg
    assert "key ('F', 'NOX2'): unknown pollutant 'NOX2' (did you mean 'NOx'?)" in msg
    assert "default half-width applies" in msg
    with pytest.warns(TrajectoireWarning, match="did you mean 'NOx'"):
        monte_carlo(totals(), unc)


def test_pollutants_are_read_as_species_names() -> None:
    unc = Uncertainty({("F", "nox"): 90.0, ("F", "pm25"): 40.0, "default": 10.0})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = unc.table(["F_RoadTransport", "A_PublicPower"], ["NOx", "PM2.5"])
        # a known species the totals do not have is not used, without a word
        Uncertainty({("F", "SO2"): 5.0, "default": 10.0}).table(["F_RoadTransport"], ["NOx"])
    assert table.tolist() == [[90.0, 40.0], [10.0, 10.0]]
    nested = Uncertainty({"F": {"nox": 90.0, "PM2.5": 40.0}, "default": 10.0})
    assert nested.table(["F_RoadTransport"], ["NOx", "PM2.5"]).tolist() == [[90.0, 40.0]]


def test_a_pair_given_two_values_is_an_error_naming_both() -> None:
    rows = pd.DataFrame(
        {"sector": ["F", "F_RoadTransport"], "pollutant": ["NOx", "NOx"], "half_width": [20, 80]}
    )
    with pytest.raises(InputError) as exc:
        Uncertainty(rows)
    msg = one_line(exc)
    assert "sector F_RoadTransport, pollutant NOx is given twice" in msg
    assert "20 % (row 0) and 80 % (row 1)" in msg
    same = pd.DataFrame({"sector": ["F", "F"], "pollutant": ["NOx", "nox"], "half_width": [20, 20]})
    assert Uncertainty(same).table(["F_RoadTransport"], ["NOx"]).tolist() == [[20.0]]
    with pytest.raises(
        ConfigError, match=r"sector F_RoadTransport is given twice, 20 % \(key 'F'\)"
    ):
        Uncertainty({"F": 20.0, "F_RoadTransport": 80.0})
    with pytest.raises(ConfigError, match="pollutant NOx is given twice"):
        Uncertainty({("F", "nox"): 20.0, ("F_RoadTransport", "NOx"): 80.0})


def test_a_table_row_that_is_no_half_width_is_named() -> None:
    rows = pd.DataFrame(
        {"sector": ["F", "A"], "pollutant": ["NOx", "NOx"], "half_width": [20, "x"]}
    )
    with pytest.raises(InputError) as exc:
        Uncertainty(rows)
    msg = one_line(exc)
    assert "uncertainty table, row 1, column 'half_width': 'x'" in msg
    with pytest.raises(MissingVariableError, match="uncertainty table: missing column"):
        Uncertainty(pd.DataFrame({"sector": ["F"], "pollutant": ["NOx"], "hw": [20]}))


# ------------------------------------------------------------- monte_carlo arguments
def test_a_number_is_the_half_width_of_every_total() -> None:
    t = totals()
    a = monte_carlo(t, 20.0)
    b = monte_carlo(t, Uncertainty(20.0))
    xr.testing.assert_identical(a, b)
    xr.testing.assert_identical(monte_carlo(t, 20), b)
    with pytest.raises(InputError) as exc:
        monte_carlo(t, "20%")  # type: ignore[arg-type]
    assert "monte_carlo: uncertainty is str; expected an Uncertainty" in one_line(exc)
    small = xr.Dataset(
        {
            "territory_concentration": (("year", "receptor", "pollutant"), [[[12.0]]]),
            "territory_contribution": (
                ("year", "receptor", "sector", "origin", "pollutant"),
                [[[[[2.0]]]]],
            ),
        },
        coords={
            "year": [2020],
            "receptor": ["MEL"],
            "sector": ["F_RoadTransport"],
            "origin": ["MEL"],
            "pollutant": ["NOx"],
        },
    )
    xr.testing.assert_identical(propagate(small, 30.0), propagate(small, Uncertainty(30.0)))


@pytest.mark.parametrize(
    ("make", "shown"),
    [
        (
            lambda t: t.to_series(),
            "total is Series; expected an xarray.DataArray (year, sector, pollutant)",
        ),
        (lambda t: t.to_dataset(name="total"), "pass its variable"),
        (lambda t: t.values, "total is ndarray"),
    ],
)
def test_a_total_that_is_no_dataarray_is_one_line(make: object, shown: str) -> None:
    with pytest.raises(InputError) as exc:
        monte_carlo(make(totals()), Uncertainty(20.0))  # type: ignore[operator]
    assert shown in one_line(exc)
    series = totals().to_series()
    back = monte_carlo(xr.DataArray.from_series(series), Uncertainty(20.0, realizations=5))
    assert back["total_percentile"].sizes["percentile"] == 3  # the fix given works


def test_nan_totals_are_refused() -> None:
    t = totals()
    t[1, 0, 0] = np.nan
    with pytest.raises(InputError) as exc:
        monte_carlo(t, Uncertainty(20.0))
    msg = one_line(exc)
    assert (
        "1 value(s) NaN or infinite (e.g. year 2001, sector F_RoadTransport, pollutant NOx)" in msg
    )
    assert "percentiles would be NaN" in msg
