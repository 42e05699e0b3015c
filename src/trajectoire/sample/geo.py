"""Geography of the bundled sample: territories, zones, roads, land use, stations.

Private helpers of :mod:`trajectoire.sample`. Shapes are synthetic; the facts hardcoded here
(centroids, areas, extents and populations of the seven territories, positions of towns and
monitoring stations) are public facts read from the open data listed in
``data/sample/README.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import substring

from trajectoire.geo.grid import DEFAULT_CRS, Grid
from trajectoire.sample.inventory import SAMPLE_TABLES, STACKS

if TYPE_CHECKING:
    import geopandas as gpd

__all__: list[str] = []

# --------------------------------------------------------------------------- real facts
#: Territory facts: centroid (x, y) [m, Lambert-93], area [km2] and bounding-box size
#: (width, height) [km] of the real EPCI polygons (IGN ADMIN EXPRESS 2018 communes dissolved
#: by 2026 EPCI), INSEE population municipale 2019 and 2023.
TERRITORY_FACTS: dict[str, dict[str, float]] = {
    "MEL": dict(x=702365, y=7060765, area=675.36, w=34.2, h=32.8, pop2019=1179050, pop2023=1195234),
    "CUD": dict(x=652571, y=7101160, area=296.36, w=35.8, h=19.5, pop2019=194655, pop2023=191478),
    "ACSO": dict(x=658872, y=6906199, area=83.76, w=11.8, h=11.9, pop2019=88008, pop2023=90234),
    "CCHF": dict(x=657583, y=7090388, area=450.69, w=32.9, h=30.8, pop2019=53578, pop2023=53437),
    "DOUAISIS": dict(
        x=708427, y=7028807, area=236.29, w=19.6, h=23.4, pop2019=148784, pop2023=149282
    ),
    "CCVT": dict(x=618020, y=6906492, area=315.08, w=25.3, h=22.9, pop2019=20473, pop2023=20462),
    "ARC": dict(x=686998, y=6918813, area=264.83, w=19.4, h=24.2, pop2019=83159, pop2023=83992),
}
ORDER: tuple[str, ...] = ("MEL", "CUD", "ACSO", "CCHF", "DOUAISIS", "CCVT", "ARC")

#: Long-term population growth per territory, 1990-2019 [fraction per year] (shaped on the
#: INSEE series: the metropolis grows slowly, Dunkerque declines, the Vexin grows).
GROWTH: dict[str, float] = {
    "MEL": 0.003,
    "CUD": -0.003,
    "ACSO": 0.001,
    "CCHF": 0.003,
    "DOUAISIS": -0.001,
    "CCVT": 0.007,
    "ARC": 0.002,
    "": 0.001,
}
CENSUS_YEARS: tuple[int, ...] = (1990, 1999, 2008, 2013, 2019, 2023)

#: Towns: (name, territory or "", x, y [m], inhabitants 2023 (rounded), urban radius [m]).
#: Positions are points inside the real communes (Lambert-93, rounded to 100 m).
TOWNS: tuple[tuple[str, str, float, float, int, float], ...] = (
    ("Lille", "MEL", 703900, 7059300, 238000, 3200),
    ("Roubaix", "MEL", 713000, 7065800, 98000, 2200),
    ("Tourcoing", "MEL", 711200, 7069400, 99000, 2200),
    ("Villeneuve-d'Ascq", "MEL", 710600, 7059900, 63000, 2000),
    ("Lambersart", "MEL", 701800, 7061800, 27000, 1200),
    ("Armentières", "MEL", 691500, 7066100, 27000, 1300),
    ("Seclin", "MEL", 702600, 7049800, 13000, 1000),
    ("Wattrelos", "MEL", 713400, 7068500, 41000, 1400),
    ("Dunkerque", "CUD", 653800, 7103900, 86000, 2600),
    ("Grande-Synthe", "CUD", 650400, 7102400, 20000, 1200),
    ("Gravelines", "CUD", 639200, 7101000, 11000, 1000),
    ("Bourbourg", "CUD", 643900, 7094300, 7000, 700),
    ("Loon-Plage", "CUD", 644500, 7100900, 6000, 600),
    ("Bergues", "CCHF", 660100, 7097200, 3500, 600),
    ("Wormhout", "CCHF", 663200, 7086700, 5600, 700),
    ("Hondschoote", "CCHF", 670800, 7097400, 4000, 600),
    ("Douai", "DOUAISIS", 705600, 7031400, 40000, 1800),
    ("Sin-le-Noble", "DOUAISIS", 708200, 7030000, 16000, 1000),
    ("Cuincy", "DOUAISIS", 702600, 7030800, 6500, 700),
    ("Creil", "ACSO", 662300, 6906400, 36000, 1500),
    ("Nogent-sur-Oise", "ACSO", 661000, 6908800, 22000, 1100),
    ("Montataire", "ACSO", 658700, 6907100, 14000, 900),
    ("Compiègne", "ARC", 689100, 6922300, 41000, 1800),
    ("Margny-lès-Compiègne", "ARC", 686400, 6925800, 8700, 800),
    ("Chaumont-en-Vexin", "CCVT", 618400, 6908700, 3300, 600),
    ("Lens", "", 687100, 7038000, 33000, 2500),
    ("Hénin-Beaumont", "", 696600, 7035600, 26000, 1500),
    ("Béthune", "", 674600, 7048100, 25000, 1800),
    ("Arras", "", 683300, 7021300, 43000, 1800),
    ("Saint-Omer", "", 647800, 7074900, 14000, 1300),
    ("Hazebrouck", "", 666800, 7069900, 22000, 1200),
    ("Bailleul", "", 682100, 7070600, 15000, 1000),
    ("Calais", "", 620400, 7095700, 68000, 2500),
    ("Beauvais", "", 632700, 6927500, 56000, 2200),
    ("Méru", "", 637400, 6905500, 14000, 1000),
    ("Senlis", "", 669400, 6901900, 15000, 1000),
    ("Clermont", "", 657100, 6920000, 10500, 900),
    ("Chambly", "", 645200, 6897500, 10000, 800),
)

#: Coastline of the North Sea near Dunkerque (simplified): the sea lies north of the line.
COAST = (
    (500_000.0, 7_084_000.0),
    (634_000.0, 7_106_000.0),
    (672_000.0, 7_113_000.0),
    (800_000.0, 7_136_600.0),
)

#: Monitoring stations: code, name, x, y [m, Lambert-93 rounded to 100 m], type. Positions and
#: codes from the LCSQA 2021 station list; types are this sample's classification.
STATIONS: tuple[tuple[str, str, float, float, str], ...] = (
    ("FR11025", "Lille Fives", 706400, 7059000, "urban"),
    ("FR11034", "Roubaix Serres", 712800, 7067800, "urban"),
    ("FR11016", "Marcq CTM", 705400, 7063700, "urban"),
    ("FR11007", "Lille Leeds", 705300, 7060400, "traffic"),
    ("FR10004", "Malo-les-Bains", 659200, 7106000, "urban"),
    ("FR10012", "Mardyck", 647300, 7102900, "industrial"),
    ("FR10034", "Grande-Synthe", 650900, 7103400, "industrial"),
    ("FR06003", "Douai Theuriet", 704700, 7031200, "urban"),
    ("FR18055", "Creil République", 661800, 6906900, "urban"),
    ("FR18019", "Nogent sur Oise", 662300, 6908700, "urban"),
    ("FR10132", "Campagne-lès-Boulonnais", 628500, 7057500, "rural"),
)


# --------------------------------------------------------------------------- helpers
def land_polygon() -> Polygon:
    """Everything south of the simplified coastline (a large polygon)."""
    coast = list(COAST)
    return Polygon([*coast, (800_000.0, 6_700_000.0), (500_000.0, 6_700_000.0)])


def coast_y(x: np.ndarray) -> np.ndarray:
    """y of the coastline at abscissa `x` [m]."""
    xs = np.array([p[0] for p in COAST])
    ys = np.array([p[1] for p in COAST])
    return np.interp(x, xs, ys)


def _star(
    rng: np.random.Generator, cx: float, cy: float, ax: float, ay: float, n: int = 240
) -> np.ndarray:
    """Vertices of a smooth star-shaped outline: an ellipse modulated by a Fourier series.

    r(theta) = ellipse(theta) * exp(sum_k a_k cos(k theta + phi_k)), k = 2..7.
    """
    theta = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    k = np.arange(2, 8)
    amp = rng.normal(0.0, 0.16, k.size) / k**0.8
    phase = rng.uniform(0.0, 2.0 * np.pi, k.size)
    mod = np.exp((amp[:, None] * np.cos(k[:, None] * theta[None] + phase[:, None])).sum(0))
    ell = ax * ay / np.hypot(ay * np.cos(theta), ax * np.sin(theta))
    r = ell * mod
    return np.column_stack([r * np.cos(theta), r * np.sin(theta)])


def _voronoi_cells(points: dict[str, tuple[float, float]]) -> dict[str, Polygon]:
    ids = list(points)
    mp = shapely.MultiPoint([points[i] for i in ids])
    envelope = shapely.box(400_000, 6_600_000, 900_000, 7_300_000)
    cells = shapely.get_parts(shapely.voronoi_polygons(mp, extend_to=envelope))
    out: dict[str, Polygon] = {}
    for cell in cells:
        for i in ids:
            if cell.contains(Point(points[i])):
                out[i] = cell.intersection(envelope)
    return out


def _largest(geom: BaseGeometry) -> Polygon:
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon"]
    best = max(parts, key=lambda p: p.area)
    return Polygon(best.exterior)


def _territory_shapes(seed: int) -> dict[str, Polygon]:
    """Non-overlapping smooth polygons with the exact real areas, at the real centroids."""
    rng = np.random.default_rng([seed, 1])
    centres = {t: (TERRITORY_FACTS[t]["x"], TERRITORY_FACTS[t]["y"]) for t in ORDER}
    cells = _voronoi_cells(centres)
    land = land_polygon()
    shapes: dict[str, Polygon] = {}
    for t in ORDER:
        f = TERRITORY_FACTS[t]
        outline = _star(rng, 0.0, 0.0, 500.0 * f["w"], 500.0 * f["h"])
        # anchors: towns and stations of the territory stay inside it
        anchors = [(x, y) for (_, tt, x, y, _, _) in TOWNS if tt == t]
        anchors += [
            (x, y)
            for (_, _, x, y, _) in STATIONS
            if _nearest_territory(x, y) == t and _dist(x, y, f["x"], f["y"]) < 20_000
        ]
        anchors += [(s[2], s[3]) for s in STACKS if s[0].split("-")[0] == _STACK_PREFIX[t]]
        spokes = shapely.union_all(
            [LineString([(f["x"], f["y"]), a]).buffer(1200.0) for a in anchors]
            + [Point(a).buffer(1800.0) for a in anchors]
        )
        clip = cells[t].intersection(land)

        def shape(
            scale: float,
            outline: np.ndarray = outline,
            f: dict = f,
            spokes: BaseGeometry = spokes,
            clip: BaseGeometry = clip,
        ) -> Polygon:
            star = Polygon(outline * scale + np.array([f["x"], f["y"]]))
            return _largest(shapely.union(star, spokes).intersection(clip))

        target = f["area"] * 1e6
        lo, hi = 0.2, 3.0
        for _ in range(80):
            mid = 0.5 * (lo + hi)
            if shape(mid).area < target:
                lo = mid
            else:
                hi = mid
        shapes[t] = shape(0.5 * (lo + hi))  # area equal to target to ~1e-12 relative
    return shapes


_STACK_PREFIX = {t: t for t in ORDER} | {"DOUAISIS": "DOU"}


def _dist(x0: float, y0: float, x1: float, y1: float) -> float:
    return math.hypot(x1 - x0, y1 - y0)


def _nearest_territory(x: float, y: float) -> str:
    return min(ORDER, key=lambda t: _dist(x, y, TERRITORY_FACTS[t]["x"], TERRITORY_FACTS[t]["y"]))


_CACHE: dict[int, dict[str, Polygon]] = {}


def territory_shapes(seed: int) -> dict[str, Polygon]:
    """Cached :func:`_territory_shapes` (the bisection takes a fraction of a second)."""
    if seed not in _CACHE:
        _CACHE[seed] = _territory_shapes(seed)
    return _CACHE[seed]


DEFAULT_SEED = 20261122


def territory_polygons(seed: int = DEFAULT_SEED) -> gpd.GeoDataFrame:
    """The sample territories as a GeoDataFrame (columns of :func:`load_territories`)."""
    import geopandas as gpd

    from trajectoire.geo.territories import TERRITORIES

    shapes = territory_shapes(seed)
    return gpd.GeoDataFrame(
        {
            "territory": list(ORDER),
            "name": [TERRITORIES[t].name for t in ORDER],
            "population": np.array([TERRITORIES[t].population_2023 for t in ORDER], np.int64),
        },
        geometry=[shapes[t] for t in ORDER],
        crs=DEFAULT_CRS,
    )


def sample_grid(seed: int, resolution: float = 100.0, buffer: float = 5000.0) -> Grid:
    """Regional grid of the sample: territories' bounds + `buffer`, snapped."""
    shapes = territory_shapes(seed)
    x0, y0, x1, y1 = shapely.bounds(shapely.union_all(list(shapes.values()))).tolist()
    return Grid.from_bounds(
        x0 - buffer, y0 - buffer, x1 + buffer, y1 + buffer, resolution, snap=True
    )


# --------------------------------------------------------------------------- density
def town_density(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Synthetic population density [inhabitants km-2] from the town list plus a rural base."""
    dens = np.full(np.broadcast(x, y).shape, 80.0)
    for _, _, tx, ty, pop, radius in TOWNS:
        sigma = 1.6 * radius
        peak = pop / (2.0 * math.pi * (sigma / 1000.0) ** 2)
        dens = dens + peak * np.exp(-((x - tx) ** 2 + (y - ty) ** 2) / (2.0 * sigma**2))
    return dens


@dataclass
class Zones:
    """Zones as parallel lists (turned into a GeoDataFrame by :func:`zones_frame`)."""

    zone_id: list[str]
    territory: list[str]
    geometry: list[BaseGeometry]
    population: dict[int, np.ndarray]


def _random_points_in(
    rng: np.random.Generator, poly: BaseGeometry, n: int, weight_towns: list[tuple]
) -> np.ndarray:
    x0, y0, x1, y1 = poly.bounds
    pts: list[tuple[float, float]] = []
    # half of the seeds cluster near towns (small urban communes), half uniform
    n_town = n // 2 if weight_towns else 0
    for k in range(n_town):
        _, _, tx, ty, _, radius = weight_towns[k % len(weight_towns)]
        for _ in range(200):
            px, py = rng.normal(tx, 1.5 * radius), rng.normal(ty, 1.5 * radius)
            if poly.contains(Point(px, py)):
                pts.append((px, py))
                break
    while len(pts) < n:
        px, py = rng.uniform(x0, x1), rng.uniform(y0, y1)
        if poly.contains(Point(px, py)):
            pts.append((px, py))
    return np.array(pts)


def _voronoi_split(poly: BaseGeometry, pts: np.ndarray) -> list[BaseGeometry]:
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.MultiPoint(pts), extend_to=poly.envelope.buffer(1e4))
    )
    parts = [c.intersection(poly) for c in cells]
    parts = [p for p in parts if not p.is_empty and p.area > 1.0]
    # deterministic order: by centroid (north to south, then west to east)
    parts.sort(key=lambda p: (-round(p.centroid.y), round(p.centroid.x)))
    return parts


def _largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    w = np.asarray(weights, float)
    raw = w / w.sum() * total
    base = np.floor(raw).astype(np.int64)
    rem = int(total - base.sum())
    order = np.argsort(-(raw - base), kind="stable")
    base[order[:rem]] += 1
    return base


def build_zones(seed: int, grid: Grid) -> Zones:
    """Commune-like zones inside each territory and a coarse ring outside.

    Each zone has census populations; the 2023 and 2019 totals per territory are the real
    INSEE totals, earlier years follow :data:`GROWTH` with zone-specific deviations.
    """
    rng = np.random.default_rng([seed, 2])
    shapes = territory_shapes(seed)
    ids: list[str] = []
    terr: list[str] = []
    geoms: list[BaseGeometry] = []
    pops: dict[int, list[float]] = {y: [] for y in CENSUS_YEARS}

    def add_group(t: str, parts: list[BaseGeometry], totals: dict[int, float]) -> None:
        dens = np.array(
            [float(town_density(np.array(p.centroid.x), np.array(p.centroid.y))) for p in parts]
        )
        area = np.array([p.area / 1e6 for p in parts])
        w2023 = dens * area * rng.lognormal(0.0, 0.25, len(parts))
        # zone growth: periurban zones grow faster than dense cores
        dev = rng.normal(0.0, 0.003, len(parts)) - 0.002 * (np.log(dens / dens.mean()))
        g = GROWTH[t]
        for y in CENSUS_YEARS:
            w = w2023 * (1.0 + g + dev) ** (y - 2023)
            pops[y].extend(_largest_remainder(w, int(round(totals[y]))).tolist())
        prefix = t if t else "OUT"
        for k, p in enumerate(parts):
            ids.append(f"{prefix}-{k + 1:02d}")
            terr.append(t)
            geoms.append(p)

    for t in ORDER:
        f = TERRITORY_FACTS[t]
        poly = shapes[t]
        n = int(round(8 + 17 * (f["area"] - 83.76) / (675.36 - 83.76)))
        towns = [tw for tw in TOWNS if tw[1] == t]
        pts = _random_points_in(rng, poly, n, towns)
        parts = _voronoi_split(poly, pts)
        totals = {y: _census_total(t, y) for y in CENSUS_YEARS}
        add_group(t, parts, totals)

    # outside: the grid extent minus the territories, cut by a coarse Voronoi (~12 km cells)
    extent = shapely.box(*grid.bounds)
    rest = extent.difference(shapely.union_all(list(shapes.values())))
    rest = rest.intersection(land_polygon())
    nx = max(2, int(round((grid.xmax - grid.xmin) / 14_000)))
    ny = max(2, int(round((grid.ymax - grid.ymin) / 14_000)))
    gx, gy = np.meshgrid(
        np.linspace(grid.xmin, grid.xmax, nx + 1)[:-1] + (grid.xmax - grid.xmin) / (2 * nx),
        np.linspace(grid.ymin, grid.ymax, ny + 1)[:-1] + (grid.ymax - grid.ymin) / (2 * ny),
    )
    jitter = rng.uniform(-4000, 4000, (2, gx.size))
    pts = np.column_stack([gx.ravel() + jitter[0], gy.ravel() + jitter[1]])
    parts = []
    for p in _voronoi_split(rest, pts):
        parts.extend(q for q in shapely.get_parts(p) if q.area > 0.5e6)
    parts.sort(key=lambda p: (-round(p.centroid.y), round(p.centroid.x)))
    area_out = sum(p.area for p in parts) / 1e6
    # outside density: integrate the synthetic density on a coarse raster
    dens_out = np.array([_mean_density(p) for p in parts])
    total_out = float((dens_out * np.array([p.area / 1e6 for p in parts])).sum())
    del area_out
    totals = {y: total_out * (1.0 + GROWTH[""]) ** (y - 2023) for y in CENSUS_YEARS}
    add_group("", parts, totals)
    return Zones(ids, terr, geoms, {y: np.asarray(v, np.int64) for y, v in pops.items()})


def _mean_density(poly: BaseGeometry) -> float:
    x0, y0, x1, y1 = poly.bounds
    xs = np.arange(x0 + 500, x1, 1000.0)
    ys = np.arange(y0 + 500, y1, 1000.0)
    if xs.size == 0 or ys.size == 0:
        c = poly.centroid
        return float(town_density(np.array(c.x), np.array(c.y)))
    gx, gy = np.meshgrid(xs, ys)
    inside = shapely.contains_xy(poly, gx, gy)
    if not inside.any():
        c = poly.centroid
        return float(town_density(np.array(c.x), np.array(c.y)))
    return float(town_density(gx[inside], gy[inside]).mean())


def _census_total(t: str, year: int) -> float:
    f = TERRITORY_FACTS[t]
    if year == 2023:
        return f["pop2023"]
    if year == 2019:
        return f["pop2019"]
    return f["pop2019"] * (1.0 + GROWTH[t]) ** (year - 2019)


def zones_frame(zones: Zones) -> gpd.GeoDataFrame:
    """GeoDataFrame with the ``zones.gpkg`` contract columns."""
    import geopandas as gpd

    data: dict[str, object] = {"zone_id": zones.zone_id, "territory": zones.territory}
    for y in CENSUS_YEARS:
        data[f"pop_{y}"] = zones.population[y]
    return gpd.GeoDataFrame(data, geometry=zones.geometry, crs=DEFAULT_CRS)


# --------------------------------------------------------------------------- roads
#: Motorway and trunk corridors (approximate real alignments, Lambert-93 vertices [m]) with
#: the AADT [vehicles/day] and share of heavy-duty vehicles at their busiest point
#: (``data/sample_inventory.toml``).
CORRIDORS: tuple[tuple[str, str, float, float, tuple[tuple[float, float], ...]], ...] = tuple(
    (
        road["name"],
        road["category"],
        road["aadt"],
        road["hdv_share"],
        tuple((x, y) for x, y in road["vertices"]),
    )
    for road in SAMPLE_TABLES["corridors"]
)


def _densify(coords: np.ndarray, step: float) -> np.ndarray:
    out = [coords[0]]
    for a, b in zip(coords[:-1], coords[1:], strict=True):
        n = max(1, int(math.ceil(math.hypot(*(b - a)) / step)))
        for k in range(1, n + 1):
            out.append(a + (b - a) * k / n)
    return np.array(out)


def build_roads(seed: int, grid: Grid) -> dict[str, list]:
    """Road links: motorway/trunk corridors cut in ~2 km links, urban grids, rural roads."""
    rng = np.random.default_rng([seed, 3])
    land = land_polygon()
    bbox = shapely.box(*grid.bounds)
    area = bbox.intersection(land)
    road_id: list[str] = []
    category: list[str] = []
    aadt: list[float] = []
    hdv: list[float] = []
    geoms: list[BaseGeometry] = []

    def add(rid: str, cat: str, a: float, h: float, line: BaseGeometry) -> None:
        road_id.append(rid)
        category.append(cat)
        aadt.append(float(round(a, -1)))
        hdv.append(float(round(min(max(h, 0.0), 0.6), 3)))
        geoms.append(line)

    for name, cat, a_max, h, pts in CORRIDORS:
        coords = np.array(pts, float)
        # gentle meanders so that roads are not straight lines
        dense = _densify(coords, 500.0)
        normal = np.zeros_like(dense)
        d = np.gradient(dense, axis=0)
        norm = np.hypot(d[:, 0], d[:, 1])[:, None]
        normal[:, 0], normal[:, 1] = -d[:, 1], d[:, 0]
        normal = normal / np.where(norm > 0, norm, 1.0)
        wiggle = np.convolve(rng.normal(0, 120.0, len(dense)), np.ones(7) / 7, "same")
        wiggle[0] = wiggle[-1] = 0.0
        dense = dense + normal * wiggle[:, None]
        line = LineString(dense).intersection(area)
        for part in shapely.get_parts(line):
            if part.length < 200 or part.geom_type != "LineString":
                continue
            n_links = max(1, int(round(part.length / 2000.0)))
            for k in range(n_links):
                seg = substring(part, k / n_links, (k + 1) / n_links, normalized=True)
                mid = seg.interpolate(0.5, normalized=True)
                # traffic grows toward the conurbations
                near = float(np.clip(town_density(np.array(mid.x), np.array(mid.y)) / 3000, 0, 1))
                a = a_max * (0.65 + 0.35 * near) * rng.lognormal(0.0, 0.08)
                add(f"{name}-{len(road_id) + 1:05d}", cat, a, h * rng.lognormal(0, 0.1), seg)

    # urban grids around towns (perturbed Manhattan network, links between intersections)
    for _, _, tx, ty, pop, radius in TOWNS:
        half = 1.6 * radius
        spacing = 450.0 if pop > 50_000 else 650.0
        n = max(2, int(half // spacing))
        xs = tx + spacing * np.arange(-n, n + 1) + rng.normal(0, 40, 2 * n + 1)
        ys = ty + spacing * np.arange(-n, n + 1) + rng.normal(0, 40, 2 * n + 1)
        segments = [
            (i, j, LineString([(xs[i], ys[j]), (xs[i], ys[j + 1])]))
            for i in range(len(xs))
            for j in range(len(ys) - 1)
        ] + [
            (j, i, LineString([(xs[i], ys[j]), (xs[i + 1], ys[j])]))
            for j in range(len(ys))
            for i in range(len(xs) - 1)
        ]
        for i, _j, seg in segments:
            mid = seg.interpolate(0.5, normalized=True)
            r = math.hypot(mid.x - tx, mid.y - ty)
            if r > half or not land.contains(mid):
                continue
            main = (i - n) % 3 == 0
            base = 16_000.0 if main else 6_000.0
            a = base * (1.0 + min(pop, 240_000) / 240_000) * math.exp(-r / (2 * half))
            a *= rng.lognormal(0.0, 0.3)
            a = float(np.clip(a, 2_000, 35_000))
            add(f"U-{len(road_id) + 1:05d}", "urban", a, rng.uniform(0.02, 0.08), seg)

    # rural roads: links between neighbouring towns
    towns_xy = [(x, y) for (_, _, x, y, _, _) in TOWNS]
    for i, (x0, y0) in enumerate(towns_xy):
        dists = sorted(
            ((math.hypot(x1 - x0, y1 - y0), j) for j, (x1, y1) in enumerate(towns_xy) if j != i)
        )
        for dist, j in dists[:3]:
            if j < i or dist > 30_000:
                continue
            x1, y1 = towns_xy[j]
            bend = np.array([(x0 + x1) / 2, (y0 + y1) / 2]) + rng.normal(0, 0.1 * dist, 2)
            line = LineString(_densify(np.array([(x0, y0), bend, (x1, y1)]), 1500.0))
            line = line.intersection(area)
            for part in shapely.get_parts(line):
                if part.geom_type != "LineString" or part.length < 200:
                    continue
                n_links = max(1, int(round(part.length / 3000.0)))
                for k in range(n_links):
                    seg = substring(part, k / n_links, (k + 1) / n_links, normalized=True)
                    a = 6_000.0 * rng.lognormal(0.0, 0.35)
                    add(f"R-{len(road_id) + 1:05d}", "rural", a, rng.uniform(0.06, 0.14), seg)
    rounded = [shapely.set_precision(g, 1.0) for g in geoms]
    return {
        "road_id": road_id,
        "category": category,
        "aadt": aadt,
        "hdv_share": hdv,
        "geometry": rounded,
    }


# --------------------------------------------------------------------------- land use
URBAN, INDUSTRIAL, ARABLE, PASTURE, FOREST, WATER = 1, 2, 3, 4, 5, 6

#: Large forests (centre x, y [m], radius [m]): Compiègne, Halatte/Chantilly, Marchiennes,
#: Nieppe, Rihoult-Clairmarais, Hesdin-like blobs elsewhere.
FORESTS: tuple[tuple[float, float, float], ...] = (
    (692000, 6914000, 6500),
    (667000, 6900000, 4000),
    (660000, 6895000, 3500),
    (715000, 7036000, 2500),
    (668000, 7065000, 2500),
    (652000, 7073000, 2000),
    (626000, 6915000, 3000),
    (640000, 6940000, 3000),
)


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], scale: int) -> np.ndarray:
    """Smooth random field with unit variance and correlation length ~ `scale` cells."""
    from scipy import ndimage

    ny, nx = shape
    coarse = rng.normal(size=(ny // scale + 3, nx // scale + 3))
    coarse = ndimage.gaussian_filter(coarse, 1.0)
    fine = ndimage.zoom(coarse, scale, order=1)[:ny, :nx]
    return (fine - fine.mean()) / fine.std()


def build_landuse(seed: int, grid: Grid, stacks: list[tuple[float, float, float]]) -> np.ndarray:
    """Land-use classes (uint8, grid rows north to south) consistent with towns and stacks.

    Parameters
    ----------
    seed : int
        Seed of the sample (the land use draws from ``[seed, 4]``).
    grid : Grid
        The land-use raster's grid (Lambert-93, north-up).
    stacks : list of (x, y, radius)
        Industrial sites [m]; a disc of industrial land of `radius` around each.
    """
    rng = np.random.default_rng([seed, 4])
    x = grid.x[None, :]
    y = grid.y[:, None]
    out = np.full(grid.shape, ARABLE, np.uint8)
    noise_a = _smooth_noise(rng, grid.shape, 20)
    noise_b = _smooth_noise(rng, grid.shape, 8)
    out[noise_a > 0.75] = PASTURE
    out[noise_b > 1.9] = FOREST
    for fx, fy, fr in FORESTS:
        rows, cols = grid.window((fx - 2 * fr, fy - 2 * fr, fx + 2 * fr, fy + 2 * fr))
        r = np.hypot(x[:, cols] - fx, y[rows, :] - fy) / fr
        win = out[rows, cols]
        win[(r + 0.25 * noise_b[rows, cols]) < 1.0] = FOREST
    # urban: a ragged disc around every town (1.5 urban radii) and scattered villages
    noise_c = _smooth_noise(rng, grid.shape, 3)
    out[noise_c > 2.3] = URBAN
    for _, _, tx, ty, _, radius in TOWNS:
        reach = 2.0 * radius
        rows, cols = grid.window((tx - reach, ty - reach, tx + reach, ty + reach))
        r = np.hypot(x[:, cols] - tx, y[rows, :] - ty) / (1.5 * radius)
        win = out[rows, cols]
        win[(r + 0.25 * noise_b[rows, cols]) < 1.0] = URBAN
    # industrial: estates around the stacks and the port of Dunkerque
    for sx, sy, sr in stacks:
        rows, cols = grid.window((sx - 2 * sr, sy - 2 * sr, sx + 2 * sr, sy + 2 * sr))
        r = np.hypot(x[:, cols] - sx, y[rows, :] - sy) / sr
        win = out[rows, cols]
        win[(r + 0.2 * noise_b[rows, cols]) < 1.0] = INDUSTRIAL
    port = (x > 637000) & (x < 657000) & (y > coast_y(x) - 3500) & (y < coast_y(x))
    out[port & (noise_b > -0.8)] = INDUSTRIAL
    # water: the North Sea, and two rivers (Oise, Deûle) as 100 m ribbons
    sea = y >= coast_y(np.broadcast_to(x, grid.shape))
    out[sea] = WATER
    for pts in (
        (
            (640000, 6891000),
            (655000, 6903000),
            (663000, 6907500),
            (676000, 6915000),
            (688000, 6923500),
            (700000, 6930000),
        ),
        (
            (704000, 7031000),
            (703500, 7045000),
            (701000, 7058000),
            (693000, 7067000),
            (686000, 7072000),
        ),
    ):
        line = LineString(_densify(np.array(pts, float), 200.0))
        dense = np.array(line.coords)
        row, col, inside = grid.cell_index(dense[:, 0], dense[:, 1])
        out[row[inside], col[inside]] = WATER
    return out


def stations_frame(seed: int) -> dict[str, list]:
    """Stations with the territory their point falls in (in the synthetic polygons)."""
    shapes = territory_shapes(seed)
    rows: dict[str, list] = {k: [] for k in ("station_id", "name", "x", "y", "type", "territory")}
    for code, name, x, y, typ in STATIONS:
        terr = next((t for t in ORDER if shapes[t].contains(Point(x, y))), "")
        rows["station_id"].append(code)
        rows["name"].append(name)
        rows["x"].append(float(x))
        rows["y"].append(float(y))
        rows["type"].append(typ)
        rows["territory"].append(terr)
    return rows


#: Synthetic priority neighbourhoods (not the real QPV): id, territory, centre x, y [m]
#: (offsets from the towns above), mean radius [m].
PRIORITY_NEIGHBOURHOODS: tuple[tuple[str, str, float, float, float], ...] = (
    ("SYN-MEL-1", "MEL", 704700, 7057800, 650),
    ("SYN-MEL-2", "MEL", 713000, 7066100, 550),
    ("SYN-MEL-3", "MEL", 710800, 7069400, 500),
    ("SYN-MEL-4", "MEL", 710900, 7059300, 450),
    ("SYN-CUD-1", "CUD", 653200, 7103100, 500),
    ("SYN-CUD-2", "CUD", 650400, 7102100, 600),
    ("SYN-ACSO-1", "ACSO", 662600, 6906000, 450),
    ("SYN-ACSO-2", "ACSO", 661000, 6909100, 400),
)


def priority_neighbourhoods(seed: int = DEFAULT_SEED) -> gpd.GeoDataFrame:
    """Synthetic priority neighbourhoods (``qpv.gpkg``): smooth outlines around
    :data:`PRIORITY_NEIGHBOURHOODS`, clipped to their territory; ``zone_id``, ``territory``.

    Deterministic for a given `seed` (its own random stream: the other files do not change).
    """
    import geopandas as gpd

    rng = np.random.default_rng([seed, 16])
    shapes = territory_shapes(seed)
    ids, terr, geoms = [], [], []
    for zid, t, x, y, r in PRIORITY_NEIGHBOURHOODS:
        ring = _star(rng, x, y, r * 1.2, r / 1.2, n=48)
        poly = Polygon(ring + np.array([x, y])).intersection(shapes[t])
        ids.append(f"QPV-{zid}")
        terr.append(t)
        geoms.append(_largest(poly))
    return gpd.GeoDataFrame({"zone_id": ids, "territory": terr}, geometry=geoms, crs=DEFAULT_CRS)
