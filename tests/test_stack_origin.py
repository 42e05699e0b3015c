"""A stack's territory of origin is the territory its point lies in, not the territory
holding the largest share of its cell (`locate_stacks(..., territories=...)`)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from trajectoire.dispersion.local import locate_stacks
from trajectoire.geo.grid import Grid
from trajectoire.geo.territories import territory_fractions
from trajectoire.inventory.schema import POINT_SOURCE_VARIABLES

X0, Y0 = 700_000.0, 7_000_000.0  # Lambert-93 [m]
GRID = Grid.from_bounds(X0, Y0, X0 + 3000.0, Y0 + 2000.0, 1000.0, crs="EPSG:2154")


def _territories(split: float, top: float = 2000.0) -> gpd.GeoDataFrame:
    """A west of x0 + split, B east of it, both up to y0 + top (the rest above)."""
    return gpd.GeoDataFrame(
        {"territory": ["A", "B"]},
        geometry=[
            shapely.box(X0, Y0, X0 + split, Y0 + top),
            shapely.box(X0 + split, Y0, X0 + 3000.0, Y0 + top),
        ],
        crs="EPSG:2154",
    )


def _stacks(xs: list[float], ys: list[float]) -> xr.Dataset:
    inv = xr.Dataset({v: ("source", np.full(len(xs), 10.0)) for v in POINT_SOURCE_VARIABLES})
    return inv.assign(
        source_x=("source", X0 + np.asarray(xs)), source_y=("source", Y0 + np.asarray(ys))
    )


def _origins(terr: gpd.GeoDataFrame, xs: list[float], ys: list[float]) -> list[str]:
    frac = territory_fractions(terr, GRID)
    origins = [str(o) for o in frac["territory"].values]
    out = locate_stacks(_stacks(xs, ys), GRID, frac.values, origins, territories=terr)
    assert out is not None
    return [str(o) for o in out["origin"].values]


def test_a_stack_belongs_to_the_territory_it_stands_in() -> None:
    # the cell [1000, 2000) is 70 % A (split at 1700 m); a stack at 1800 m stands in B
    terr = _territories(1700.0)
    assert _origins(terr, [1800.0, 1600.0, 2500.0], [500.0] * 3) == ["B", "A", "B"]


def test_a_stack_outside_every_territory_is_of_the_rest() -> None:
    # the territories stop at 1700 m north of y0: the cell [1000, 2000) in y is 70 % A
    terr = _territories(2000.0, top=1700.0)
    assert _origins(terr, [500.0, 500.0], [1800.0, 1600.0]) == ["rest", "A"]


def test_a_stack_on_a_border_takes_the_larger_share_of_its_cell() -> None:
    terr = _territories(1700.0)  # the border at 1700 m: A holds 70 % of the cell
    assert _origins(terr, [1700.0], [500.0]) == ["A"]


def test_territories_not_in_the_origins_are_no_origin() -> None:
    terr = _territories(1700.0)
    frac = territory_fractions(terr.iloc[:1], GRID)  # a run over A alone: B is the rest
    origins = [str(o) for o in frac["territory"].values]
    out = locate_stacks(_stacks([1800.0], [500.0]), GRID, frac.values, origins, territories=terr)
    assert out is not None and str(out["origin"].item()) == "rest"


def test_without_territories_the_largest_share_of_the_cell() -> None:
    terr = _territories(1700.0)
    frac = territory_fractions(terr, GRID)
    origins = [str(o) for o in frac["territory"].values]
    out = locate_stacks(_stacks([1800.0], [500.0]), GRID, frac.values, origins)
    assert out is not None and str(out["origin"].item()) == "A"


@settings(max_examples=60, deadline=None)
@given(
    split=st.floats(50.0, 2950.0),
    top=st.floats(50.0, 2000.0),
    x=st.floats(1.0, 2999.0),
    y=st.floats(1.0, 1999.0),
)
def test_the_origin_covers_the_stack(split: float, top: float, x: float, y: float) -> None:
    terr = _territories(split, top)
    (got,) = _origins(terr, [x], [y])
    point = shapely.Point(X0 + x, Y0 + y)
    covering = [t for t, g in zip(terr["territory"], terr.geometry, strict=True) if g.covers(point)]
    assert (got in covering) if covering else got == "rest"


def test_the_run_credits_a_stack_to_the_territory_it_stands_in(tmp_path) -> None:
    """prepare() passes the territories: a stack just outside ACSO, in a cell mostly
    ACSO, is of the rest of the grid (the old rule credited it to ACSO)."""
    import warnings

    import pandas as pd

    from test_pipeline import SAMPLE, small_config
    from trajectoire import TrajectoireWarning
    from trajectoire import pipeline as P
    from trajectoire.config import load_config
    from trajectoire.geo.territories import load_territories, regional_grid

    terr = load_territories(SAMPLE / "territories.gpkg")
    terr = terr[terr["territory"].isin(["ACSO", "ARC"])]
    grid = regional_grid(terr, resolution=250.0, buffer=5000.0)
    frac = territory_fractions(terr, grid)
    acso = frac.sel(territory="ACSO").values
    rows, cols = np.nonzero(
        (acso > 0.6) & (acso < 0.95) & (frac.sel(territory="rest").values > 0.04)
    )
    shape = terr.to_crs(grid.crs).set_index("territory").geometry["ACSO"]
    found = None
    for r, c in zip(rows, cols, strict=True):  # a point of the cell outside ACSO
        x0, y1 = grid.bounds[0] + c * 250.0, grid.bounds[3] - r * 250.0
        for fx in np.linspace(0.05, 0.95, 7):
            for fy in np.linspace(0.05, 0.95, 7):
                p = shapely.Point(x0 + fx * 250.0, y1 - fy * 250.0)
                if not shape.covers(p) and not terr.to_crs(grid.crs).covers(p).any():
                    found = p
                    break
            if found:
                break
        if found:
            break
    assert found is not None
    stacks = pd.read_csv(SAMPLE / "point_sources.csv")  # ACSO-CHEM moved there
    stacks.loc[stacks["source_id"] == "ACSO-CHEM", ["x", "y"]] = found.x, found.y
    stacks.to_csv(tmp_path / "point_sources.csv", index=False)
    cfg = load_config(
        small_config(
            tmp_path,
            **{r'^point_sources = ".*"': f'point_sources = "{tmp_path / "point_sources.csv"}"'},
        )
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        ctx = P.prepare(cfg)
    assert ctx.points is not None
    origin = ctx.points["origin"].to_series().set_axis(ctx.points["source"].values)
    assert origin["ACSO-CHEM"] == "rest"
