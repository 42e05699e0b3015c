"""Which years of which (sector, pollutant) a run rebuilt by which method: the per-year
flag variable ``emission_method`` (docs/outputs.md).

A small run of the bundled sample (ARC alone, 500 m, a 5 km kernel) over 2014-2019 with an
anchor inventory of 2015 (the area totals times 1.5) beside the reference of 2018, and
``C_OtherStationaryComb`` extrapolated from a trend series cut to 2015-2018: 2015 is an
anchor, 2016-2017 are interpolated, 2018 is the reference, and 2014 and 2019 are outside the
anchors: extrapolated for that sector, scaled by the trend index for the others. UFP (a
particle number) checks the split into ``emission_method_number``. The years are computed
once; the runner then writes them as parts (a run that fails in 2017, resumed) and
assembles them.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from test_pipeline import SAMPLE, small_config
from trajectoire import TrajectoireWarning
from trajectoire import pipeline as P
from trajectoire.config import RunConfig, load_config
from trajectoire.errors import InputError, MissingVariableError
from trajectoire.io.netcdf import decode_flags, summary
from trajectoire.io.outputs import EMISSION_METHOD_FLAGS, emission_method_flags
from trajectoire.runner import parts_dir_of
from trajectoire.runner import run as run_chain
from trajectoire.trajectory.backcast import METHOD_LABELS

YEARS = list(range(2014, 2020))
ANCHOR, REFERENCE = 2015, 2018
EXTRAPOLATED = "C_OtherStationaryComb"
POLLUTANTS = ["NOx", "NO2", "PM10", "UFP"]


def _inputs(d: Path) -> dict[str, Path]:
    """The anchor's area totals (the sample's times 1.5) and the trend table with the
    series of the extrapolated sector cut to the anchors' span."""
    area = pd.read_csv(SAMPLE / "area_emissions.csv")
    area["emission"] *= 1.5
    area.to_csv(d / "area_2015.csv", index=False)
    trends = pd.read_csv(SAMPLE / "trends.csv")
    cut = (trends["sector"] == EXTRAPOLATED) & ~trends["year"].between(ANCHOR, REFERENCE)
    trends[~cut].to_csv(d / "trends.csv", index=False)
    return {"area": d / "area_2015.csv", "trends": d / "trends.csv"}


def _config(d: Path) -> RunConfig:
    files = _inputs(d)
    over = {
        r"^first_year = \d+": f"first_year = {YEARS[0]}",
        r"^last_year = \d+": f"last_year = {YEARS[-1]}",
        r"^resolution = [\d.]+": "resolution = 500.0",
        r"^territories = \[.*\]": 'territories = ["ARC"]',
        r"^pollutants = \[.*\]": f"pollutants = {POLLUTANTS!r}".replace("'", '"'),
        r'^trends = ".*"': f'trends = "{files["trends"]}"',
        r'^C_OtherStationaryComb = "index"': f'{EXTRAPOLATED} = "extrapolation"',
    }
    path = small_config(d, **over)
    anchor = f'\n[[inputs.anchors]]\nyear = {ANCHOR}\narea_emissions = "{files["area"]}"\n'
    path.write_text(path.read_text() + anchor)
    return load_config(path)


@pytest.fixture(scope="module")
def computed(tmp_path_factory):
    """The prepared run and each of its years computed by the pipeline."""
    d = tmp_path_factory.mktemp("methods")
    cfg = _config(d)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)  # zones beyond the grid...
        ctx = P.prepare(cfg)
        years = {y: P.compute_year(ctx, y) for y in YEARS}
    return cfg, ctx, years


class _Replay:
    """The pipeline, giving the years `computed` computed (no second computation); fails
    in `fail_at` like a run killed there."""

    def __init__(self, ctx: Any, years: dict[int, xr.Dataset], fail_at: int | None = None):
        self.ctx, self.computed, self.fail_at = ctx, years, fail_at
        self.asked: list[int] = []

    def prepare(self, config: RunConfig) -> Any:
        return self.ctx

    def years(self, ctx: Any) -> list[int]:
        return P.years(ctx)

    def compute_year(self, ctx: Any, year: int) -> xr.Dataset:
        if year == self.fail_at:
            raise RuntimeError(f"simulated crash in {year}")
        self.asked.append(year)
        return self.computed[year]

    def static_variables(self, ctx: Any) -> xr.Dataset:
        return P.static_variables(ctx)

    def global_attributes(self, ctx: Any) -> dict[str, Any]:
        return P.global_attributes(ctx)


@pytest.fixture(scope="module")
def assembled(computed, tmp_path_factory):
    """The output assembled from parts: a run that fails in 2017, then resumed."""
    cfg, ctx, years = computed
    out = tmp_path_factory.mktemp("assembled") / "out.nc"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        with pytest.raises(RuntimeError, match="simulated crash in 2017"):
            run_chain(cfg, out, pipeline=_Replay(ctx, years, fail_at=2017), progress=False)
        assert sorted(p.name for p in parts_dir_of(out).glob("year-*.nc")) == [
            "year-2014.nc",
            "year-2015.nc",
            "year-2016.nc",
        ]
        again = _Replay(ctx, years)
        run_chain(cfg, out, pipeline=again, resume=True, progress=False)
    assert again.asked == [2017, 2018, 2019]  # the others from their parts
    ds = xr.open_dataset(out)
    yield ds, out
    ds.close()


def _expected(sector: str, year: int) -> str:
    """The method the configuration asks for a pair that emits."""
    if year == REFERENCE:
        return "reference"
    if year == ANCHOR:
        return "anchor"
    if ANCHOR < year < REFERENCE:
        return "interpolation"
    return "extrapolation" if sector == EXTRAPOLATED else "index"


def _labels(ds: xr.Dataset) -> xr.DataArray:
    """Every pollutant's labels, masses and particle numbers, on ``pollutant``."""
    return ds.trajectoire.emission_methods()


# ------------------------------------------------------------------ the flags
def test_each_year_says_how_its_emission_was_rebuilt(computed) -> None:
    _, ctx, years = computed
    flags = ["emission_method", "emission_method_number"]
    labels = _labels(xr.concat([years[y][flags] for y in YEARS], dim="year", join="exact"))
    assert labels.dims == ("year", "sector", "pollutant")
    total = ctx.trajectory["total"]
    checked = set()
    for sector in ctx.sectors:
        for pol in [p for p in POLLUTANTS if p != "NO2"]:
            got = [str(v) for v in labels.sel(sector=sector, pollutant=pol).values]
            if not (total.sel(sector=sector, pollutant=pol) != 0).any():
                assert got == ["no_emission"] * len(YEARS), (sector, pol)
                checked.add("no_emission")
                continue
            assert got == [_expected(sector, y) for y in YEARS], (sector, pol)
            checked.update(got)
    # the run has each case: extrapolated, scaled by the index, interpolated, the two
    # inventories, and pairs that emit nothing
    assert checked == {
        "extrapolation",
        "index",
        "interpolation",
        "anchor",
        "reference",
        "no_emission",
    }
    heating = labels.sel(sector=EXTRAPOLATED, pollutant="NOx")
    assert [int(y) for y in heating["year"][heating == "extrapolation"].values] == [2014, 2019]


def test_no2_takes_the_flags_of_nox_and_numbers_have_their_own_variable(computed) -> None:
    _, ctx, years = computed
    ds = years[2014]
    flags = ds["emission_method"]
    assert list(flags["pollutant"].values) == ["NOx", "PM10", "NO2"]  # NO2 after those emitted
    assert (flags.sel(pollutant="NO2") == flags.sel(pollutant="NOx")).all()
    number = ds["emission_method_number"]
    assert number.dims == ("year", "sector", "pollutant_number")
    assert list(number["pollutant_number"].values) == ["UFP"]
    assert number.dtype == np.int8  # no units to convert; the name says what it counts
    assert number.attrs == {
        **flags.attrs,
        "long_name": f"{flags.attrs['long_name']} (particle number)",
    }
    ufp = decode_flags(number).sel(year=2014, pollutant_number="UFP")
    method = ctx.trajectory["method"].sel(year=2014, pollutant="UFP")
    emits = (ctx.trajectory["total"].sel(pollutant="UFP") != 0).any("year")
    want = xr.where(emits, method, "no_emission")
    assert [str(v) for v in ufp.values] == [str(v) for v in want.values]
    # the accessor puts them on one pollutant dim: the words have no units
    assert set(_labels(ds)["pollutant"].values) == {"NOx", "NO2", "PM10", "UFP"}
    ufp_2014 = ds.trajectoire.emission_methods(pollutant="UFP").sel(year=2014)
    assert ufp_2014.sel(sector=EXTRAPOLATED).item() == "extrapolation"


def test_the_flags_are_a_cf_flag_variable(computed) -> None:
    _, _, years = computed
    for name in ("emission_method", "emission_method_number"):
        da = years[2016][name]
        values, meanings = da.attrs["flag_values"], da.attrs["flag_meanings"].split()
        assert da.dtype == np.int8 and values.dtype == da.dtype
        assert len(meanings) == values.size and len(set(meanings)) == values.size
        assert meanings == [*METHOD_LABELS, "no_emission"] == list(EMISSION_METHOD_FLAGS)
        assert values.tolist() == list(range(len(meanings)))
        assert np.isin(da.values, values).all()
        assert "units" not in da.attrs and da.attrs["long_name"]
        assert "standard_name" not in da.attrs


# ------------------------------------------------------------------ parts and assembly
def test_the_assembled_parts_hold_what_the_years_computed(computed, assembled) -> None:
    _, ctx, years = computed
    assembled, _ = assembled
    for name in ("emission_method", "emission_method_number"):
        assert assembled[name].dtype == np.int8, name  # no fill value turned it into floats
        for y in YEARS:
            written, own = assembled[name].sel(year=y), years[y][name].sel(year=y)
            np.testing.assert_array_equal(written.values, own.values)
            for dim in own.dims:
                assert written[dim].values.tolist() == own[dim].values.tolist()
        attrs = assembled[name].attrs
        assert attrs["flag_values"].dtype == np.int8
        assert attrs["flag_meanings"] == years[2014][name].attrs["flag_meanings"]
        assert "_FillValue" not in assembled[name].encoding
    # the flags of the whole run's trajectory, whatever years each part computed
    whole = emission_method_flags(ctx.trajectory, ctx.output_pollutants)
    mass = whole.sel(pollutant=assembled["pollutant"].values, sector=ctx.sectors)
    np.testing.assert_array_equal(assembled["emission_method"].values, mass.values)
    assert _labels(assembled).sel(sector=EXTRAPOLATED, pollutant="PM10").values.tolist() == [
        _expected(EXTRAPOLATED, y) for y in YEARS
    ]


# ------------------------------------------------------------------ the functions
def _trajectory(methods: list[str], totals: list[float]) -> xr.Dataset:
    dims = ("year", "sector", "pollutant")
    return xr.Dataset(
        {
            "method": (dims, np.array(methods, dtype=object).reshape(-1, 1, 1)),
            "total": (dims, np.array(totals).reshape(-1, 1, 1)),
        },
        coords={"year": range(1990, 1990 + len(methods)), "sector": ["A"], "pollutant": ["NOx"]},
    )


def test_a_pair_that_emits_in_one_year_only_keeps_its_methods() -> None:
    flags = emission_method_flags(_trajectory(["index", "reference"], [0.0, 2.0]), ["NOx"])
    assert [EMISSION_METHOD_FLAGS[v] for v in flags.values.ravel()] == ["index", "reference"]
    none = emission_method_flags(_trajectory(["index", "reference"], [0.0, 0.0]), ["NOx"])
    assert [EMISSION_METHOD_FLAGS[v] for v in none.values.ravel()] == ["no_emission"] * 2


def test_emission_method_flags_mistakes() -> None:
    tr = _trajectory(["index", "reference"], [1.0, 1.0])
    with pytest.raises(InputError, match=r"\['PM10'\] are not in the trajectory"):
        emission_method_flags(tr, ["NOx", "PM10"])
    with pytest.raises(InputError, match=r"labels \['guess'\] are not among"):
        emission_method_flags(_trajectory(["guess", "reference"], [1.0, 1.0]), ["NOx"])
    with pytest.raises(MissingVariableError, match=r"no \['total'\]"):
        emission_method_flags(tr.drop_vars("total"), ["NOx"])


def test_decode_flags_reads_cf_flags_and_refuses_a_plain_variable() -> None:
    da = xr.DataArray(
        np.array([2.0, np.nan, 0.0]),
        dims="year",
        attrs={"flag_values": np.array([0, 2], dtype=np.int8), "flag_meanings": "a c"},
    )
    assert decode_flags(da).values.tolist() == ["c", "", "a"]
    with pytest.raises(InputError, match="not a flag variable"):
        decode_flags(da.drop_attrs())
    with pytest.raises(InputError, match="2 flag_values and 3 flag_meanings"):
        decode_flags(da.assign_attrs(flag_meanings="a b c"))


def test_an_output_without_the_flags_says_what_to_do() -> None:
    with pytest.raises(MissingVariableError, match="run it again with this one"):
        xr.Dataset({"emission": ("year", [1.0])}).trajectoire.emission_methods()


def test_info_says_which_years_each_method_built(assembled) -> None:
    _, out = assembled
    text = summary(out)
    assert "emission_method  (year, sector, pollutant)  [-]" in text
    assert (
        "  rebuilt:     reference 2018; anchor 2015; interpolation 2016, 2017; "
        "index 2014, 2019; extrapolation 2014, 2019\n"
    ) in text
