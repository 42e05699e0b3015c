"""Emission inventory of the bundled sample: stacks, road factors, area totals, trends.

Private helpers of :mod:`trajectoire.sample`. All figures are synthetic, shaped on public
orders of magnitude (see ``data/sample/README.md``): the Atmo Hauts-de-France 2018 regional
totals, the national trends of the French inventory (Citepa, reported to the CLRTAP and
republished by Eurostat ``env_air_emis``), COPERT-like road emission factors for a 2018 fleet.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
from scipy.interpolate import PchipInterpolator

__all__: list[str] = []

POLLUTANTS: tuple[str, ...] = ("NOx", "PM10", "PM2.5", "SO2", "NH3", "NMVOC")

# --------------------------------------------------------------------------- stacks
#: Industrial stacks: id, name, x, y [m], GNFR sector, height [m], diameter [m], exit
#: temperature [K], exit velocity [m s-1], start year, end year (0 = open/unknown), emissions
#: [t yr-1] (NOx, PM10, PM2.5, SO2, NH3, NMVOC) in the reference year, or in the last
#: (first) full year of operation for a stack closed before (opened after) it, and the radius
#: [m] of the industrial site drawn in the land-use raster.
STACKS: tuple[tuple, ...] = (
    # Dunkerque: integrated steelworks (sinter, coke, blast furnaces, steel shop, mills)
    (
        "CUD-STEEL-SINTER",
        "Steelworks sinter plant",
        648300,
        7104700,
        "B_Industry",
        100,
        6.5,
        410,
        16,
        0,
        0,
        (2600, 650, 420, 5200, 6, 950),
        1800,
    ),
    (
        "CUD-STEEL-COKE",
        "Steelworks coke ovens",
        649400,
        7105300,
        "B_Industry",
        80,
        4.5,
        480,
        12,
        0,
        0,
        (1050, 140, 90, 1400, 25, 380),
        0,
    ),
    (
        "CUD-STEEL-BF",
        "Steelworks blast furnaces and cast house",
        647600,
        7105500,
        "B_Industry",
        60,
        5.0,
        380,
        14,
        0,
        0,
        (580, 320, 190, 750, 2, 90),
        0,
    ),
    (
        "CUD-STEEL-BOF",
        "Steelworks oxygen steel shop",
        648900,
        7104000,
        "B_Industry",
        50,
        5.5,
        350,
        15,
        0,
        0,
        (150, 210, 120, 60, 0, 40),
        0,
    ),
    (
        "CUD-STEEL-MILL",
        "Steelworks hot strip mill furnaces",
        650100,
        7104400,
        "B_Industry",
        70,
        4.0,
        450,
        11,
        0,
        0,
        (880, 25, 18, 110, 0, 30),
        0,
    ),
    (
        "CUD-CCGT",
        "Combined-cycle power plant (steel gases and natural gas)",
        649700,
        7103700,
        "A_PublicPower",
        65,
        7.0,
        360,
        20,
        2005,
        0,
        (1150, 28, 25, 280, 8, 35),
        0,
    ),
    (
        "CUD-ALU",
        "Aluminium smelter (electrolysis halls)",
        642700,
        7104300,
        "B_Industry",
        50,
        8.0,
        330,
        12,
        1991,
        0,
        (95, 240, 150, 6800, 0, 25),
        1200,
    ),
    (
        "CUD-REFINERY",
        "Refinery distillation unit",
        645300,
        7103300,
        "B_Industry",
        90,
        3.5,
        520,
        10,
        0,
        2016,
        (700, 60, 45, 2400, 5, 650),
        1000,
    ),
    (
        "CUD-LNG",
        "LNG terminal regasification",
        640100,
        7104600,
        "D_Fugitive",
        30,
        2.0,
        420,
        9,
        2016,
        0,
        (65, 2, 2, 1, 0, 40),
        700,
    ),
    (
        "CUD-CHEM",
        "Polymer plant",
        653900,
        7106200,
        "B_Industry",
        40,
        2.0,
        400,
        9,
        0,
        0,
        (140, 12, 9, 25, 2, 310),
        600,
    ),
    (
        "CUD-DEPOT",
        "Fuel depot and tank farm",
        646300,
        7106200,
        "D_Fugitive",
        15,
        1.0,
        300,
        3,
        0,
        0,
        (2, 0.5, 0.3, 0.2, 0, 190),
        500,
    ),
    (
        "CUD-INCIN",
        "Household waste incinerator",
        656200,
        7101200,
        "J_Waste",
        50,
        2.0,
        410,
        14,
        0,
        0,
        (160, 2, 1.6, 6, 3, 4),
        300,
    ),
    (
        "CUD-FOOD",
        "Food processing plant boilers",
        657600,
        7103000,
        "B_Industry",
        30,
        1.5,
        430,
        10,
        0,
        0,
        (75, 6, 4, 20, 1, 15),
        300,
    ),
    # Lille metropolis
    (
        "MEL-INCIN",
        "Energy-from-waste plant",
        708300,
        7074800,
        "J_Waste",
        60,
        2.2,
        420,
        15,
        2001,
        0,
        (270, 3, 2.5, 9, 4, 5),
        400,
    ),
    (
        "MEL-INCIN-OLD",
        "Old municipal incinerator",
        700900,
        7063300,
        "J_Waste",
        45,
        2.0,
        500,
        12,
        0,
        2000,
        (330, 85, 70, 160, 1, 12),
        0,
    ),
    (
        "MEL-DH",
        "District heating plant",
        706800,
        7058400,
        "A_PublicPower",
        60,
        2.5,
        420,
        12,
        0,
        0,
        (190, 9, 8, 35, 1, 6),
        300,
    ),
    (
        "MEL-BIOMASS",
        "Biomass boiler of the district heating network",
        712000,
        7066700,
        "A_PublicPower",
        45,
        1.8,
        430,
        11,
        2013,
        0,
        (60, 7, 6, 8, 2, 6),
        200,
    ),
    (
        "MEL-CHEM",
        "Chemical plant (sulphuric acid, phosphates)",
        699900,
        7056500,
        "B_Industry",
        55,
        2.0,
        350,
        12,
        0,
        0,
        (85, 14, 9, 380, 12, 20),
        800,
    ),
    (
        "MEL-FOOD",
        "Brewery and malting plant",
        696400,
        7058200,
        "B_Industry",
        35,
        1.6,
        420,
        9,
        0,
        0,
        (48, 18, 8, 15, 0, 40),
        400,
    ),
    (
        "MEL-TEXTILE",
        "Textile finishing works",
        713600,
        7067300,
        "E_Solvents",
        25,
        1.2,
        330,
        8,
        0,
        0,
        (12, 3, 2, 2, 0, 145),
        300,
    ),
    (
        "MEL-PRINT",
        "Printing works",
        708600,
        7062900,
        "E_Solvents",
        20,
        1.0,
        310,
        7,
        0,
        0,
        (6, 1, 0.8, 0.5, 0, 90),
        250,
    ),
    (
        "MEL-FOUNDRY",
        "Iron foundry",
        698200,
        7064700,
        "B_Industry",
        35,
        1.8,
        360,
        10,
        0,
        2012,
        (35, 42, 25, 18, 0, 30),
        400,
    ),
    (
        "MEL-PAINT",
        "Car parts paint shop",
        711700,
        7053700,
        "E_Solvents",
        25,
        1.4,
        320,
        9,
        0,
        0,
        (10, 2, 1.5, 0.3, 0, 120),
        400,
    ),
    # Douaisis
    (
        "DOU-COAL",
        "Coal-fired power station",
        713300,
        7027800,
        "A_PublicPower",
        220,
        7.0,
        410,
        20,
        0,
        2013,
        (2900, 240, 160, 5600, 10, 40),
        700,
    ),
    (
        "DOU-CARS",
        "Car assembly plant paint shop",
        702300,
        7033200,
        "E_Solvents",
        40,
        2.2,
        330,
        10,
        0,
        0,
        (38, 6, 4, 1, 0, 560),
        1000,
    ),
    (
        "DOU-SUGAR",
        "Sugar refinery",
        709300,
        7035400,
        "B_Industry",
        45,
        2.0,
        420,
        11,
        0,
        0,
        (92, 22, 10, 65, 3, 30),
        500,
    ),
    (
        "DOU-INCIN",
        "Household waste incinerator",
        706500,
        7026700,
        "J_Waste",
        40,
        1.5,
        420,
        12,
        1995,
        0,
        (105, 1.5, 1.2, 4, 2, 3),
        300,
    ),
    (
        "DOU-GLASS",
        "Container glassworks",
        710600,
        7023400,
        "B_Industry",
        45,
        2.5,
        540,
        9,
        0,
        0,
        (420, 35, 30, 280, 2, 10),
        500,
    ),
    # Creil Sud Oise
    (
        "ACSO-CHEM",
        "Chemical plant (nitric acid, monomers)",
        663300,
        6909500,
        "B_Industry",
        60,
        2.0,
        380,
        12,
        0,
        0,
        (150, 10, 7, 80, 35, 120),
        700,
    ),
    (
        "ACSO-STEEL",
        "Steel coating and galvanising lines",
        659200,
        6909100,
        "B_Industry",
        40,
        2.2,
        400,
        10,
        0,
        0,
        (60, 12, 8, 6, 0, 45),
        600,
    ),
    (
        "ACSO-INCIN",
        "Energy-from-waste plant",
        664200,
        6907200,
        "J_Waste",
        55,
        2.0,
        420,
        14,
        0,
        0,
        (175, 2, 1.6, 8, 4, 4),
        300,
    ),
    (
        "ACSO-HEAT",
        "Heating plant",
        661400,
        6905200,
        "A_PublicPower",
        35,
        1.5,
        430,
        9,
        0,
        2008,
        (70, 12, 9, 110, 0, 3),
        0,
    ),
    # Compiègne
    (
        "ARC-GLASS",
        "Float glass furnace",
        690700,
        6926400,
        "B_Industry",
        70,
        3.0,
        560,
        10,
        0,
        0,
        (620, 32, 27, 210, 3, 12),
        600,
    ),
    (
        "ARC-CHEM",
        "Fine chemicals plant",
        684000,
        6920600,
        "B_Industry",
        35,
        1.5,
        360,
        9,
        0,
        0,
        (80, 6, 4, 14, 6, 190),
        600,
    ),
    (
        "ARC-SUGAR",
        "Sugar and starch plant",
        686300,
        6912900,
        "B_Industry",
        40,
        2.0,
        410,
        11,
        1998,
        0,
        (70, 26, 12, 40, 2, 25),
        500,
    ),
    (
        "ARC-PHARMA",
        "Pharmaceutical plant (solvents)",
        688400,
        6919700,
        "E_Solvents",
        25,
        1.2,
        320,
        8,
        0,
        0,
        (8, 1, 0.8, 0.2, 0, 85),
        300,
    ),
    # Hauts de Flandre, Vexin-Thelle
    (
        "CCHF-DAIRY",
        "Dairy and food plant boilers",
        660600,
        7096200,
        "B_Industry",
        30,
        1.4,
        420,
        9,
        0,
        0,
        (42, 5, 3.5, 12, 2, 10),
        300,
    ),
    (
        "CCHF-LANDFILL",
        "Landfill gas engines",
        664800,
        7086100,
        "J_Waste",
        10,
        0.8,
        650,
        20,
        1994,
        0,
        (28, 0.5, 0.4, 2, 1, 22),
        400,
    ),
    (
        "CCVT-KILN",
        "Lime kiln",
        613300,
        6903600,
        "B_Industry",
        35,
        1.6,
        430,
        10,
        0,
        0,
        (55, 15, 6, 30, 0, 3),
        400,
    ),
    (
        "CCVT-DRYER",
        "Grain dryer",
        621100,
        6911300,
        "B_Industry",
        15,
        1.2,
        330,
        8,
        0,
        0,
        (12, 9, 3, 1, 0, 6),
        200,
    ),
)

#: Stacks with register figures (E-PRTR / IREP era) in point_source_history.csv.
HISTORY_STACKS: tuple[str, ...] = (
    "CUD-STEEL-SINTER",
    "CUD-STEEL-COKE",
    "CUD-STEEL-BF",
    "CUD-STEEL-MILL",
    "CUD-CCGT",
    "CUD-ALU",
    "CUD-REFINERY",
    "CUD-LNG",
    "MEL-INCIN",
    "MEL-DH",
    "MEL-CHEM",
    "DOU-COAL",
    "DOU-CARS",
    "DOU-GLASS",
    "ACSO-CHEM",
    "ARC-GLASS",
    "MEL-FOUNDRY",
)


def _stack_row(
    sid: str,
    name: str,
    x: float,
    y: float,
    sector: str,
    h: float,
    d: float,
    temp: float,
    vel: float,
    start: int | None,
    end: int | None,
) -> dict[str, Any]:
    """The identity and stack parameters of one ``point_sources.csv`` row."""
    return {
        "source_id": sid, "name": name, "x": float(x), "y": float(y), "sector": sector,
        "height": float(h), "diameter": float(d), "temperature": float(temp),
        "velocity": float(vel), "start_year": start if start else pd.NA,
        "end_year": end if end else pd.NA,
    }  # fmt: skip


def point_sources(reference_year: int) -> pd.DataFrame:
    """Table with the ``point_sources.csv`` contract columns."""
    rows = []
    for sid, name, x, y, sector, h, d, temp, vel, start, end, em, _ in STACKS:
        row = _stack_row(sid, name, x, y, sector, h, d, temp, vel, start, end)
        row.update({p: float(v) for p, v in zip(POLLUTANTS, em, strict=True)})
        rows.append(row)
    df = pd.DataFrame(rows)
    for c in ("start_year", "end_year"):
        df[c] = df[c].astype("Int64")
    return df


def point_source_history(
    seed: int, trends: pd.DataFrame, reference_year: int, last_year: int
) -> pd.DataFrame:
    """Yearly register figures 2003..last_year for :data:`HISTORY_STACKS`.

    The figure of year ``y`` is the reference figure times the sector trend ratio
    ``index(y) / index(ref)`` times a plant-specific activity factor (lognormal, 8 %), with
    the 2009 recession dip for steel; the reference year (or the last/first operating year)
    equals the ``point_sources.csv`` figure exactly.
    """
    rng = np.random.default_rng([seed, 6])
    idx = trends.set_index(["sector", "pollutant", "year"])["value"]
    rows = []
    for sid, _, _, _, sector, _, _, _, _, start, end, em, _ in STACKS:
        if sid not in HISTORY_STACKS:
            continue
        first = max(2003, start or 0)
        last = min(last_year, end or last_year)
        anchor = reference_year
        if end and end < reference_year:
            anchor = end
        if start and start > reference_year:
            anchor = start
        activity = rng.lognormal(0.0, 0.08, last_year - 2003 + 1)
        for year in range(first, last + 1):
            a = activity[year - 2003] / activity[anchor - 2003]
            if sid.startswith("CUD-STEEL") and year == 2009:
                a *= 0.72
            for p, ref in zip(POLLUTANTS, em, strict=True):
                if ref <= 0:
                    continue
                ratio = idx[(sector, p, year)] / idx[(sector, p, anchor)]
                value = ref if year == anchor else ref * ratio * a
                rows.append((sid, year, p, round(float(value), 3)))
    return pd.DataFrame(rows, columns=["source_id", "year", "pollutant", "emission"])


# --------------------------------------------------------------------------- roads
#: The sample's tables in ``data/sample_inventory.toml``: per-capita factors, road factors,
#: corridors.
SAMPLE_TABLES: dict[str, Any] = tomllib.loads(
    resources.files("trajectoire").joinpath("data/sample_inventory.toml").read_text("utf-8")
)
#: Road emission factors [g km-1 veh-1] (light, heavy) per category and pollutant, for a
#: 2018 French fleet: COPERT-like magnitudes, PM including non-exhaust (tyre, brake, road
#: wear, EMEP/EEA Guidebook 2019, 1.A.3.b.vi-vii).
ROAD_EF: dict[str, dict[str, tuple[float, float]]] = {
    cat: {p: (float(ef[0]), float(ef[1])) for p, ef in factors.items()}
    for cat, factors in SAMPLE_TABLES["road_emission_factors"].items()
}


def road_emission_factors() -> pd.DataFrame:
    """Table with the ``road_emission_factors.csv`` contract columns."""
    rows = [(cat, p, ef[p][0], ef[p][1]) for cat, ef in ROAD_EF.items() for p in POLLUTANTS]
    return pd.DataFrame(rows, columns=["category", "pollutant", "ef_light", "ef_heavy"])


# --------------------------------------------------------------------------- trends
TREND_YEARS = (1990, 1995, 2000, 2005, 2010, 2015, 2020, 2023)
_F = "F_RoadTransport"
#: Shape of the national series per sector and pollutant: index (1990 = 100) at
#: :data:`TREND_YEARS`, shaped on the French inventory (Citepa / Eurostat env_air_emis).
TREND_SHAPES: dict[str, dict[str, tuple[float, ...]]] = {
    "A_PublicPower": {
        "NOx": (100, 95, 80, 70, 45, 30, 22, 20),
        "SO2": (100, 80, 55, 35, 12, 6, 3, 2.5),
        "PM10": (100, 85, 60, 40, 20, 12, 8, 7),
        "PM2.5": (100, 85, 60, 40, 20, 12, 8, 7),
        "NMVOC": (100, 95, 85, 75, 60, 50, 45, 42),
        "NH3": (100, 105, 110, 120, 110, 100, 95, 90),
    },
    "B_Industry": {
        "NOx": (100, 95, 85, 72, 55, 45, 38, 35),
        "SO2": (100, 85, 65, 45, 25, 15, 10, 9),
        "PM10": (100, 90, 75, 55, 40, 32, 27, 25),
        "PM2.5": (100, 90, 74, 53, 38, 30, 25, 23),
        "NMVOC": (100, 92, 78, 60, 45, 38, 34, 32),
        "NH3": (100, 95, 90, 80, 70, 65, 60, 58),
    },
    "C_OtherStationaryComb": {
        "NOx": (100, 102, 100, 98, 90, 78, 70, 66),
        "SO2": (100, 85, 65, 50, 35, 20, 12, 10),
        "PM10": (100, 95, 85, 75, 65, 52, 44, 40),
        "PM2.5": (100, 95, 85, 75, 65, 52, 44, 40),
        "NMVOC": (100, 95, 85, 72, 60, 48, 40, 37),
        "NH3": (100, 100, 100, 98, 95, 90, 88, 86),
    },
    "D_Fugitive": {
        "NOx": (100, 95, 85, 75, 65, 55, 50, 48),
        "SO2": (100, 80, 60, 40, 25, 15, 10, 9),
        "PM10": (100, 95, 85, 75, 65, 58, 52, 50),
        "PM2.5": (100, 95, 85, 75, 65, 58, 52, 50),
        "NMVOC": (100, 85, 60, 42, 30, 24, 20, 19),
        "NH3": (100, 100, 100, 100, 100, 100, 100, 100),
    },
    "E_Solvents": {
        "NOx": (100, 98, 95, 90, 85, 80, 76, 75),
        "SO2": (100, 95, 90, 85, 80, 75, 72, 70),
        "PM10": (100, 95, 90, 85, 80, 75, 72, 70),
        "PM2.5": (100, 95, 90, 85, 80, 75, 72, 70),
        "NMVOC": (100, 95, 85, 70, 55, 45, 41, 40),
        "NH3": (100, 100, 98, 96, 94, 92, 90, 90),
    },
    _F: {
        "NOx": (100, 101, 95, 78, 60, 48, 37, 32),
        "SO2": (100, 85, 40, 3, 1.5, 1.4, 1.3, 1.3),
        "PM10": (100, 100, 90, 72, 55, 42, 34, 30),
        "PM2.5": (100, 100, 88, 68, 48, 33, 24, 21),
        "NMVOC": (100, 80, 55, 32, 18, 12, 9, 8),
        "NH3": (100, 250, 420, 350, 250, 180, 140, 130),
    },
    "G_Shipping": {
        "NOx": (100, 100, 98, 95, 90, 85, 80, 78),
        "SO2": (100, 100, 95, 85, 70, 25, 12, 10),
        "PM10": (100, 100, 95, 88, 75, 45, 35, 33),
        "PM2.5": (100, 100, 95, 88, 75, 45, 35, 33),
        "NMVOC": (100, 98, 95, 90, 85, 80, 75, 72),
        "NH3": (100, 100, 100, 100, 100, 100, 100, 100),
    },
    "H_Aviation": {
        "NOx": (100, 115, 130, 135, 140, 150, 150, 140),
        "SO2": (100, 110, 120, 120, 120, 125, 125, 118),
        "PM10": (100, 105, 110, 105, 100, 100, 98, 92),
        "PM2.5": (100, 105, 110, 105, 100, 100, 98, 92),
        "NMVOC": (100, 100, 95, 85, 75, 70, 68, 62),
        "NH3": (100, 100, 100, 100, 100, 100, 100, 100),
    },
    "I_OffRoad": {
        "NOx": (100, 98, 92, 82, 65, 50, 40, 36),
        "SO2": (100, 90, 75, 50, 5, 3, 3, 3),
        "PM10": (100, 95, 85, 70, 50, 32, 22, 19),
        "PM2.5": (100, 95, 85, 70, 50, 32, 22, 19),
        "NMVOC": (100, 95, 85, 70, 52, 38, 30, 27),
        "NH3": (100, 102, 104, 106, 108, 110, 110, 110),
    },
    "J_Waste": {
        "NOx": (100, 100, 95, 80, 55, 45, 40, 38),
        "SO2": (100, 90, 60, 30, 15, 10, 8, 7),
        "PM10": (100, 95, 80, 60, 45, 40, 38, 37),
        "PM2.5": (100, 95, 80, 60, 45, 40, 38, 37),
        "NMVOC": (100, 95, 85, 70, 60, 50, 45, 43),
        "NH3": (100, 105, 110, 110, 105, 100, 98, 97),
    },
    "K_AgriLivestock": {
        "NOx": (100, 99, 97, 95, 93, 92, 90, 90),
        "SO2": (100, 100, 100, 100, 100, 100, 100, 100),
        "PM10": (100, 99, 97, 95, 93, 92, 90, 89),
        "PM2.5": (100, 99, 97, 95, 93, 92, 90, 89),
        "NMVOC": (100, 99, 96, 93, 91, 90, 88, 87),
        "NH3": (100, 99, 97, 94, 92, 91, 89, 88),
    },
    "L_AgriOther": {
        "NOx": (100, 100, 98, 95, 92, 92, 90, 89),
        "SO2": (100, 100, 100, 100, 100, 100, 100, 100),
        "PM10": (100, 98, 97, 96, 95, 94, 93, 92),
        "PM2.5": (100, 98, 97, 96, 95, 94, 93, 92),
        "NMVOC": (100, 99, 98, 97, 96, 95, 94, 94),
        "NH3": (100, 100, 98, 96, 94, 95, 92, 90),
    },
    "M_Other": {
        "NOx": (100, 100, 98, 96, 95, 94, 93, 92),
        "SO2": (100, 100, 98, 96, 95, 94, 93, 92),
        "PM10": (100, 100, 98, 96, 95, 94, 93, 92),
        "PM2.5": (100, 100, 98, 96, 95, 94, 93, 92),
        "NMVOC": (100, 100, 98, 96, 95, 94, 93, 92),
        "NH3": (100, 100, 99, 98, 98, 97, 97, 97),
    },
}

#: One-year events multiplying the smooth shape: cold winters (heating), the 2009 recession
#: (industry), the 2020 lockdowns (traffic, aviation, shipping).
TREND_EVENTS: dict[str, dict[int, float]] = {
    "C_OtherStationaryComb": {
        1996: 1.09,
        2010: 1.10,
        2013: 1.06,
        2011: 0.92,
        2014: 0.91,
        2020: 0.93,
        2022: 0.90,
    },
    "B_Industry": {2009: 0.86, 2020: 0.93},
    "A_PublicPower": {2009: 0.92, 2010: 1.05, 2020: 0.90},
    "E_Solvents": {2009: 0.93},
    _F: {2020: 0.83, 2021: 0.95},
    "H_Aviation": {2020: 0.45, 2021: 0.62, 2022: 0.9},
    "G_Shipping": {2020: 0.9},
    "I_OffRoad": {2009: 0.92, 2020: 0.9},
}


def trends(seed: int, first_year: int, last_year: int) -> pd.DataFrame:
    """National sector trend indices (1990 = 100) for every GNFR sector and pollutant.

    Monotone cubic (PCHIP) interpolation of :data:`TREND_SHAPES`, times the one-year
    :data:`TREND_EVENTS`, times a small year-to-year noise (1.5 %). Before 1990 the 1990
    value is held; after 2023 the 2018-2023 log-slope continues (never below 30 % of 2023).
    """
    rng = np.random.default_rng([seed, 7])
    years = np.arange(first_year, last_year + 1)
    rows: list[tuple[str, str, int, float]] = []
    for sector, shapes in TREND_SHAPES.items():
        for p in POLLUTANTS:
            anchors = np.asarray(shapes[p], float)
            f = PchipInterpolator(TREND_YEARS, np.log(anchors))
            inside = np.clip(years, TREND_YEARS[0], TREND_YEARS[-1])
            logv = f(inside)
            slope = (f(2023.0) - f(2018.0)) / 5.0
            after = years > 2023
            logv[after] = f(2023.0) + np.maximum(slope * (years[after] - 2023), np.log(0.3))
            value = np.exp(logv)
            ev = TREND_EVENTS.get(sector, {})
            value *= np.array([ev.get(int(y), 1.0) for y in years])
            noise = rng.lognormal(0.0, 0.015, years.size)
            noise[years == 1990] = 1.0
            value *= noise
            rows.extend(
                (sector, p, int(y), round(float(v), 3)) for y, v in zip(years, value, strict=True)
            )
    return pd.DataFrame(rows, columns=["sector", "pollutant", "year", "value"])


# --------------------------------------------------------------------------- area totals
#: Emission per inhabitant [kg inh-1 yr-1] (reference year) by sector
#: (``data/sample_inventory.toml``).
PER_CAPITA: dict[str, dict[str, float]] = SAMPLE_TABLES["per_capita"]
#: Emission per km2 of land-use class [t km-2 yr-1] by sector: (class id, factors).
PER_AREA: dict[str, dict[int, dict[str, float]]] = {
    "B_Industry": {2: {"NOx": 2.0, "PM10": 1.5, "PM2.5": 0.5, "SO2": 0.5, "NMVOC": 3.0}},
    "D_Fugitive": {2: {"NMVOC": 1.0}},
    "I_OffRoad": {3: {"NOx": 0.06, "PM10": 0.008, "PM2.5": 0.0075, "SO2": 0.0003, "NMVOC": 0.02}},
    "K_AgriLivestock": {
        4: {"NH3": 1.7, "PM10": 0.18, "PM2.5": 0.03, "NMVOC": 0.5, "NOx": 0.05},
        3: {"NH3": 0.5, "PM10": 0.05, "PM2.5": 0.008, "NMVOC": 0.15, "NOx": 0.01},
    },
    "L_AgriOther": {
        3: {"NH3": 0.55, "NOx": 0.08, "PM10": 0.22, "PM2.5": 0.05, "NMVOC": 0.05},
        4: {"NH3": 0.3, "NOx": 0.1, "PM10": 0.05, "PM2.5": 0.01, "NMVOC": 0.02},
    },
}
#: Port of Dunkerque (shipping at berth and manoeuvring) and airports [t yr-1], with the
#: point or box they are spread around.
SHIPPING = {"NOx": 1800.0, "PM10": 55.0, "PM2.5": 50.0, "SO2": 120.0, "NH3": 0.5, "NMVOC": 60.0}
AIRPORTS: tuple[tuple[str, float, float, dict[str, float]], ...] = (
    (
        "Lille-Lesquin",
        709800,
        7053300,
        {"NOx": 140.0, "PM10": 3.0, "PM2.5": 2.5, "SO2": 11.0, "NH3": 0.0, "NMVOC": 22.0},
    ),
    (
        "Beauvais-Tillé",
        636400,
        6930500,
        {"NOx": 230.0, "PM10": 4.5, "PM2.5": 4.0, "SO2": 18.0, "NH3": 0.0, "NMVOC": 30.0},
    ),
)


def area_emissions(
    seed: int,
    zone_ids: list[str],
    population: np.ndarray,
    density: np.ndarray,
    class_km2: np.ndarray,
    shipping_share: np.ndarray,
    airport_zone: dict[str, int],
) -> pd.DataFrame:
    """Totals per zone, sector and pollutant [t yr-1] (``area_emissions.csv``).

    Parameters
    ----------
    seed : int
        Seed of the sample (the totals draw from ``[seed, 8]``).
    zone_ids : list of str
        The zones' ids, in the order of the arrays below.
    population : array (n_zones,)
        Inhabitants in the reference year.
    density : array (n_zones,)
        Inhabitants per km2 (wood heating is heavier in rural zones).
    class_km2 : array (n_zones, 7)
        Area of each land-use class per zone [km2] (column = class id).
    shipping_share : array (n_zones,)
        Share of the port area in each zone (sums to 1).
    airport_zone : dict
        Airport name to zone index (-1 when the airport is outside every zone).
    """
    rng = np.random.default_rng([seed, 8])
    n = len(zone_ids)
    sectors = [
        "B_Industry",
        "C_OtherStationaryComb",
        "D_Fugitive",
        "E_Solvents",
        "G_Shipping",
        "H_Aviation",
        "I_OffRoad",
        "J_Waste",
        "K_AgriLivestock",
        "L_AgriOther",
        "M_Other",
    ]
    table = {s: {p: np.zeros(n) for p in POLLUTANTS} for s in sectors}
    rural = np.clip((600.0 - density) / 500.0, 0.0, 1.0)
    for s, fac in PER_CAPITA.items():
        for p, v in fac.items():
            w = np.ones(n)
            if s == "C_OtherStationaryComb" and p in ("PM10", "PM2.5", "NMVOC"):
                w = 1.0 + 0.6 * rural
            table[s][p] += population * v * w / 1000.0
    for s, by_class in PER_AREA.items():
        for cls, fac in by_class.items():
            for p, v in fac.items():
                table[s][p] += class_km2[:, cls] * v
    for p, v in SHIPPING.items():
        table["G_Shipping"][p] += shipping_share * v
    for name, _, _, em in AIRPORTS:
        k = airport_zone.get(name, -1)
        if k >= 0:
            for p, v in em.items():
                table["H_Aviation"][p][k] += v
    rows = []
    for s in sectors:
        factor = rng.lognormal(0.0, 0.15, n)  # zone-specific activity, same for pollutants
        for p in POLLUTANTS:
            values = table[s][p] * factor
            for k in np.flatnonzero(values > 0).tolist():
                rows.append((zone_ids[k], s, p, round(float(values[k]), 3)))
    df = pd.DataFrame(rows, columns=["zone_id", "sector", "pollutant", "emission"])
    return df[df["emission"] > 0].reset_index(drop=True)


# --------------------------------------------------------------------------- emerging species
#: Emerging species of the sample (issue 15) and the GNFR sectors that emit them. Their
#: emissions come from the models of :mod:`trajectoire.inventory.emerging` (factors cited in
#: ``data/emerging_factors.toml``); the activity figures below are illustrative.
EMERGING: dict[str, tuple[str, ...]] = {
    "UFP": ("C_OtherStationaryComb", "F_RoadTransport", "H_Aviation"),
    "TRWP": ("F_RoadTransport",),
    "S-metolachlor": ("L_AgriOther",),
    "PFOA": ("B_Industry",),
}
#: Mean speed per road category [km h-1] for the tyre wear speed correction: illustrative.
ROAD_SPEED: dict[str, float] = {"motorway": 110.0, "trunk": 80.0, "rural": 70.0, "urban": 30.0}
#: Landing/take-off cycles per year of the sample's airports in the reference year
#: (illustrative: orders of magnitude of the commercial and general-aviation movements of
#: regional airports of 2 to 4 million passengers, Union des aéroports français).
AIRPORT_LTO: dict[str, float] = {"Lille-Lesquin": 15_000.0, "Beauvais-Tillé": 13_000.0}
#: Illustrative fluorochemical sources of PFOA: id, name, x, y [m], GNFR sector, height [m],
#: diameter [m], exit temperature [K], exit velocity [m s-1], start year, end year (0 =
#: open), PFOA emission in 1990 [t yr-1] before the phase-out (scaled by
#: :func:`trajectoire.inventory.emerging.pfoa_phase_out_index`). **Synthetic sites**, not
#: real plants; they emit no regulated pollutant in the sample.
PFAS_STACKS: tuple[tuple, ...] = (
    (
        "ACSO-FLUORO",
        "Fluoropolymer plant (illustrative PFOA source)",
        662500,
        6910800,
        "B_Industry",
        35,
        1.5,
        330,
        10,
        0,
        0,
        1.5,
    ),
    (
        "MEL-TEXCOAT",
        "Textile water-repellent finishing works (illustrative PFOA source)",
        713200,
        7068600,
        "B_Industry",
        20,
        1.0,
        320,
        8,
        0,
        2012,
        0.3,
    ),
)


def _sig(value: float, digits: int = 4) -> float:
    """`value` rounded to `digits` significant figures (files stay short and exact)."""
    return float(f"{value:.{digits}g}")


def pfas_point_sources(reference_year: int) -> pd.DataFrame:
    """The :data:`PFAS_STACKS` rows of ``point_sources.csv`` with their ``PFOA`` [t yr-1].

    The figure is that of the reference year, or of the last full year of operation for a
    site closed before it: the 1990 emission times the phase-out index of that year.
    """
    from trajectoire.inventory.emerging import pfoa_phase_out_index

    rows = []
    for sid, name, x, y, sector, h, d, temp, vel, start, end, e1990 in PFAS_STACKS:
        year = end if end and end < reference_year else reference_year
        row = _stack_row(sid, name, x, y, sector, h, d, temp, vel, start, end)
        row.update({p: 0.0 for p in POLLUTANTS})
        row["PFOA"] = _sig(e1990 * float(pfoa_phase_out_index(year)[0]))
        rows.append(row)
    df = pd.DataFrame(rows)
    for c in ("start_year", "end_year"):
        df[c] = df[c].astype("Int64")
    return df


def emerging_road_factors(reference_year: int, known: set[str]) -> pd.DataFrame:
    """``road_emission_factors.csv`` rows of ``TRWP`` (and ``TRWP_coarse`` when `known`).

    Fleet-average tyre and road wear [g km-1 veh-1] of light and heavy vehicles in the
    reference year, with the tyre wear speed correction of each category's mean speed
    (:data:`ROAD_SPEED`); ``TRWP_coarse`` is written only when the species registry knows it
    (a registry entry of the run side: deposited in its emission cell).
    """
    from trajectoire.inventory.emerging import trwp_factors

    rows = []
    for sp in ("TRWP", "TRWP_coarse"):
        if sp not in known:
            continue
        for cat in ROAD_EF:
            f = trwp_factors(reference_year, speed=ROAD_SPEED[cat]).iloc[0]
            rows.append((cat, sp, _sig(f[(sp, "light")]), _sig(f[(sp, "heavy")])))
    return pd.DataFrame(rows, columns=["category", "pollutant", "ef_light", "ef_heavy"])


def emerging_area_emissions(
    zone_ids: list[str],
    reference_year: int,
    population: np.ndarray,
    density: np.ndarray,
    class_km2: np.ndarray,
    vkm_light: np.ndarray,
    vkm_heavy: np.ndarray,
    airport_zone: dict[str, int],
) -> pd.DataFrame:
    """Zone totals of the emerging area sources, with their ``units`` (deterministic).

    * ``UFP`` [particles yr-1]: road exhaust from the vehicle-km of the sample roads in the
      zone (fleet model of the reference year), the airports' LTO cycles
      (:data:`AIRPORT_LTO`), residential wood burning (``[ufp.wood]
      use_per_inhabitant`` GJ per inhabitant, 1.6 times more in rural zones as for the
      sample's heating PM);
    * ``S-metolachlor`` [t yr-1]: arable land (class 3) x dose x treated share x volatilised
      fraction.

    Parameters
    ----------
    zone_ids : list of str
        The zones' ids, in the order of the arrays below.
    reference_year : int
        Year of the totals: the emission factors and fleet of that year are used.
    population, density : array (n_zones,)
        Inhabitants and inhabitants per km2 in the reference year.
    class_km2 : array (n_zones, 7)
        Area of each land-use class per zone [km2].
    vkm_light, vkm_heavy : array (n_zones,)
        Vehicle-km per year of the sample roads inside each zone [km yr-1].
    airport_zone : dict
        Airport name to zone index (-1: outside every zone).
    """
    from trajectoire.inventory import emerging as em

    n = len(zone_ids)
    rural = np.clip((600.0 - density) / 500.0, 0.0, 1.0)
    wood_gj = population * em.load_emerging_factors()["ufp"]["wood"]["use_per_inhabitant"]["value"]
    ufp_air = np.zeros(n)
    for name, lto in AIRPORT_LTO.items():
        k = airport_zone.get(name, -1)
        if k >= 0:
            ufp_air[k] += float(em.ufp_airport_emissions(lto))
    table = [
        (
            "C_OtherStationaryComb",
            "UFP",
            "yr-1",
            em.ufp_wood_emissions(
                wood_gj * (1 + 0.6 * rural), reference_year, reference_year=reference_year
            ),
        ),
        (
            "F_RoadTransport",
            "UFP",
            "yr-1",
            em.ufp_road_emissions(vkm_light, vkm_heavy, reference_year),
        ),
        ("H_Aviation", "UFP", "yr-1", ufp_air),
        (
            "L_AgriOther",
            "S-metolachlor",
            "t yr-1",
            em.pesticide_emissions(class_km2[:, 3] * 100.0, "S-metolachlor"),
        ),
    ]
    rows = []
    for sector, pol, units, values in table:
        for k in np.flatnonzero(np.asarray(values) > 0).tolist():
            rows.append((zone_ids[k], sector, pol, _sig(float(values[k])), units))
    return pd.DataFrame(rows, columns=["zone_id", "sector", "pollutant", "emission", "units"])


def _trend_order(sector: str, pollutant: str) -> tuple[int, int]:
    species = (*EMERGING, "TRWP_coarse")
    return list(TREND_SHAPES).index(sector), species.index(pollutant)


def emerging_trends(first_year: int, last_year: int, known: set[str]) -> pd.DataFrame:
    """Yearly indices (1990 = 100) of the emerging species, computed from the models.

    * ``F_RoadTransport``: total vehicle-km index x fleet-average factor of the year (UFP:
      exhaust particle number with the Euro standards; TRWP, TRWP_coarse: tyre and road
      wear with the class mix), times the sector's one-year events (2020 lockdowns);
    * ``H_Aviation`` UFP: LTO index x events; ``C_OtherStationaryComb`` UFP: wood fuel use
      index x appliance-renewal factor index x events;
    * ``L_AgriOther`` S-metolachlor: national use index; ``B_Industry`` PFOA: phase-out
      index;
    * every other GNFR sector: a flat 100 (the sample has no source of the species there,
      and the trajectory needs an index for every sector and pollutant).

    No random noise: the indices are the models' own.
    """
    from trajectoire.inventory import emerging as em

    f = em.load_emerging_factors()
    years = np.arange(min(first_year, 1990), last_year + 1)
    keep = years >= first_year
    traffic = em.traffic_index(years)
    trwp = em.trwp_factors(years)
    series = {
        ("F_RoadTransport", "UFP"): traffic * em.ufp_road_factors(years)["all"].to_numpy(),
        ("F_RoadTransport", "TRWP"): traffic * trwp[("TRWP", "all")].to_numpy(),
        ("F_RoadTransport", "TRWP_coarse"): traffic * trwp[("TRWP_coarse", "all")].to_numpy(),
        ("H_Aviation", "UFP"): em.yearly_index(f["ufp"]["aviation"]["lto_index"], years),
        ("C_OtherStationaryComb", "UFP"): em.yearly_index(f["ufp"]["wood"]["fuel_index"], years)
        * em.yearly_index(f["ufp"]["wood"]["factor_index"], years),
        ("L_AgriOther", "S-metolachlor"): em.yearly_index(
            f["pesticide"]["S-metolachlor"]["use_index"], years
        ),
        ("B_Industry", "PFOA"): em.pfoa_phase_out_index(years),
    }
    for pol in EMERGING:
        for sector in TREND_SHAPES:
            # the trajectory needs an index for every (sector, pollutant): a sector with no
            # source of the species in the sample gets a flat one (it scales zeros)
            series.setdefault((sector, pol), np.ones(years.size))
    if "TRWP_coarse" in known:
        for sector in TREND_SHAPES:
            series.setdefault((sector, "TRWP_coarse"), np.ones(years.size))
    rows: list[tuple[str, str, int, float]] = []
    for (sector, pol), value in sorted(series.items(), key=lambda kv: _trend_order(*kv[0])):
        if pol not in known:
            continue
        base = float(value[years == 1990][0])
        ev = TREND_EVENTS.get(sector, {}) if pol in ("UFP", "TRWP", "TRWP_coarse") else {}
        scaled = 100.0 * value / base * np.array([ev.get(int(y), 1.0) for y in years])
        rows.extend(
            (sector, pol, int(y), round(float(v), 3))
            for y, v in zip(years[keep], scaled[keep], strict=True)
        )
    return pd.DataFrame(rows, columns=["sector", "pollutant", "year", "value"])


#: Regional background of the emerging species in 2018 (concentration, its unit): all
#: illustrative. PFOA: a few pg m-3 in European background air (Barber et al. 2007, J.
#: Environ. Monit. 9, 530), following the phase-out slowly (a persistent part);
#: S-metolachlor: annual means of a fraction of ng m-3 at rural sites (Anses 2020 national
#: exploratory campaign), following national use; TRWP: 0.05-0.7 ug m-3 of PM10 in France
#: (Panko et al. 2013, Atmos. Environ. 72, 192), following traffic; UFP: a few thousand
#: particles per cm3 in rural north-western Europe, constant.
EMERGING_BACKGROUND: dict[str, tuple[float, str]] = {
    "PFOA": (5e-6, "ug m-3"),
    "S-metolachlor": (3e-4, "ug m-3"),
    "TRWP": (0.2, "ug m-3"),
    "UFP": (4000.0, "cm-3"),
}


def emerging_background(
    first_year: int, last_year: int, known: set[str], numbers: bool
) -> pd.DataFrame:
    """``background.csv`` rows of the emerging species (``year, pollutant, value, units``).

    The 2018 levels of :data:`EMERGING_BACKGROUND` times the species' index relative to 2018
    (PFOA: ``(I(y) + 0.25) / (I(2018) + 0.25)`` with the phase-out index ``I``, a persistent
    long-range part; S-metolachlor: use index; TRWP: traffic index; UFP: constant). Particle-number rows (``cm-3``) only when `numbers`
    (the background reader of the run accepts number concentrations).
    """
    from trajectoire.inventory import emerging as em

    f = em.load_emerging_factors()
    years = np.arange(first_year, last_year + 1)
    ref = np.array([2018])
    # a persistent, long-range part: (I(y) + 0.25) / (I(2018) + 0.25), about 5x in 1990
    pfoa = (em.pfoa_phase_out_index(years) + 0.25) / (em.pfoa_phase_out_index(ref) + 0.25)
    use = f["pesticide"]["S-metolachlor"]["use_index"]
    index = {
        "PFOA": pfoa,
        "S-metolachlor": em.yearly_index(use, years) / em.yearly_index(use, ref),
        "TRWP": em.traffic_index(years) / em.traffic_index(ref),
        "UFP": np.ones(years.size),
    }
    rows: list[tuple[int, str, float, str]] = []
    for pol, (level, units) in EMERGING_BACKGROUND.items():
        if pol not in known or (units == "cm-3" and not numbers):
            continue
        rows.extend(
            (int(y), pol, _sig(level * float(v)), units)
            for y, v in zip(years, index[pol], strict=True)
        )
    return pd.DataFrame(rows, columns=["year", "pollutant", "value", "units"])
