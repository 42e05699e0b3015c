"""The plain words of the report: sector and pollutant names for residents, in two languages.

Sectors are named by what people see (``chauffage des logements``, ``trafic routier``), never
by their nomenclature code; pollutants by their name, with the chemical symbol once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

__all__ = [
    "ANCHOR_INPUT",
    "COUNTS",
    "EMERGING",
    "EMERGING_UNITS",
    "INPUTS",
    "LANGS",
    "POLLUTANTS",
    "PRECURSOR",
    "SCENARIO_CUT",
    "SECTORS",
    "SPECIES_WORDS",
    "SYMBOLS",
    "THRESHOLD_LABELS",
    "THRESHOLD_WORDS",
    "ZONES_NAME",
    "ZONE_TITLES",
    "Named",
    "count_words",
    "takes_plural",
    "year_list",
    "year_spans",
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
        "M_Other": "activités diverses non classées",
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
        "M_Other": "miscellaneous unclassified activities",
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

#: The reference values of the output's ``threshold`` dim in words, after « au-dessus de »
#: (the sentence of section 2 on the values the page does not detail); ``other``: a label
#: of ``[exposure] thresholds``, named.
THRESHOLD_WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "WHO2021": "la valeur recommandée par l'OMS en 2021",
        "EU2030": "la limite européenne qui s'appliquera en 2030",
        "EU2008": "la limite européenne fixée en 2008",
        "other": "la valeur de référence « {label} » donnée au calcul",
    },
    "en": {
        "WHO2021": "the level recommended by the WHO in 2021",
        "EU2030": "the European limit that will apply in 2030",
        "EU2008": "the European limit set in 2008",
        "other": 'the reference value "{label}" given to the calculation',
    },
}

#: The chemical symbols of the species the report names outside :data:`POLLUTANTS` (the
#: others keep their id).
SYMBOLS: dict[str, str] = {"SO2": "SO₂", "NH3": "NH₃", "NO2": "NO₂"}

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


#: Plain names of the emerging species (``emerging = true`` in the species registry): the
#: name said first, then what it is. A species of the registry without one here is named by
#: its id.
EMERGING: dict[str, dict[str, tuple[str, str]]] = {
    "fr": {
        "UFP": (
            "particules ultrafines",
            "des particules plus fines que 0,1 micromètre, "
            "comptées une à une, surtout des gaz d'échappement",
        ),  # fmt: skip
        "PFAS": ("PFAS", "des composés fluorés très durables, dits « polluants éternels »"),
        "PFOA": ("PFOA", "un composé fluoré de la famille des PFAS, dits « polluants éternels »"),
        "pesticides": ("pesticides dans l'air", "des produits de traitement des cultures"),
        "S-metolachlor": ("S-métolachlore", "un herbicide épandu sur les cultures"),
        "microplastics": ("microplastiques", "de petits fragments de plastique en suspension"),
        "TRWP": (
            "particules d'usure des pneus et des routes",
            "les plus fines, qui restent en suspension",
        ),  # fmt: skip
        "TRWP_coarse": (
            "grosses particules d'usure des pneus et des routes",
            "qui retombent vite près des routes",
        ),  # fmt: skip
    },
    "en": {
        "UFP": (
            "ultrafine particles",
            "particles finer than 0.1 micrometre, counted one by one, mostly from exhausts",
        ),  # fmt: skip
        "PFAS": ("PFAS", "very persistent fluorinated compounds, the 'forever chemicals'"),
        "PFOA": ("PFOA", "a fluorinated compound of the PFAS family, the 'forever chemicals'"),
        "pesticides": ("pesticides in the air", "crop protection products"),
        "S-metolachlor": ("S-metolachlor", "a herbicide sprayed on crops"),
        "microplastics": ("microplastics", "small fragments of plastic in the air"),
        "TRWP": ("tyre and road wear particles", "the finest, which stay in the air"),
        "TRWP_coarse": ("coarse tyre and road wear particles", "which settle near the roads"),
    },
}

#: The units of the emerging species' levels: (unit as written, factor from the output's
#: unit, its words the first time). Masses are written in the largest unit that keeps the
#: level at 0.1 or more.
EMERGING_UNITS: dict[str, dict[str, tuple[str, float, str]]] = {
    "fr": {
        "ug": ("µg/m³", 1.0, "microgrammes par mètre cube"),
        "ng": ("ng/m³", 1e3, "nanogrammes par mètre cube, des milliardièmes de gramme"),
        "pg": (
            "pg/m³",
            1e6,
            "picogrammes par mètre cube, des millièmes de milliardième de gramme",
        ),  # fmt: skip
        "number": ("particules/cm³", 1.0, "particules par centimètre cube d'air"),
    },
    "en": {
        "ug": ("µg/m³", 1.0, "micrograms per cubic metre"),
        "ng": ("ng/m³", 1e3, "nanograms per cubic metre, billionths of a gram"),
        "pg": ("pg/m³", 1e6, "picograms per cubic metre, thousandths of a billionth of a gram"),
        "number": ("particles/cm³", 1.0, "particles per cubic centimetre of air"),
    },
}


#: Plain titles of the zone variables in the table of an output whose ``zone`` labels are
#: the neighbourhoods themselves (a variable not listed keeps its ``long_name``).
ZONE_TITLES: dict[str, dict[str, str]] = {
    "fr": {
        "zone_exposure": "moyenne respirée sur l'année, pondérée par le nombre d'habitants",
        "zone_inhabitants": "habitants",
    },
    "en": {
        "zone_exposure": "mean breathed over the year, weighted by the number of inhabitants",
        "zone_inhabitants": "inhabitants",
    },
}


#: What the exposure zones are called when ``[exposure] zones_name`` is not set: the priority
#: neighbourhoods of urban policy (QPV). ``short`` after "les"/"the", ``long`` the first time,
#: ``row`` the header of a table with a row per zone. A name given keeps its words for
#: ``short`` and ``long``, and the generic ``row``.
ZONES_NAME: dict[str, dict[str, str]] = {
    "fr": {
        "short": "quartiers prioritaires",
        "long": "quartiers prioritaires de la politique de la ville",
        "row": "Quartier",
        "generic_row": "Zone",
    },
    "en": {
        "short": "priority neighbourhoods",
        "long": "priority neighbourhoods of urban policy",
        "row": "Neighbourhood",
        "generic_row": "Zone",
    },
}


class Named(NamedTuple):
    """A species named inside a sentence, each form with its own article (French nouns differ
    in gender and number, and elide before a vowel)."""

    #: the plain name, no article (``dioxyde d'azote``)
    name: str
    #: with the definite article (``le dioxyde d'azote``, ``les particules...``, ``l'ammoniac``)
    the: str
    #: after "de" with the definite article (``la moyenne du dioxyde d'azote``, ``des
    #: particules...``, ``de l'ammoniac``)
    of_the: str
    #: after a quantity or "niveau" (``10 µg/m³ de dioxyde d'azote``, ``le niveau d'ammoniac``)
    of: str
    #: the ending a past participle takes to agree with it (``respiré`` + ``""``, ``"es"``...)
    agree: str


def _fr(name: str, article: str, agree: str, of: str = "de ") -> Named:
    """The French forms of `name`: `article` is its definite article (``le``, ``la``,
    ``l'``, ``les``), `agree` the ending of a participle agreeing with it, `of` what comes
    before it after a quantity (``d'`` before a vowel)."""
    of_the = {"le": "du ", "la": "de la ", "l'": "de l'", "les": "des "}[article]
    the = article if article == "l'" else article + " "
    return Named(name, the + name, of_the + name, of + name, agree)


def _en(name: str) -> Named:
    return Named(name, name, "of " + name, "of " + name, "")


#: Every species of the registry (``data/species.toml``) named inside a sentence, in each
#: language: its plain name and the forms with their articles (:class:`Named`). The plain
#: names are those of :data:`POLLUTANTS` and :data:`EMERGING` (a test checks it).
SPECIES_WORDS: dict[str, dict[str, Named]] = {
    "fr": {
        "NOx": _fr("oxydes d'azote", "les", "s", of="d'"),
        "NO2": _fr("dioxyde d'azote", "le", ""),
        "PM10": _fr("particules de moins de 10 micromètres", "les", "es"),
        "PM2.5": _fr("particules de moins de 2,5 micromètres", "les", "es"),
        "SO2": _fr("dioxyde de soufre", "le", ""),
        "NH3": _fr("ammoniac", "l'", "", of="d'"),
        "NMVOC": _fr("composés organiques volatils non méthaniques", "les", "s"),
        "UFP": _fr("particules ultrafines", "les", "es"),
        "PFAS": _fr("PFAS", "les", "s"),
        "PFOA": _fr("PFOA", "le", ""),
        "pesticides": _fr("pesticides dans l'air", "les", "s"),
        "S-metolachlor": _fr("S-métolachlore", "le", ""),
        "microplastics": _fr("microplastiques", "les", "s"),
        "TRWP": _fr("particules d'usure des pneus et des routes", "les", "es"),
        "TRWP_coarse": _fr("grosses particules d'usure des pneus et des routes", "les", "es"),
    },
    "en": {
        "NOx": _en("nitrogen oxides"),
        "NO2": _en("nitrogen dioxide"),
        "PM10": _en("particles smaller than 10 micrometres"),
        "PM2.5": _en("particles smaller than 2.5 micrometres"),
        "SO2": _en("sulphur dioxide"),
        "NH3": _en("ammonia"),
        "NMVOC": _en("non-methane volatile organic compounds"),
        "UFP": _en("ultrafine particles"),
        "PFAS": _en("PFAS"),
        "PFOA": _en("PFOA"),
        "pesticides": _en("pesticides in the air"),
        "S-metolachlor": _en("S-metolachlor"),
        "microplastics": _en("microplastics"),
        "TRWP": _en("tyre and road wear particles"),
        "TRWP_coarse": _en("coarse tyre and road wear particles"),
    },
}

#: Small counts in words (``trois polluants``); larger ones are written in digits.
COUNTS: dict[str, tuple[str, ...]] = {
    "fr": ("zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix"),
    "en": ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"),
}


def count_words(n: int, lang: str) -> str:
    """`n` in words up to ten (:data:`COUNTS`), in digits above."""
    return COUNTS[lang][n] if 0 <= n < len(COUNTS[lang]) else str(n)


def takes_plural(value: float, lang: str) -> bool:
    """Whether a noun counted by `value` (as the page shows it) takes the plural: in French
    from 2 up (``0 habitant``, ``1 habitant``, ``2 habitants``); in English all but one."""
    if value != value:  # NaN: a dash, read as "some"
        return True
    return abs(value) >= 2 if lang == "fr" else abs(value) != 1


#: How :func:`year_spans` words a lone year and a span of years, and joins them.
_SPANS: dict[str, tuple[str, str, str]] = {
    "fr": ("en {0}", "de {0} à {1}", " et "),
    "en": ("in {0}", "from {0} to {1}", " and "),
}


def year_spans(years: Iterable[int], lang: str) -> str:
    """Years in words, consecutive ones as one span: ``de 1990 à 1994 et en 2019``.

    Examples
    --------
    >>> year_spans([2019, 1990, 1991, 1992], "fr")
    'de 1990 à 1992 et en 2019'
    >>> year_spans([2010, 2012, 2013], "en")
    'in 2010 and from 2012 to 2013'
    """
    one, span, last = _SPANS[lang]
    runs: list[list[int]] = []
    for y in sorted({int(y) for y in years}):
        if runs and y == runs[-1][-1] + 1:
            runs[-1].append(y)
        else:
            runs.append([y])
    words = [span.format(r[0], r[-1]) if len(r) > 1 else one.format(r[0]) for r in runs]
    return ", ".join(words[:-1]) + last + words[-1] if len(words) > 1 else "".join(words)


#: How :func:`year_list` joins its years, and words a span of them.
_LIST: dict[str, tuple[str, str]] = {"fr": ("{0} à {1}", " et "), "en": ("{0} to {1}", " and ")}


def year_list(years: Iterable[int], lang: str) -> str:
    """Years as a list, consecutive ones as one span: ``1990 à 1994, 2010 et 2023``
    (after « les années »).

    Examples
    --------
    >>> year_list([2023, 1990, 2010], "fr")
    '1990, 2010 et 2023'
    >>> year_list([1990, 1991, 1992, 2023], "en")
    '1990 to 1992 and 2023'
    """
    span, last = _LIST[lang]
    runs: list[list[int]] = []
    for y in sorted({int(y) for y in years}):
        if runs and y == runs[-1][-1] + 1:
            runs[-1].append(y)
        else:
            runs.append([y])
    words = [span.format(r[0], r[-1]) if len(r) > 1 else str(r[0]) for r in runs]
    return ", ".join(words[:-1]) + last + words[-1] if len(words) > 1 else "".join(words)


#: One cut of a scenario (``scenario_json`` of a scenario output) in words: the sector's
#: plain name, the percentage removed, where, and from which year.
SCENARIO_CUT: dict[str, dict[str, str]] = {
    "fr": {
        "cut": "{sector} : émissions réduites de {percent} % {where}, à partir de {year}",
        "everywhere": "partout",
        "here": "sur ce territoire seulement",
        "there": "sur le territoire « {name} » seulement",
    },
    "en": {
        "cut": "{sector}: emissions cut by {percent} % {where}, from {year}",
        "everywhere": "everywhere",
        "here": "in this territory only",
        "there": 'in the territory "{name}" only',
    },
}
