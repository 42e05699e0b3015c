"""The xarray concentration API, stack footprints and the adjoint machinery."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal

from trajectoire import Grid, InputError, UnitsError
from trajectoire.concentration import (
    DEFAULT_RELEASE_HEIGHT,
    DispersionSettings,
    YearDispersion,
    annual_concentration,
    stack_footprints,
)
from trajectoire.config import DispersionConfig
from trajectoire.dispersion import point_sources_annual
from trajectoire.sectors import GNFR

X0, Y0 = 650_000.0, 6_900_000.0


def met_table(years=(2017, 2018)):
    """A small synthetic frequency table (south-westerly dominated), one per year."""
    rng = np.random.default_rng(3)
    n_dir, speeds, stab = 8, [1.5, 4.0, 8.0], list("ABCDEF")
    tables = []
    for _ in years:
        f = rng.random((n_dir, len(speeds), len(stab)))
        f[5] *= 4  # from the south-west
        f /= f.sum()
        tables.append(f)
    f = np.stack(tables)
    iu = np.broadcast_to(1.0 / np.array(speeds)[None, None, :, None], f.shape).copy()
    coords = {
        "year": list(years),
        "direction": np.arange(n_dir) * 45.0,
        "speed": speeds,
        "stability": stab,
    }
    ds = xr.Dataset(
        {
            "frequency": (("year", "direction", "speed", "stability"), f),
            "inverse_wind_speed": (("year", "direction", "speed", "stability"), iu),
        },
        coords=coords,
    )
    ds.attrs["anemometer_height"] = 10.0
    return ds


def emission_field(years=(2017, 2018), lazy=False):
    g = Grid.from_bounds(X0, Y0, X0 + 6000, Y0 + 5000, 250)
    rng = np.random.default_rng(0)
    arr = rng.random((len(years), 3, 2, *g.shape)) * (
        rng.random((len(years), 3, 2, *g.shape)) < 0.3
    )
    data = da.from_array(arr, chunks=(1, 1, 1, *g.shape)) if lazy else arr
    out = xr.DataArray(
        data,
        dims=("year", "sector", "pollutant", "y", "x"),
        coords={
            "year": list(years),
            "sector": ["C_OtherStationaryComb", "F_RoadTransport", "B_Industry"],
            "pollutant": ["NOx", "PM10"],
            **g.coords(),
        },
        attrs={"units": "t yr-1", "crs": "EPSG:2154"},
    )
    return g, out


SETTINGS = DispersionSettings(
    radius=2000.0, release_height={"C_OtherStationaryComb": 8.0, "B_Industry": 15.0}
)


def test_annual_concentration_contributions_add_up_and_dask_matches():
    _, e = emission_field()
    met = met_table()
    bg = xr.DataArray(
        [[10.0, 15.0], [9.0, 14.0]],
        dims=("year", "pollutant"),
        coords={"year": [2017, 2018], "pollutant": ["NOx", "PM10"]},
        attrs={"units": "ug m-3"},
    )
    ds = annual_concentration(e, met, settings=SETTINGS, background=bg)
    total = ds["contribution"].sum("sector") + ds["background"]
    np.testing.assert_allclose(total.values, ds["concentration"].values, rtol=1e-12)
    assert ds["concentration"].attrs["units"] == "ug m-3"
    assert "history" in ds.attrs
    _, lazy = emission_field(lazy=True)
    ds2 = annual_concentration(lazy, met, settings=SETTINGS, background=bg)
    np.testing.assert_allclose(ds2["concentration"].values, ds["concentration"].values, rtol=1e-12)
    # linearity: twice the emission gives twice the local part
    ds3 = annual_concentration(e * 2, met, settings=SETTINGS)
    np.testing.assert_allclose(
        ds3["contribution"].values, 2 * ds["contribution"].values, rtol=1e-12, atol=1e-15
    )


def test_year_by_year_equals_all_years():
    _, e = emission_field()
    met = met_table()
    both = annual_concentration(e, met, settings=SETTINGS)
    one = annual_concentration(e.sel(year=[2018]), met, settings=SETTINGS)
    np.testing.assert_array_equal(
        both["contribution"].sel(year=[2018]).values, one["contribution"].values
    )


def test_annual_concentration_bad_inputs():
    _, e = emission_field()
    with pytest.raises(InputError, match="no meteorology for years"):
        annual_concentration(e, met_table(years=(2016, 2017)), settings=SETTINGS)
    with pytest.raises(UnitsError):
        annual_concentration(e.assign_attrs(units="ug m-3"), met_table(), settings=SETTINGS)
    bad_bg = xr.DataArray(
        [[1.0, 1.0]],
        dims=("year", "pollutant"),
        coords={"year": [2017], "pollutant": ["NOx", "PM10"]},
        attrs={"units": "ppm"},
    )
    with pytest.raises(UnitsError):
        annual_concentration(e, met_table(), settings=SETTINGS, background=bad_bg)
    with pytest.raises(InputError, match="missing"):
        annual_concentration(e.rename(sector="group"), met_table(), settings=SETTINGS)


def test_annual_concentration_is_yeardispersion_by_sector():
    """annual_concentration's contributions are YearDispersion.by_sector of each year, bit for bit."""
    g, e = emission_field()
    met = met_table()
    ds = annual_concentration(e, met, settings=SETTINGS)
    sectors = [str(s) for s in e["sector"].values]
    disp = YearDispersion(g, met.sel(year=2018), SETTINGS, SETTINGS.heights(sectors))
    for pol in ("NOx", "PM10"):
        planes = e.sel(year=2018, pollutant=pol).values
        want = disp.by_sector(planes, sectors)
        np.testing.assert_array_equal(ds["contribution"].sel(year=2018, pollutant=pol).values, want)
        # the grouped path of the run: the same sum to round-off, one transform per height
        np.testing.assert_allclose(
            disp.total(planes, sectors), want.sum(axis=0), rtol=1e-12, atol=1e-12 * want.max()
        )
    none = np.zeros((3, *g.shape))
    assert not disp.total(none, sectors).any() and not disp.by_sector(none, sectors).any()
    # sector weights (primary NO2's shares): the total of the weighted planes, bit for bit
    planes = e.sel(year=2018, pollutant="NOx").values.astype(np.float32)
    w = np.array([0.3, 0.0, 0.07], dtype=np.float32)
    np.testing.assert_array_equal(
        disp.total(planes, sectors, w), disp.total(planes * w[:, None, None], sectors)
    )


@given(
    st.integers(0, 2**32 - 1),
    st.sampled_from([np.float32, np.float64]),
    st.booleans(),
    st.sampled_from(["double", "single"]),
)
@settings(max_examples=15, deadline=None)
def test_total_formed_in_the_plans_padded_array_is_the_former_path(seed, dtype, weighted, prec):
    """YearDispersion.total sums each class's planes into the plan's kept padded array (in
    the plan's precision) and transforms it there: the same bits as the sum in a float64
    field of its own, its forward transform (converted, scipy's padding) and the spectra's
    one inverse."""
    import dataclasses

    import scipy.fft

    g, e = emission_field()
    met = met_table()
    sectors = [str(s) for s in e["sector"].values]
    chosen = dataclasses.replace(SETTINGS, precision=prec)
    disp = YearDispersion(g, met.sel(year=2018), chosen, chosen.heights(sectors))
    kind = np.float32 if prec == "single" else np.float64
    rng = np.random.default_rng(seed)
    planes = (rng.random((3, *g.shape)) * (rng.random((3, *g.shape)) < 0.6)).astype(dtype)
    w = rng.random(3).astype(dtype) if weighted else None
    spectra = {}
    for h in disp.settings.classes(sectors):
        field = np.zeros(g.shape)
        for i, sec in enumerate(sectors):
            if disp.settings.class_of(sec) == h:
                field += planes[i] if w is None else planes[i] * w[i]
        if field.any():
            spectra[h] = scipy.fft.rfftn(field.astype(kind), s=disp.plan.fft_shape, axes=(-2, -1))
    want = disp.apply(spectra) if spectra else np.zeros(g.shape)
    got = disp.total(planes, sectors, w)
    assert np.array_equal(got.view(np.uint64), np.asarray(want, dtype=np.float64).view(np.uint64))
    disp.plan.forward(rng.random(g.shape))  # the kept array reused: the next total unchanged
    assert np.array_equal(disp.total(planes, sectors, w).view(np.uint64), got.view(np.uint64))


def test_by_sector_is_one_convolution_per_sector():
    g, e = emission_field()
    sectors = [str(s) for s in e["sector"].values]
    disp = YearDispersion(g, met_table().sel(year=2017), SETTINGS, SETTINGS.heights(sectors))
    planes = e.sel(year=2017, pollutant="NOx").values
    out = np.full((3, *g.shape), np.nan)
    assert disp.by_sector(planes, sectors, out=out) is out
    for i, sec in enumerate(sectors):
        np.testing.assert_array_equal(out[i], disp.convolve(planes[i], SETTINGS.height_of(sec)))


def test_default_release_heights_and_from_config():
    from trajectoire.batch import pipeline

    assert list(DEFAULT_RELEASE_HEIGHT) == list(GNFR)
    assert pipeline.DEFAULT_RELEASE_HEIGHT == DEFAULT_RELEASE_HEIGHT
    cfg = DispersionConfig(
        radius=5000.0, sigma="pgt", receptor_height=2.0, release_height={"B_Industry": 30.0}
    )
    s = DispersionSettings.from_config(cfg)
    assert (s.radius, s.sigma, s.receptor_height, s.precision) == (5000.0, "pgt", 2.0, "single")
    assert s.release_height == {**DEFAULT_RELEASE_HEIGHT, "B_Industry": 30.0}
    assert DEFAULT_RELEASE_HEIGHT["B_Industry"] == 15.0  # the defaults are not modified
    assert DispersionSettings.from_config(DispersionConfig(), precision="double").precision == (
        "double"
    )


def test_adjoints_match_direct_correlation():
    g, _ = emission_field()
    disp = YearDispersion(g, met_table().sel(year=2018), SETTINGS, [1.0, 8.0])
    w = np.random.default_rng(1).random((2, 12, 15))
    a = disp.adjoints(w, [1.0, 8.0])
    for i in range(2):
        for j, h in enumerate([1.0, 8.0]):
            ref = signal.correlate2d(w[i], disp.kernels[h], mode="same")
            np.testing.assert_allclose(a[i, j], ref, rtol=1e-9, atol=1e-12 * ref.max())


def test_stack_footprints_match_the_exact_point_kernel():
    g = Grid.from_bounds(X0, Y0, X0 + 8000, Y0 + 8000, 100)
    met = met_table().sel(year=2018)
    kw = dict(
        x=[X0 + 4010.0, X0 + 2550.0],
        y=[Y0 + 3980.0, Y0 + 5020.0],
        stack_height=[60.0, 25.0],
        stack_diameter=[3.0, 1.0],
        exit_temperature=[420.0, 350.0],
        exit_velocity=[12.0, 6.0],
        radius=3000.0,
        sigma="briggs-urban",
    )
    fps = stack_footprints(met, grid=g, **kw)
    exact = point_sources_annual(met, weights=np.eye(2), grid=g, **kw)
    for k, (rs, cs, fp) in enumerate(fps):
        full = np.zeros(g.shape)
        full[rs, cs] = fp
        assert np.abs(full - exact[k]).max() <= 2e-3 * exact[k].max()
        assert full.sum() == pytest.approx(exact[k].sum(), rel=1e-3)


def test_stack_footprints_bad_stack_is_a_clear_error():
    g = Grid.from_bounds(X0, Y0, X0 + 2000, Y0 + 2000, 100)
    with pytest.raises(InputError, match="stack_height"):
        stack_footprints(
            met_table().sel(year=2018),
            x=[X0 + 1000],
            y=[Y0 + 1000],
            stack_height=[-5.0],
            stack_diameter=[1.0],
            exit_temperature=[400.0],
            exit_velocity=[5.0],
            grid=g,
            radius=1000.0,
        )


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("grid", "not a grid"),
        ("radius", 0.0),
        ("radius", float("nan")),
        ("receptor_height", -1.0),
        ("decay_rate", -1e-5),
        ("ambient_temperature", 0.0),
    ],
)
@pytest.mark.parametrize("path", ["stack_footprints", "point_sources_annual"])
def test_stack_paths_check_the_same_settings(path, setting, value):
    # both stack paths reject a bad shared setting with the same one-line InputError
    g = Grid.from_bounds(X0, Y0, X0 + 2000, Y0 + 2000, 100)
    kw = dict(
        x=[X0 + 1000],
        y=[Y0 + 1000],
        stack_height=[20.0],
        stack_diameter=[1.0],
        exit_temperature=[400.0],
        exit_velocity=[5.0],
        grid=g,
        radius=1000.0,
    )
    kw[setting] = value
    if path == "point_sources_annual":
        kw["weights"] = [1.0]
    func = stack_footprints if path == "stack_footprints" else point_sources_annual
    with pytest.raises(InputError, match=setting):
        func(met_table().sel(year=2018), **kw)
