"""The bundled sample data set: every input of a run, generated deterministically.

:func:`write_sample` writes the files of ``docs/input-formats.md`` and a ``config.toml``
(``docs/configuration.md``) into a directory; the committed ``data/sample/`` is its output
with the default arguments. The seven territories sit at their real positions with their
real areas and populations; shapes, inventory, weather and observations are synthetic,
shaped on public figures (see the generated ``README.md``).

The generation is deterministic: the same arguments give the same files (fixed seeds, no
timestamps; gzip with ``mtime=0``; GeoPackages with a fixed ``OGR_CURRENT_DATE``).
"""

from __future__ import annotations

import gzip
import io
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from trajectoire._validate import rows_preview
from trajectoire.errors import InputError
from trajectoire.geo.grid import Grid
from trajectoire.sample import geo
from trajectoire.sample import inventory as inv
from trajectoire.sample import meteo as met
from trajectoire.species import known_species
from trajectoire.units import SECONDS_PER_YEAR

__all__ = ["SAMPLE_FILES", "write_sample"]

#: days in the year of the run's emission rates (the Julian year of trajectoire.units)
DAYS = SECONDS_PER_YEAR / 86400.0

#: Files written by :func:`write_sample` (besides ``README.md``).
SAMPLE_FILES: tuple[str, ...] = (
    "territories.gpkg",
    "zones.gpkg",
    "point_sources.csv",
    "point_source_history.csv",
    "roads.gpkg",
    "road_emission_factors.csv",
    "area_emissions.csv",
    "landuse.tif",
    "trends.csv",
    "meteo.csv.gz",
    "stations.csv",
    "observations_annual.csv",
    "observations_hourly.csv",
    "background.csv",
    "qpv.gpkg",
    "config.toml",
)

#: Release height [m] of the area sources of each sector (written to config.toml). Four
#: height classes (ground, low, chimney, elevated): each distinct height costs one kernel and
#: one FFT per pollutant and year, so a run groups its sectors into a few classes.
RELEASE_HEIGHT: dict[str, float] = {
    "A_PublicPower": 25.0,
    "B_Industry": 10.0,
    "C_OtherStationaryComb": 10.0,
    "D_Fugitive": 4.0,
    "E_Solvents": 4.0,
    "F_RoadTransport": 1.0,
    "G_Shipping": 25.0,
    "H_Aviation": 25.0,
    "I_OffRoad": 1.0,
    "J_Waste": 4.0,
    "K_AgriLivestock": 1.0,
    "L_AgriOther": 1.0,
    "M_Other": 4.0,
}
_FIXED_DATE = "2000-01-01T00:00:00.000Z"


def write_sample(
    directory: str | Path,
    *,
    first_year: int = 1990,
    last_year: int = 2023,
    reference_year: int = 2018,
    seed: int = geo.DEFAULT_SEED,
    overwrite: bool = False,
) -> Path:
    """Write the sample inputs and a ``config.toml`` into `directory`.

    Parameters
    ----------
    directory : str or Path
        Output directory (created if needed).
    first_year, last_year : int, default 1990, 2023
        Years of the meteorology, trends, background and observations (inclusive).
        ``first_year`` >= 1950; ``last_year`` <= 2100.
    reference_year : int, default 2018
        Year of the inventory; between 2003 and `last_year` (the register era).
    seed : int, default 20261122
        Seed of every random draw (the default gives the committed ``data/sample``).
    overwrite : bool, default False
        Replace sample files that already exist in `directory`.

    Returns
    -------
    pathlib.Path
        Path of the written ``config.toml``.

    Raises
    ------
    trajectoire.InputError
        Years out of range or in the wrong order; existing files and ``overwrite=False``.

    Notes
    -----
    Writing the full 1990-2023 set takes some seconds (the hourly meteorology of 34 years
    and a 100 m land-use raster of about 2.7 million cells).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:  # doctest: +SKIP
    ...     cfg = write_sample(d, first_year=2018, last_year=2019)
    ...     cfg.name
    'config.toml'
    """
    first_year, last_year, reference_year = int(first_year), int(last_year), int(reference_year)
    if not 1950 <= first_year <= last_year <= 2100:
        raise InputError(
            f"write_sample: years {first_year}..{last_year}; expected "
            "1950 <= first_year <= last_year <= 2100."
        )
    if not (max(first_year, 2003) <= reference_year <= last_year):
        raise InputError(
            f"write_sample: reference_year={reference_year}; expected a year between "
            f"max(first_year, 2003)={max(first_year, 2003)} and last_year={last_year}."
        )
    out = Path(directory)
    if out.exists() and not out.is_dir():
        raise InputError(f"write_sample: {out} exists and is not a directory.")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            f"write_sample: cannot create the directory {out} ({exc.strerror}); choose a "
            "directory you can write to."
        ) from None
    existing = [f for f in (*SAMPLE_FILES, "README.md") if (out / f).exists()]
    if existing and not overwrite:
        raise InputError(
            f"write_sample: {out} already holds {rows_preview(existing, 4)}; replace them "
            "with `trajectoire sample DIR --overwrite` (overwrite=True in Python), or choose "
            "an empty directory."
        )
    parts = build_sample(
        first_year=first_year, last_year=last_year, reference_year=reference_year, seed=seed
    )
    for name, writer in parts.items():
        writer(out / name)
    return out / "config.toml"


# --------------------------------------------------------------------------- building
def build_sample(
    *, first_year: int, last_year: int, reference_year: int, seed: int
) -> dict[str, Any]:
    """Compute every part of the sample; return file name -> writer(path) callables."""
    territories = geo.territory_polygons(seed)
    grid = geo.sample_grid(seed)
    zones = geo.build_zones(seed, grid)
    zones_gdf = geo.zones_frame(zones)
    known = set(known_species())
    stacks = _with_pfas(inv.point_sources(reference_year), reference_year)
    sites = [(float(s[2]), float(s[3]), float(s[12])) for s in inv.STACKS if s[12] > 0]
    landuse = geo.build_landuse(seed, grid, sites)
    roads = geo.build_roads(seed, grid)
    trends = inv.trends(seed, min(first_year, 2003), max(last_year, reference_year))
    history = inv.point_source_history(seed, trends, reference_year, last_year)
    trends = trends[(trends["year"] >= first_year) & (trends["year"] <= last_year)]
    trends = pd.concat(
        [trends, inv.emerging_trends(first_year, last_year, known)], ignore_index=True
    )
    areas = _area_emissions(seed, zones_gdf, grid, landuse, reference_year, roads)
    road_factors = pd.concat(
        [inv.road_emission_factors(), inv.emerging_road_factors(reference_year, known)],
        ignore_index=True,
    )
    stations = pd.DataFrame(geo.stations_frame(seed))
    bg = met.background(seed, first_year, last_year)
    bg_emerging = inv.emerging_background(
        first_year, last_year, known, numbers=_reads_number_background()
    )
    annual = met.observations_annual(seed, stations, bg, first_year, last_year)
    hourly = met.observations_hourly(seed, annual, bg, last_year, stations)
    summary = _summary(stacks, roads, areas[areas["units"] == "t yr-1"], reference_year)

    import geopandas as gpd

    roads_gdf = gpd.GeoDataFrame(
        {k: v for k, v in roads.items() if k != "geometry"},
        geometry=roads["geometry"],
        crs=geo.DEFAULT_CRS,
    )
    return {
        "territories.gpkg": lambda p: _write_gpkg(territories, p, "territories"),
        "zones.gpkg": lambda p: _write_gpkg(zones_gdf, p, "zones"),
        "point_sources.csv": lambda p: _write_csv(stacks, p),
        "point_source_history.csv": lambda p: _write_csv(history, p),
        "roads.gpkg": lambda p: _write_gpkg(roads_gdf, p, "roads"),
        "road_emission_factors.csv": lambda p: _write_csv(road_factors, p),
        "area_emissions.csv": lambda p: _write_csv(areas, p),
        "landuse.tif": lambda p: _write_landuse(landuse, grid, p),
        "trends.csv": lambda p: _write_csv(trends, p),
        "meteo.csv.gz": lambda p: _write_meteo(seed, first_year, last_year, p),
        "stations.csv": lambda p: _write_csv(stations, p),
        "observations_annual.csv": lambda p: _write_csv(annual, p),
        "observations_hourly.csv": lambda p: _write_csv(hourly, p),
        "background.csv": lambda p: _write_csv(_with_units(bg, bg_emerging), p),
        "qpv.gpkg": lambda p: _write_gpkg(geo.priority_neighbourhoods(seed), p, "qpv"),
        "config.toml": lambda p: p.write_text(
            _config_text(first_year, last_year, reference_year), encoding="utf-8"
        ),
        "README.md": lambda p: p.write_text(
            _readme_text(first_year, last_year, reference_year, seed, summary, zones_gdf),
            encoding="utf-8",
        ),
    }


def _reads_number_background() -> bool:
    """Whether the run's background reader accepts a particle-number row (``cm-3``).

    The UFP background of the sample is written only then (the sample stays readable by
    the run of the same version).
    """
    import tempfile

    from trajectoire.dispersion.background import read_background
    from trajectoire.errors import TrajectoireError

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "background.csv"
        path.write_text("year,pollutant,value,units\n2000,UFP,1.0,cm-3\n", encoding="ascii")
        try:
            read_background(path)
        except TrajectoireError:
            return False
    return True


def _with_units(bg: pd.DataFrame, emerging: pd.DataFrame) -> pd.DataFrame:
    """The regulated background, then the emerging species' rows; a ``units`` column only
    when a row needs another unit than ``ug m-3``."""
    out = pd.concat([bg.assign(units="ug m-3"), emerging], ignore_index=True)
    return out if (out["units"] != "ug m-3").any() else out.drop(columns="units")


def _with_pfas(stacks: pd.DataFrame, reference_year: int) -> pd.DataFrame:
    """The stacks with a ``PFOA`` column (0 for the regulated stacks) and the PFAS sites."""
    stacks = stacks.assign(PFOA=0.0)
    return pd.concat([stacks, inv.pfas_point_sources(reference_year)], ignore_index=True)


def _zone_vkm(zones: Any, roads: dict[str, list]) -> tuple[np.ndarray, np.ndarray]:
    """Vehicle-km per year of light and heavy vehicles of the road links inside each zone."""
    geoms = np.asarray(roads["geometry"], dtype=object)
    aadt = np.asarray(roads["aadt"], float)
    hdv = np.asarray(roads["hdv_share"], float)
    tree = shapely.STRtree(geoms)
    light = np.zeros(len(zones))
    heavy = np.zeros(len(zones))
    for k, poly in enumerate(zones.geometry):
        idx = tree.query(poly, predicate="intersects")
        if idx.size == 0:
            continue
        km = shapely.length(shapely.intersection(geoms[idx], poly)) / 1000.0
        light[k] = float((aadt[idx] * 365.0 * km * (1.0 - hdv[idx])).sum())
        heavy[k] = float((aadt[idx] * 365.0 * km * hdv[idx]).sum())
    return light, heavy


def _area_emissions(
    seed: int,
    zones: Any,
    grid: Grid,
    landuse: np.ndarray,
    reference_year: int,
    roads: dict[str, list],
) -> pd.DataFrame:
    from rasterio import features

    n = len(zones)
    labels = features.rasterize(
        ((g, k + 1) for k, g in enumerate(zones.geometry)),
        out_shape=grid.shape,
        transform=grid.transform,
        fill=0,
        dtype="int32",
    )
    counts = np.zeros((n + 1, 7))
    np.add.at(counts, (labels.ravel(), landuse.ravel()), 1.0)
    class_km2 = counts[1:] * grid.cell_area / 1e6
    # population of the reference year: linear between the census years around it
    years = np.array(geo.CENSUS_YEARS)
    pops = np.stack([zones[f"pop_{y}"].to_numpy(float) for y in years], axis=1)
    population = np.array([np.interp(reference_year, years, row) for row in pops])
    area_km2 = zones.geometry.area.to_numpy() / 1e6
    density = population / np.maximum(area_km2, 1e-6)
    # port of Dunkerque: a 4 km strip along the coast between Gravelines and Dunkerque (CUD)
    xs = np.linspace(637_000.0, 660_000.0, 24)
    top = geo.coast_y(xs)
    port = shapely.Polygon(
        list(zip(xs, top, strict=True)) + list(zip(xs[::-1], top[::-1] - 4000, strict=True))
    )
    inter = np.array(
        [
            g.intersection(port).area if t == "CUD" else 0.0
            for g, t in zip(zones.geometry, zones["territory"], strict=True)
        ]
    )
    shipping_share = inter / inter.sum()
    airport_zone = {}
    for name, x, y, _ in inv.AIRPORTS:
        hit = np.flatnonzero(zones.geometry.contains(shapely.Point(x, y)).to_numpy())
        airport_zone[name] = int(hit[0]) if hit.size else -1
    regulated = inv.area_emissions(
        seed,
        list(zones["zone_id"]),
        population,
        density,
        class_km2,
        shipping_share,
        airport_zone,
    ).assign(units="t yr-1")
    vkm_light, vkm_heavy = _zone_vkm(zones, roads)
    emerging = inv.emerging_area_emissions(
        list(zones["zone_id"]),
        reference_year,
        population,
        density,
        class_km2,
        vkm_light,
        vkm_heavy,
        airport_zone,
    )
    return pd.concat([regulated, emerging], ignore_index=True)


def _summary(
    stacks: pd.DataFrame, roads: dict[str, list], areas: pd.DataFrame, reference_year: int
) -> pd.DataFrame:
    """Reference-year totals [t yr-1] per group (industry stacks, roads, area sectors): the
    roads' as the run computes them, 365.25 days a year (:mod:`trajectoire.units`)."""
    op = stacks[
        (stacks["start_year"].fillna(0) <= reference_year)
        & (stacks["end_year"].fillna(9999) >= reference_year)
    ]
    rows = {"stacks": op[list(inv.POLLUTANTS)].sum()}
    length_km = np.array([g.length for g in roads["geometry"]]) / 1000.0
    aadt = np.array(roads["aadt"])
    hdv = np.array(roads["hdv_share"])
    cats = np.array(roads["category"])
    road = {}
    for p in inv.POLLUTANTS:
        total = 0.0
        for cat, ef in inv.ROAD_EF.items():
            m = cats == cat
            light, heavy = ef[p]
            total += float(
                (aadt[m] * DAYS * length_km[m] * ((1 - hdv[m]) * light + hdv[m] * heavy)).sum()
            )
        road[p] = total / 1e6
    rows["roads"] = pd.Series(road)
    by_sector = areas.groupby(["sector", "pollutant"])["emission"].sum().unstack().fillna(0.0)
    for s in by_sector.index:
        rows[s] = by_sector.loc[s]
    return pd.DataFrame(rows).T.reindex(columns=list(inv.POLLUTANTS)).fillna(0.0)


# --------------------------------------------------------------------------- writers
def _write_csv(df: pd.DataFrame, path: Path) -> None:
    df.to_csv(path, index=False, lineterminator="\n")


def _write_meteo(seed: int, first_year: int, last_year: int, path: Path) -> None:
    buf = io.StringIO()
    for k, year in enumerate(range(first_year, last_year + 1)):
        met.meteo_year(seed, year).to_csv(buf, index=False, header=k == 0, lineterminator="\n")
    with (
        open(path, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz,
    ):
        gz.write(buf.getvalue().encode("ascii"))


def _write_gpkg(gdf: Any, path: Path, layer: str) -> None:
    import pyogrio

    if path.exists():
        path.unlink()
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": _FIXED_DATE})
    try:
        gdf.to_file(path, layer=layer, driver="GPKG", engine="pyogrio")
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})


def _write_landuse(landuse: np.ndarray, grid: Grid, path: Path) -> None:
    import rasterio

    profile = grid.rasterio_profile(dtype="uint8")
    profile.update(tiled=True, blockxsize=256, blockysize=256, compress="deflate", nodata=0)
    tmp = path.with_suffix(".tmp.tif")
    with rasterio.open(tmp, "w", **profile) as dst:
        dst.write(landuse, 1)
        dst.update_tags(
            classes="1 urban, 2 industrial, 3 arable, 4 pasture, 5 forest, 6 water",
            source="trajectoire sample (synthetic)",
        )
    shutil.move(tmp, path)


# --------------------------------------------------------------------------- text files
def _map_years(first_year: int, last_year: int) -> list[int]:
    """Years with full contribution maps: every tenth year, the first and the last.

    Each map year adds one map per sector and pollutant to the output (the largest part of
    the file); aggregated contributions are written for every year anyway.
    """
    years = [y for y in range(first_year, last_year + 1) if y % 10 == 0 or y == first_year]
    if last_year not in years:
        years.append(last_year)
    return years


def _config_text(first_year: int, last_year: int, reference_year: int) -> str:
    heights = "\n".join(f"{s} = {h:.1f}" for s, h in RELEASE_HEIGHT.items())
    known = set(known_species())
    emerging = [p for p in ("UFP", "PFOA", "S-metolachlor", "TRWP", "TRWP_coarse") if p in known]
    # the emerging species that deposit (their registry velocities; S-metolachlor has none,
    # TRWP_coarse is deposited where it is emitted): the regulated ones stay as before
    depositing = ", ".join(f'"{p}"' for p in ("PFOA", "TRWP", "UFP") if p in known)
    pollutants = ", ".join(
        f'"{p}"' for p in ("NOx", "NO2", "PM10", "PM2.5", "SO2", "NH3", "NMVOC", *emerging)
    )
    territories = ", ".join(f'"{t}"' for t in geo.ORDER)
    map_years = ", ".join(str(y) for y in _map_years(first_year, last_year))
    return f"""# Run configuration of the trajectoire sample (see docs/configuration.md).
# Written by trajectoire.sample.write_sample; paths are relative to this file.

[run]
name = "trajectoire sample"
first_year = {first_year}
last_year = {last_year}
reference_year = {reference_year}
pollutants = [{pollutants}]

[grid]
crs = "EPSG:2154"
# 200 m keeps the quick start to minutes on a laptop; set 100.0 for the production grid
# (benchmarks/bench_concentration.py --resolution 100 measures that case)
resolution = 200.0
buffer = 5000.0
territories = [{territories}]

[inputs]
territories = "territories.gpkg"
zones = "zones.gpkg"
point_sources = "point_sources.csv"
point_source_history = "point_source_history.csv"
roads = "roads.gpkg"
road_emission_factors = "road_emission_factors.csv"
area_emissions = "area_emissions.csv"
landuse = "landuse.tif"
trends = "trends.csv"
meteo = "meteo.csv.gz"
stations = "stations.csv"
observations = "observations_annual.csv"
background = "background.csv"
# synthetic priority neighbourhoods: exposure inside and outside them (docs/exposure.md)
exposure_zones = "qpv.gpkg"

[trajectory]
default_method = "index"

[trajectory.methods]
C_OtherStationaryComb = "index"

[trajectory.uncertainty]
realizations = 0
seed = 1

[meteo]
latitude = 50.57
longitude = 3.10
roughness_length = 0.5
calm_threshold = 0.5

[dispersion]
radius = 20000.0
sigma = "briggs-urban"
receptor_height = 1.5
# dry deposition of the emerging species (deposition flux maps and the cumulative
# deposition per territory since {first_year}); the regulated pollutants are dispersed inert
dry_deposition = [{depositing}]

[dispersion.release_height]
{heights}

[attribution]
by = ["sector", "territory"]
map_years = [{map_years}]

[output]
mask_beyond_buffer = true
dtype = "float32"
"""


def _readme_text(
    first_year: int,
    last_year: int,
    reference_year: int,
    seed: int,
    summary: pd.DataFrame,
    zones: Any,
) -> str:
    total = summary.sum()
    table = ["| group | " + " | ".join(inv.POLLUTANTS) + " |", "|---" * 7 + "|"]
    for name, row in summary.iterrows():
        table.append(f"| {name} | " + " | ".join(f"{row[p]:,.0f}" for p in inv.POLLUTANTS) + " |")
    table.append(
        "| **total** | " + " | ".join(f"**{total[p]:,.0f}**" for p in inv.POLLUTANTS) + " |"
    )
    n_terr = int((zones["territory"] != "").sum())
    n_out = int((zones["territory"] == "").sum())
    pop_out = int(zones.loc[zones["territory"] == "", "pop_2023"].sum())
    return _README.format(
        first_year=first_year,
        last_year=last_year,
        reference_year=reference_year,
        seed=seed,
        table="\n".join(table),
        nox_share=100.0 * total["NOx"] / 90_700.0,
        pm10_share=100.0 * total["PM10"] / 28_800.0,
        pm25_share=100.0 * total["PM2.5"] / 17_200.0,
        nh3_share=100.0 * total["NH3"] / 40_600.0,
        road_nox=100.0 * float(summary["NOx"].get("roads", 0.0)) / float(total["NOx"]),
        n_terr=n_terr,
        n_out=n_out,
        pop_out=pop_out,
        n_qpv=len(geo.PRIORITY_NEIGHBOURHOODS),
        n_stacks=len(inv.STACKS),
        pop_share=100.0 * zones["pop_2023"].sum() / 6_000_000.0,
        area_share=100.0 * zones.geometry.area.sum() / 1e6 / 31_800.0,
    )


_README = """# The trajectoire sample data set

Every input of a `trajectoire run` for the seven study territories of Hauts-de-France,
{first_year}-{last_year}, reference inventory {reference_year}. **Generated** by
`trajectoire.sample.write_sample` (seed {seed}); do not edit these files by hand.

Regenerate it with `trajectoire sample DIR` or

```
python -c "import trajectoire.sample as s; s.write_sample('data/sample', overwrite=True)"
```

## What is real and what is synthetic

**Real (public facts):** the positions (centroids), areas and 2019 / 2023 populations of the
seven territories; the positions of the towns used as population centres; the codes, names
and positions of the monitoring stations; the approximate corridors of the motorways; the
2018 regional emission totals the inventory is compared with.

**Synthetic (made up, plausible):** the territory *shapes* (smooth random outlines with the
real area at the real place, kept apart along the bisectors of their centroids and clipped
at a simplified coastline), the zones and their populations before 2019, the priority neighbourhoods, every emission
figure, the road network and traffic, the land use, the trend indices, the weather, the
background and **all the observations: they are not real measurements** and must not be
used as such.

## Files

| file | content |
|---|---|
| `territories.gpkg` | layer `territories`: `territory`, `name`, `population` (INSEE 2023), polygons (EPSG:2154) with the real areas |
| `zones.gpkg` | layer `zones`: {n_terr} commune-like zones (Voronoi cells) inside the territories, {n_out} coarser zones (`territory` empty) covering the rest of the regional grid (bounds of the territories + 5 km); census populations `pop_1990` ... `pop_2023`. Per territory, `pop_2023` and `pop_2019` sum to the INSEE totals; earlier years follow a per-territory growth rate (Lille +0.3 %/yr, Dunkerque -0.3 %/yr, Vexin-Thelle +0.7 %/yr...). The outside zones hold {pop_out:,} inhabitants (synthetic density around the real towns) |
| `point_sources.csv` | {n_stacks} industrial stacks (steelworks, aluminium smelter, refinery, CCGT and LNG terminal at Dunkerque; chemicals, glass, food, paint shops, incinerators elsewhere) with height, diameter, exit temperature and velocity, commissioning / closure years, and emissions [t/yr]. For a stack not operating in {reference_year}, the figures are those of its last (first) full year of operation. Column `PFOA` [t/yr]: two **illustrative** fluorochemical sites (`ACSO-FLUORO`, `MEL-TEXCOAT`, closed 2012) with no regulated emission, their 1990 figure times the PFOA phase-out index |
| `point_source_history.csv` | yearly register-like figures 2003-{last_year} for the largest stacks |
| `roads.gpkg` | layer `roads`: motorways (A1, A2, A16, A21, A22, A23, A25, A26, A27) and trunk roads along approximate real corridors, urban grids in the towns, rural links; `aadt` [veh/day], `hdv_share` |
| `road_emission_factors.csv` | g/km/vehicle per road category and pollutant, light and heavy vehicles (COPERT-like magnitudes for a 2018 French fleet, PM including tyre, brake and road wear); `TRWP`: the airborne (PM10) part of tyre and road wear of the fleet model with the tyre speed correction of each category (EMEP/EEA 1.A.3.b.vi-vii; `TRWP_coarse`, the part deposited near the road, when the species registry knows it) |
| `area_emissions.csv` | totals per zone, GNFR sector and pollutant [t/yr] for the area sectors: per-capita factors (heating, solvents, small industry, off-road, waste, other), per-km2 factors of the land-use classes (agriculture, industrial estates), the port of Dunkerque (shipping), Lille-Lesquin and Beauvais-Tillé airports (aviation). Column `units`: `t yr-1`, or `yr-1` for the particle numbers of `UFP` (road exhaust from the vehicle-km of the roads in each zone with the fleet model of {reference_year}, the airports' landing/take-off cycles, residential wood burning); `S-metolachlor` volatilised from arable land (`L_AgriOther`). Emerging species: `trajectoire.inventory.emerging`, factors in `data/emerging_factors.toml`, mostly illustrative (docs/emerging.md) |
| `landuse.tif` | uint8 classes on the 100 m regional grid (1 urban, 2 industrial, 3 arable, 4 pasture, 5 forest, 6 water), consistent with the towns, the stacks, the port and the sea north of Dunkerque |
| `trends.csv` | national trend indices (1990 = 100) per GNFR sector and pollutant, {first_year}-{last_year}: smooth shapes with one-year events (cold winters, 2009 recession, 2020 lockdowns); for the emerging species the models' own indices (fleet renewal and traffic for UFP and TRWP, LTO cycles, wood appliances, S-metolachlor use, PFOA phase-out) |
| `meteo.csv.gz` | hourly surface weather at a Lille-Lesquin-like station, every hour of every year (UTC): `wind_speed` [m/s at 10 m], `wind_direction` [deg from], `cloud_cover` [okta], `temperature` [K]; prevailing south-westerly winds, mean speed about 4.7 m/s, diurnal and seasonal cycles, calmer clear nights, year-to-year variability |
| `stations.csv` | 11 monitoring stations (real codes and positions rounded to 100 m), `type`, and the territory their point falls in |
| `observations_annual.csv` | **synthetic** annual means [ug/m3] of NO2, PM10, PM2.5, SO2 with plausible levels and trends, stations starting in different years, a few missing years |
| `observations_hourly.csv` | **synthetic** hourly NO2 and PM10 of {last_year} at 4 stations, consistent with the annual means and the sample weather (higher in calm stable hours, rush hours, continental episodes) |
| `background.csv` | regional background [ug/m3] per year (NOx, NO2, PM10, PM2.5, SO2, NH3, NMVOC; **illustrative** levels of PFOA, S-metolachlor and TRWP, and of UFP [cm-3, with a `units` column] when the run reads particle-number backgrounds) |
| `qpv.gpkg` | layer `qpv`: **synthetic** priority neighbourhoods (`zone_id` `QPV-SYN-...`, `territory`): {n_qpv} smooth polygons of 50-130 ha near the centres of Lille, Roubaix, Tourcoing, Villeneuve-d'Ascq, Dunkerque, Grande-Synthe, Creil and Nogent-sur-Oise. **They are not the real QPV** (quartiers prioritaires de la politique de la ville): they only exercise `[inputs] exposure_zones` |
| `config.toml` | the run configuration (`docs/configuration.md`) |

## Reference-year totals of the sample domain [t/yr, {reference_year}]

{table}

For comparison, the whole Hauts-de-France region emitted 90.7 kt NOx (road transport 44 %,
industry 22 %), 28.8 kt PM10, 17.2 kt PM2.5 and 40.6 kt NH3 in 2018 (Atmo Hauts-de-France,
bilan territorial). The sample domain (its zones hold {pop_share:.0f} % of the region's six million
inhabitants on {area_share:.0f} % of its 31 800 km2) gets {nox_share:.0f} % of the regional NOx, {pm10_share:.0f} % of the
PM10, {pm25_share:.0f} % of the PM2.5 and {nh3_share:.0f} % of the NH3; roads give
{road_nox:.0f} % of its NOx.

## Figures the sample was shaped on (sources)

* Territories: IGN ADMIN EXPRESS COG 2018 communes (via `gregoiredavid/france-geojson`,
  Licence Ouverte) dissolved into the 2026 EPCI perimeters of the DGCL; populations: INSEE
  « populations de référence » 2019 and 2023 (via Etalab `@etalab/decoupage-administratif`,
  Licence Ouverte). Only centroids, areas, extents and totals are used.
* Stations: LCSQA list of measurement points 2021 (Atmo Hauts-de-France, Licence Ouverte):
  codes, names and positions only (no measurement is used).
* Emission totals 2018: Atmo Hauts-de-France, bilan territorial
  (https://bilanterritorial.atmo-hdf.fr/departements).
* Trend shapes: French national inventory by sector (Citepa, CLRTAP / NEC reporting,
  republished by Eurostat `env_air_emis`), and SDES, « Les rejets de polluants dans l'air »
  (NOx -60 % 2000-2022).
* Road factors: EMEP/EEA air pollutant emission inventory guidebook 2019, 1.A.3.b (COPERT).
* Weather: climate of Lille-Lesquin (Météo-France normals): no observation is used.

## Licence

The generated files are released with trajectoire (BSD-3-Clause). The few real facts they
contain come from Licence Ouverte / Etalab sources, reusable with attribution (above).
"""
