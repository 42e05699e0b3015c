"""Tests of trajectoire.trends: trend tables, readers and the IPCC ch. 5 series methods."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from trajectoire.errors import ConfigError, InputError, MissingVariableError
from trajectoire.trends import (
    EUROSTAT_AIRSECT_TO_GNFR,
    TRAJECTORY_METHODS,
    Method,
    aggregate_sectors,
    extrapolate_trend,
    overlap_splice,
    ratio_series,
    read_eurostat_air_emissions,
    read_trends,
    series_of,
    validate_trends,
)

F = "F_RoadTransport"


def _table(values, years=None, sector="F", pollutant="NOx", series=None) -> pd.DataFrame:
    years = list(range(2000, 2000 + len(values))) if years is None else list(years)
    t = pd.DataFrame({"sector": sector, "pollutant": pollutant, "year": years, "value": values})
    if series is not None:
        t["series"] = series
    return t


# --------------------------------------------------------------------------- tables
def test_validate_trends_normalises_and_sorts():
    t = validate_trends(_table([3.0, 2.0, 1.0], years=[2002, 2000, 2001]))
    assert t["sector"].unique().tolist() == [F]
    assert t["year"].tolist() == [2000, 2001, 2002]
    assert t["series"].unique().tolist() == [""]


def test_validate_trends_bad_inputs_raise_helpful_errors():
    with pytest.raises(MissingVariableError, match="missing column"):
        validate_trends(pd.DataFrame({"sector": ["F"], "year": [2000], "value": [1.0]}))
    with pytest.raises(InputError, match="unknown sector"):
        validate_trends(_table([1.0], sector="Z_Nothing"))
    with pytest.raises(InputError, match="gap in the series"):
        validate_trends(_table([1.0, np.nan, 2.0]))
    with pytest.raises(InputError, match="negative value"):
        validate_trends(_table([1.0, -2.0]))
    with pytest.raises(InputError, match="duplicated rows"):
        validate_trends(_table([1.0, 2.0], years=[2000, 2000]))
    with pytest.raises(InputError, match="not whole years"):
        validate_trends(_table([1.0], years=[2000.5]))


def test_series_of_gap_names_missing_years():
    t = validate_trends(_table([1.0, 2.0, 3.0], years=[2000, 2001, 2004]))
    with pytest.raises(InputError, match=r"gap in the index series .*\[2002, 2003\]"):
        series_of(t, F, "NOx")


def test_series_of_several_series_need_a_choice():
    t = validate_trends(
        pd.concat([_table([1.0, 2.0], series="v1"), _table([3.0, 4.0], series="v2")])
    )
    with pytest.raises(InputError, match="several series"):
        series_of(t, F, "NOx")
    assert series_of(t, F, "NOx", series="v2").tolist() == [3.0, 4.0]
    with pytest.raises(MissingVariableError, match="no index for sector"):
        series_of(t, F, "PM10")


def test_aggregate_sectors_sums_and_requires_all_parts():
    t = pd.concat(
        [
            _table([1.0, 2.0, 3.0], sector="SE1_EUI"),
            _table([10.0, 20.0], sector="SE2_IP"),  # no 2002
        ]
    )
    out = aggregate_sectors(t, {"B_Industry": ["SE1_EUI", "SE2_IP"], "A": "SE1_EUI"})
    b = out[out["sector"] == "B_Industry"]
    assert b["value"].tolist() == [11.0, 22.0]  # 2002 dropped: one part missing
    assert out[out["sector"] == "A_PublicPower"]["value"].tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(InputError, match="no such sector"):
        aggregate_sectors(t, {"B_Industry": ["SE9_XXX"]})


def test_read_trends_csv(tmp_path):
    path = tmp_path / "trends.csv"
    _table([2.0, 1.0]).to_csv(path, index=False)
    t = read_trends(path)
    assert t["value"].tolist() == [2.0, 1.0]
    mapped = tmp_path / "codes.csv"
    pd.concat([_table([1.0, 2.0], sector="RD"), _table([3.0, 4.0], sector="X")]).assign(
        pollutant="NOX"
    ).to_csv(mapped, index=False)
    t2 = read_trends(mapped, sector_mapping={F: ["RD", "X"]}, pollutant_mapping={"NOX": "NOx"})
    assert t2["value"].tolist() == [4.0, 6.0]
    assert t2["pollutant"].unique().tolist() == ["NOx"]
    with pytest.raises(InputError, match="does not exist"):
        read_trends(tmp_path / "nope.csv")


# --------------------------------------------------------------------------- methods
def test_method_config_errors():
    with pytest.raises(ConfigError, match="unknown time-series method"):
        Method("magic")
    with pytest.raises(ConfigError, match="old_series"):
        Method("overlap")
    with pytest.raises(ConfigError, match="driver"):
        Method("surrogate")
    with pytest.raises(ConfigError, match="max_ratio"):
        Method("extrapolation", max_ratio=0.5)


def test_overlap_splice_equation_5_1_by_hand():
    old = pd.Series([10.0, 8.0, 6.0, 4.0], index=[1990, 1991, 1992, 1993])
    new = pd.Series([5.0, 2.5, 1.0], index=[1992, 1993, 1994])
    spliced, from_old = overlap_splice(old, new)
    ratio = (5.0 / 6.0 + 2.5 / 4.0) / 2  # IPCC eq. 5.1 mean ratio over 1992-1993
    np.testing.assert_allclose(spliced.loc[[1990, 1991]], [10 * ratio, 8 * ratio])
    assert spliced.loc[1992:].tolist() == [5.0, 2.5, 1.0]
    assert from_old.tolist() == [True, True, False, False, False]
    off, _ = overlap_splice(old, new, variant="offset", overlap_years=(1992, 1992))
    assert off.loc[1990] == pytest.approx(10.0 - 1.0)
    with pytest.raises(InputError, match="do not overlap"):
        overlap_splice(old, pd.Series([1.0], index=[2000]))


def test_extrapolate_trend_linear_multiplicative_and_bounds():
    s = pd.Series([10.0, 8.0, 6.0], index=[2000, 2001, 2002])
    lin = extrapolate_trend(s, [1998, 2003], fit_years=2)
    assert lin.tolist() == [14.0, 4.0]
    mul = extrapolate_trend(s, [2004], trend="multiplicative", fit_years=2)
    assert mul.iloc[0] == pytest.approx(6.0 * (6.0 / 10.0) ** (2 / 2))
    clipped = extrapolate_trend(s, [2010], fit_years=2, max_ratio=np.inf)
    assert clipped.iloc[0] == 0.0  # linear trend below zero is clipped at 0
    bounded = extrapolate_trend(s, [2008], fit_years=2, max_ratio=2.0)
    assert bounded.iloc[0] == pytest.approx(3.0)  # at most a factor 2 below the end value
    with pytest.raises(InputError, match="max_years=3"):
        extrapolate_trend(s, [2006], max_years=3)


@given(
    values=st.lists(st.floats(0.1, 100.0), min_size=2, max_size=8),
    dist=st.integers(1, 6),
    trend=st.sampled_from(["linear", "multiplicative"]),
    max_ratio=st.floats(1.0, 5.0),
)
def test_extrapolation_stays_within_its_bounds(values, dist, trend, max_ratio):
    s = pd.Series(values, index=range(2000, 2000 + len(values)))
    end = s.index[-1] + dist
    start = s.index[0] - dist
    out = extrapolate_trend(s, [start, end], trend=trend, max_ratio=max_ratio)
    for v, ref in ((out.iloc[0], values[0]), (out.iloc[1], values[-1])):
        assert 0.0 <= v
        assert ref / max_ratio * (1 - 1e-12) <= v <= ref * max_ratio * (1 + 1e-12)


def _extrapolate_one_year_at_a_time(s, years, trend, fit_years, max_years, max_ratio):
    """The scalar formula of extrapolate_trend, year by year (reference for the vectorised one)."""
    first, last = int(s.index[0]), int(s.index[-1])
    values = s.to_numpy(float)
    k = min(fit_years, len(values) - 1)
    out = []
    for t in sorted(set(years)):
        if first <= t <= last:
            out.append(float(s.loc[t]))
            continue
        after = t > last
        dist = t - last if after else first - t
        assert dist <= max_years
        end = values[-1] if after else values[0]
        if k == 0:
            val = end
        else:
            far = values[-1 - k] if after else values[k]
            if trend == "linear":
                val = end + dist * (end - far) / k
            else:
                val = end * (end / far) ** (dist / k)
        val = min(max(val, end / max_ratio), end * max_ratio)
        out.append(max(val, 0.0))
    return np.array(out)


@given(
    values=st.lists(st.floats(0.01, 100.0), min_size=1, max_size=12),
    years=st.lists(st.integers(1985, 2030), min_size=1, max_size=20),
    trend=st.sampled_from(["linear", "multiplicative"]),
    fit_years=st.integers(1, 8),
    max_ratio=st.sampled_from([1.0, 1.5, 3.0, np.inf]),
)
def test_extrapolation_is_the_scalar_formula_to_the_bit(values, years, trend, fit_years, max_ratio):
    s = pd.Series(values, index=range(2000, 2000 + len(values)))
    out = extrapolate_trend(
        s, years, trend=trend, fit_years=fit_years, max_years=40, max_ratio=max_ratio
    )
    ref = _extrapolate_one_year_at_a_time(s, years, trend, fit_years, 40, max_ratio)
    assert out.index.tolist() == sorted(set(years))
    assert out.to_numpy().tobytes() == ref.tobytes()


def test_extrapolation_errors_name_the_first_failing_year():
    s = pd.Series([0.0, 1.0, 2.0], index=[2000, 2001, 2002])
    with pytest.raises(InputError, match="year 1990 is 10 years beyond"):
        extrapolate_trend(s, [1990, 2010, 2020], max_years=8)
    with pytest.raises(InputError, match="got 2.0 and 0.0"):
        extrapolate_trend(s, [1999, 2020], trend="multiplicative", max_years=30)
    with pytest.raises(InputError, match="year 1990 is 10 years beyond"):
        extrapolate_trend(s, [1990, 2004], trend="multiplicative", max_years=5)
    with pytest.raises(InputError, match="got 0.0 and 2.0"):
        extrapolate_trend(s, [2004, 2020], trend="multiplicative", max_years=5)


def test_trajectory_methods_are_the_method_kinds():
    assert TRAJECTORY_METHODS == ("index", "overlap", "surrogate", "extrapolation", "interpolation")
    for kind in TRAJECTORY_METHODS:
        extra = {"old_series": "old"} if kind == "overlap" else {}
        extra = {"driver": "d"} if kind == "surrogate" else extra
        assert Method(kind, **extra).kind == kind
    with pytest.raises(ConfigError, match="expected one of"):
        Method("backcast")


def test_ratio_series_index_and_errors():
    t = validate_trends(_table([4.0, 2.0, 1.0, 0.0]))
    r, lab = ratio_series(t, F, "NOx", [2000, 2001], 2002, Method())
    assert r.tolist() == [4.0, 2.0, 1.0]
    assert set(lab) == {"index"}
    with pytest.raises(InputError, match=r"outside the index series.*Method\('extrapolation'\)"):
        ratio_series(t, F, "NOx", [1995], 2002, Method())
    with pytest.raises(InputError, match="is 0.0 at the reference year 2003"):
        ratio_series(t, F, "NOx", [2000], 2003, Method())
    r2, lab2 = ratio_series(t, F, "NOx", [2004], 2002, Method("extrapolation", fit_years=1))
    assert lab2.loc[2004] == "extrapolation" and lab2.loc[2002] == "index"
    assert r2.loc[2004] == 0.0
    with pytest.raises(InputError, match="needs anchor inventories"):
        ratio_series(t, F, "NOx", [2000], 2002, Method("interpolation"))


def test_ratio_series_overlap_and_surrogate_labels():
    t = validate_trends(
        pd.concat(
            [
                _table([8.0, 6.0, 4.0], years=[1990, 1991, 1992], series="old"),
                _table([2.0, 1.0, 0.5], years=[1992, 1993, 1994], series="new"),
            ]
        )
    )
    m = Method("overlap", series="new", old_series="old")
    r, lab = ratio_series(t, F, "NOx", [1990, 1994], 1993, m)
    assert lab.loc[1990] == "overlap" and lab.loc[1994] == "index"
    assert r.loc[1990] == pytest.approx(8.0 * 0.5 / 1.0)
    drivers = pd.DataFrame(
        {"driver": "pop", "year": range(1990, 2001), "value": np.linspace(50.0, 100.0, 11)}
    )
    rs, labs = ratio_series(
        None, F, "NOx", [1990], 2000, Method("surrogate", driver="pop"), surrogates=drivers
    )
    assert rs.loc[1990] == 0.5 and labs.loc[1990] == "surrogate"
    with pytest.raises(MissingVariableError, match="no driver 'cars'"):
        ratio_series(
            None, F, "NOx", [1990], 2000, Method("surrogate", driver="cars"), surrogates=drivers
        )


# --------------------------------------------------------------------------- real data
@pytest.mark.requires_shared
def test_read_eurostat_vintages_are_never_mixed(shared_data):
    path = shared_data / "emission_trends" / "france_trends.csv"
    with pytest.raises(InputError, match="vintages must never be"):
        read_eurostat_air_emissions(path)
    with pytest.raises(InputError, match="no default GNFR"):
        read_eurostat_air_emissions(path, vintage="EUROSTAT_ENV_AIR_EMIS_SNAP2023")
    t = read_eurostat_air_emissions(path, vintage="EUROSTAT_ENV_AIR_EMIS_SNAP2016")
    assert set(t["series"]) == {"EUROSTAT_ENV_AIR_EMIS_SNAP2016"}
    assert set(t["sector"]) == set(EUROSTAT_AIRSECT_TO_GNFR)
    assert set(t["pollutant"]) == {"NOx", "SO2", "PM10", "PM2.5", "NH3", "NMVOC"}
    raw = pd.read_csv(path)
    raw = raw[(raw["source_id"] == "EUROSTAT_ENV_AIR_EMIS_SNAP2016") & (raw["pollutant"] == "NOX")]
    raw = raw[raw["year"] == 2000].set_index("sector_code")["value"]
    b = t[(t["sector"] == "B_Industry") & (t["pollutant"] == "NOx") & (t["year"] == 2000)]
    assert float(b["value"].iloc[0]) == raw["SE1_EUI"] + raw["SE2_IP"]
    # the 2023 vintage with an explicit mapping
    t23 = read_eurostat_air_emissions(
        path,
        vintage="EUROSTAT_ENV_AIR_EMIS_SNAP2023",
        sector_mapping={F: ["NFR1A_TRA"]},
        ignore_codes=["NFR3_AGR", "NFR3_MNR"],  # undocumented coverage: mapped or ignored
    )
    assert set(t23["sector"]) == {F}


def test_a_method_that_cannot_run_names_the_configuration_form():
    """Years outside an index series, or interpolation without anchors: the message gives
    the fix as the configuration writes it (``[trajectory.methods]``), not only from Python."""
    t = validate_trends(_table([4.0, 2.0, 1.0, 0.0]))
    with pytest.raises(InputError) as info:
        ratio_series(t, F, "NOx", [1995], 2002, Method())
    said = str(info.value)
    assert f'[trajectory.methods] {F} = {{ NOx = "extrapolation" }}' in said
    assert f'{F} = "extrapolation" for all its pollutants' in said
    with pytest.raises(InputError) as info:
        ratio_series(t, F, "NOx", [2000], 2002, Method("interpolation"))
    assert f'[trajectory.methods] {F} = {{ NOx = "index" }}' in str(info.value)
