"""The stack keywords of the stack paths, defined once (:mod:`trajectoire.dispersion.points`).

``point_sources_annual``, ``stack_footprints`` and ``hourly_at_receptors`` take the stacks
and the plume settings as ``**stacks: Unpack[...]`` (PEP 692): the keyword calls written
before keep working and give the same numbers, the defaults are applied in one place, and a
misspelled or missing keyword is still one clear :class:`TypeError` naming it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from test_near_field import OLD_STACK_SPEED_EDGES
from trajectoire import dispersion as disp
from trajectoire import meteo as tm
from trajectoire.dispersion import points
from trajectoire.grid import Grid

X0, Y0 = 650000.0, 7000000.0
STACKS = {
    "x": [X0 + 730.0, X0 + 1260.0],
    "y": [Y0 + 880.0, Y0 + 1125.0],
    "stack_height": [40.0, 15.0],
    "stack_diameter": [2.0, 0.8],
    "exit_temperature": [420.0, 300.0],
    "exit_velocity": [12.0, 6.0],
}
GRID = Grid.from_bounds(X0, Y0, X0 + 2000.0, Y0 + 2000.0, 100.0)


def synthetic_met(seed: int = 3, n: int = 400) -> xr.Dataset:
    """`n` hours of random wind, stability and temperature (also the meteorology of
    test_api_mistakes_dispersion)."""
    rng = np.random.default_rng(seed)
    return xr.Dataset(
        {
            "wind_speed": ("time", rng.gamma(2.0, 1.5, n)),
            "wind_direction": ("time", rng.uniform(0, 360, n)),
            "stability": ("time", np.array(list("ABCDEF"))[rng.integers(0, 6, n)]),
            "temperature": ("time", rng.uniform(270, 300, n)),
        },
        coords={"time": pd.date_range("2021-01-01", periods=n, freq="h")},
        attrs={"anemometer_height": 10.0},
    )


@pytest.fixture(scope="module")
def met() -> xr.Dataset:
    return synthetic_met()


@pytest.fixture(scope="module")
def table(met: xr.Dataset) -> xr.Dataset:
    # the stacks' speed classes of main 5f902ac, where the figures below come from (the
    # default is 0.1 m s-1 classes since 2026-12-04: this file checks the keywords, not them)
    return tm.met_classes(met, stack_speed_edges=OLD_STACK_SPEED_EDGES).isel(year=0)


# Every keyword spelled out, each setting away from its default, as callers wrote them before
# the keywords were grouped; the figures are those of the same calls on main 5f902ac (before).
def test_old_keyword_calls_give_the_numbers_of_before(met, table):
    s = STACKS
    p = disp.point_sources_annual(
        table, x=s["x"], y=s["y"], stack_height=s["stack_height"],
        stack_diameter=s["stack_diameter"], exit_temperature=s["exit_temperature"],
        exit_velocity=s["exit_velocity"], weights=[1.0, 2.0], grid=GRID, radius=900.0,
        receptor_height=2.0, sigma="briggs-urban", ambient_temperature=290.0, decay_rate=1e-5,
        sector_smoothing="gauss", deposition_velocity=0.002, near_field=600.0, cell_mean=False,
    )  # fmt: skip
    assert p.shape == (1, 20, 20)
    # the stacks' loss at the stack-top wind since 2026-12-05 (decay_rate=1e-5 here): the
    # figures of 5f902ac were 24.794721152953827, 0.1624908362850867 and, below,
    # [1.0275346769328548, 11.599101021721138]; without decay they are unchanged (the
    # centre values: cell_mean=False since 2026-12-06)
    assert float(p.sum()) == pytest.approx(24.80297493678303, rel=1e-12)
    assert float(p[0, 8, 9]) == pytest.approx(0.16253440097140404, rel=1e-12)
    f = disp.stack_footprints(
        table, x=s["x"], y=s["y"], stack_height=s["stack_height"],
        stack_diameter=s["stack_diameter"], exit_temperature=s["exit_temperature"],
        exit_velocity=s["exit_velocity"], grid=GRID, radius=900.0, receptor_height=2.0,
        sigma="briggs-urban", ambient_temperature=290.0, decay_rate=1e-5, node_spacing=20.0,
        deposition_velocity=0.002, sector_smoothing="hat", near_field=600.0, cell_mean=False,
    )  # fmt: skip
    assert [(r.start, r.stop, c.start, c.stop) for r, c, _ in f] == [(1, 20, 0, 18), (0, 19, 2, 20)]
    sums = [float(fp.sum()) for *_, fp in f]
    assert sums == pytest.approx([1.0281562488182083, 11.602919258208782], rel=1e-12)
    h = disp.hourly_at_receptors(
        met, x=s["x"], y=s["y"], stack_height=s["stack_height"],
        stack_diameter=s["stack_diameter"], exit_temperature=s["exit_temperature"],
        exit_velocity=s["exit_velocity"], emission=[1.0, 2.0], receptors_x=[X0 + 1000.0, X0 + 300.0],
        receptors_y=[Y0 + 1000.0, Y0 + 1700.0], receptor_height=2.0, sigma="briggs-urban",
        calm_threshold=0.7, decay_rate=1e-5, hourly_factor=np.linspace(0.5, 1.5, met.sizes["time"]),
        calm_directions="reported",
    )  # fmt: skip
    assert float(np.nansum(h.values)) == pytest.approx(98.50831622943073, rel=1e-12)
    assert "sigma='briggs-urban'" in h.attrs["history"]


def test_defaults_are_the_documented_ones_applied_once(table):
    """STACK_DEFAULTS covers every optional keyword; leaving them out is passing them."""
    optional = points.AnnualStacks.__optional_keys__
    assert set(points.STACK_DEFAULTS) == optional
    assert points.PlumeOptions.__optional_keys__ <= optional
    assert points.AnnualStacks.__required_keys__ == points.StackArrays.__required_keys__
    assert points.HourlyStacks.__required_keys__ == points.StackArrays.__required_keys__
    kw = {"grid": GRID, "radius": 700.0, "weights": [1.0, 1.0]}
    bare = disp.point_sources_annual(table, **STACKS, **kw)
    spelled = disp.point_sources_annual(table, **STACKS, **kw, **points.STACK_DEFAULTS)
    assert np.array_equal(bare, spelled)
    assert bare.max() > 0
    # a setting away from its default is used (the defaults do not override it)
    other = disp.point_sources_annual(table, **STACKS, **kw, receptor_height=30.0)
    assert not np.array_equal(bare, other)


def _call(function: str, table: xr.Dataset, met: xr.Dataset, **stacks):
    if function == "point_sources_annual":
        return disp.point_sources_annual(table, weights=[1.0, 1.0], grid=GRID, radius=500.0,
                                         **stacks)  # fmt: skip
    if function == "stack_footprints":
        return disp.stack_footprints(table, grid=GRID, radius=500.0, **stacks)
    return disp.hourly_at_receptors(met, emission=[1.0, 1.0], receptors_x=[X0],
                                    receptors_y=[Y0], **stacks)  # fmt: skip


FUNCTIONS = ("point_sources_annual", "stack_footprints", "hourly_at_receptors")


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_misspelled_keyword_is_one_error_naming_it(function, met, table):
    bad = {k if k != "stack_height" else "stack_heigth": v for k, v in STACKS.items()}
    with pytest.raises(TypeError) as err:
        _call(function, table, met, **bad)
    assert str(err.value).startswith(
        f"{function}() got an unexpected keyword argument 'stack_heigth' "
        "(did you mean 'stack_height'?); besides its named parameters it takes the keywords "
    )
    with pytest.raises(TypeError, match=rf"^{function}\(\) .* 'sigmaa' \(did you mean 'sigma'"):
        _call(function, table, met, **STACKS, sigmaa="pgt")
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'colour'; "):
        _call(function, table, met, **STACKS, colour="red")


def test_an_annual_keyword_is_unknown_to_the_hourly_mode(met):
    with pytest.raises(TypeError, match="unexpected keyword argument 'near_field'"):
        _call("hourly_at_receptors", None, met, **STACKS, near_field=100.0)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_missing_stack_array_is_one_error_naming_it(function, met, table):
    short = {k: v for k, v in STACKS.items() if k not in ("exit_velocity", "y")}
    with pytest.raises(TypeError) as err:
        _call(function, table, met, **short)
    assert str(err.value).startswith(f"{function}() missing keyword argument 'y'; ")
    assert "['x', 'y', 'stack_height', 'stack_diameter', 'exit_temperature'," in str(err.value)


def test_bad_settings_are_still_one_input_error(table):
    from trajectoire.errors import InputError

    kw = {"weights": [1.0, 1.0], "grid": GRID}
    for bad, match in (
        ({"radius": 0.0}, "radius=0.0; expected > 0"),
        ({"radius": 500.0, "ambient_temperature": 10.0 - 273.15}, "ambient_temperature"),
        ({"radius": 500.0, "receptor_height": -1.0}, "receptor_height"),
        ({"radius": 500.0, "decay_rate": -1.0}, "decay_rate"),
        ({"radius": 500.0, "near_field": -5.0}, "near_field=-5.0"),
        ({"radius": 500.0, "sigma": "brigs"}, "brigs"),
    ):
        with pytest.raises(InputError, match=match):
            disp.point_sources_annual(table, **STACKS, **kw, **bad)
