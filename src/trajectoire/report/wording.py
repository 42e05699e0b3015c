"""The plain words of the report: sector and pollutant names for residents, in two languages.

Sectors are named by what people see (``chauffage des logements``, ``trafic routier``), never
by their nomenclature code; pollutants by their name, with the chemical symbol once.
"""

from __future__ import annotations

__all__ = [
    "ANCHOR_INPUT",
    "INPUTS",
    "LANGS",
    "POLLUTANTS",
    "PRECURSOR",
    "SECTORS",
    "THRESHOLD_LABELS",
]

LANGS = ("fr", "en")

#: Plain names of the GNFR sectors (the nomenclature code never appears in the report).
SECTORS: dict[str, dict[str, str]] = {
    "fr": {
        "A_PublicPower": "centrales électriques et chauffage urbain",
        "B_Industry": "industrie",
        "C_OtherStationaryComb": "chauffage des logements et des bureaux",
        "D_Fugitive": "fuites de carburants et de gaz",
        "E_Solvents": "solvants et peintures",
        "F_RoadTransport": "trafic routier",
        "G_Shipping": "navires",
        "H_Aviation": "avions",
        "I_OffRoad": "engins de chantier, agricoles et trains",
        "J_Waste": "traitement des déchets",
        "K_AgriLivestock": "élevage",
        "L_AgriOther": "cultures et engrais",
        "M_Other": "autres sources",
    },
    "en": {
        "A_PublicPower": "power plants and district heating",
        "B_Industry": "industry",
        "C_OtherStationaryComb": "heating of homes and offices",
        "D_Fugitive": "fuel and gas leaks",
        "E_Solvents": "solvents and paints",
        "F_RoadTransport": "road traffic",
        "G_Shipping": "ships",
        "H_Aviation": "aircraft",
        "I_OffRoad": "building-site and farm machinery, trains",
        "J_Waste": "waste treatment",
        "K_AgriLivestock": "livestock",
        "L_AgriOther": "crops and fertilisers",
        "M_Other": "other sources",
    },
}

#: The pollutants the report speaks of: id -> (short label, plain name, what it is).
POLLUTANTS: dict[str, dict[str, tuple[str, str, str]]] = {
    "fr": {
        "NO2": (
            "NO₂",
            "dioxyde d'azote",
            "un gaz irritant pour les poumons, émis surtout par les moteurs et les chaudières",
        ),
        "PM10": (
            "PM10",
            "particules de moins de 10 micromètres",
            "des poussières fines qui entrent dans le nez et la gorge",
        ),
        "PM2.5": (
            "PM2,5",
            "particules de moins de 2,5 micromètres",
            "des poussières très fines qui descendent jusqu'au fond des poumons",
        ),
    },
    "en": {
        "NO2": (
            "NO₂",
            "nitrogen dioxide",
            "a gas that irritates the lungs, given off mostly by engines and boilers",
        ),
        "PM10": (
            "PM10",
            "particles smaller than 10 micrometres",
            "fine dust that gets into the nose and throat",
        ),
        "PM2.5": (
            "PM2.5",
            "particles smaller than 2.5 micrometres",
            "very fine dust that reaches deep into the lungs",
        ),
    },
}

#: The emitted pollutant whose emissions explain each breathed one (NO2 forms from NOx).
PRECURSOR: dict[str, str] = {"NO2": "NOx", "PM10": "PM10", "PM2.5": "PM2.5"}

#: Reference values of the output's ``threshold`` dim used by the report.
THRESHOLD_LABELS: tuple[str, str] = ("WHO2021", "EU2030")

#: Plain names of the run's inputs (keys of the output's ``input_checksums``); others unnamed.
INPUTS: dict[str, dict[str, str]] = {
    "fr": {
        "area_emissions": "inventaire des émissions par commune",
        "point_sources": "grandes usines et chaufferies (rejets par cheminée)",
        "point_source_history": "historique des rejets des grandes usines",
        "roads": "réseau routier et trafic",
        "road_emission_factors": "rejets des véhicules par kilomètre",
        "trends": "tendances nationales des émissions par activité",
        "meteo": "météo heure par heure",
        "background": "pollution de fond régionale",
        "landuse": "occupation du sol",
        "zones": "population par quartier ou par commune",
        "territories": "contours des territoires",
        "stations": "stations de mesure",
        "observations": "mesures des stations",
    },
    "en": {
        "area_emissions": "emission inventory by municipality",
        "point_sources": "large factories and boiler plants (stack releases)",
        "point_source_history": "history of the releases of large factories",
        "roads": "road network and traffic",
        "road_emission_factors": "vehicle releases per kilometre",
        "trends": "national emission trends by activity",
        "meteo": "hourly weather",
        "background": "regional background pollution",
        "landuse": "land use",
        "zones": "population by neighbourhood or municipality",
        "territories": "territory outlines",
        "stations": "monitoring stations",
        "observations": "station measurements",
    },
}

#: How an anchor inventory's input (``anchors[i].<key>`` in ``input_checksums``) is named:
#: the plain name of its key, then this.
ANCHOR_INPUT: dict[str, str] = {
    "fr": "{name}, d'autres années (ancrages)",
    "en": "{name}, of other years (anchors)",
}
