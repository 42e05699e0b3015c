"""Emission sectors: the GNFR nomenclature and its mapping to the French SECTEN groups.

GNFR (Gridding Nomenclature For Reporting) is the sector list of the EMEP/CEIP gridded
reporting under the CLRTAP (EMEP/CEIP, *Reporting Guidelines*, ECE/EB.AIR/125, annex IV).
SECTEN is the sector grouping of Citepa's national reports (Citepa, *Rapport Secten*).
The mapping below is the usual correspondence of the large groups; pass your own mapping
to :func:`map_sectors` when a series uses another split.
"""

from __future__ import annotations

from collections.abc import Mapping

from trajectoire._validate import normalise_vocabulary
from trajectoire.errors import InputError

__all__ = ["GNFR", "GNFR_NAMES", "SECTEN", "SECTEN_OF_GNFR", "map_sectors", "normalise_sector"]

GNFR_NAMES: dict[str, str] = {
    "A_PublicPower": "Public electricity and heat production",
    "B_Industry": "Industrial combustion and processes",
    "C_OtherStationaryComb": "Other stationary combustion (residential, commercial)",
    "D_Fugitive": "Fugitive emissions from fuels",
    "E_Solvents": "Solvent and product use",
    "F_RoadTransport": "Road transport",
    "G_Shipping": "Shipping",
    "H_Aviation": "Aviation",
    "I_OffRoad": "Off-road mobile machinery",
    "J_Waste": "Waste",
    "K_AgriLivestock": "Agriculture: livestock",
    "L_AgriOther": "Agriculture: other (crops, soils)",
    "M_Other": "Other sources",
}
GNFR: tuple[str, ...] = tuple(GNFR_NAMES)

SECTEN: tuple[str, ...] = (
    "energy",
    "industry",
    "residential_tertiary",
    "road_transport",
    "other_transport",
    "agriculture",
    "waste",
    "other",
)

SECTEN_OF_GNFR: dict[str, str] = {
    "A_PublicPower": "energy",
    "B_Industry": "industry",
    "C_OtherStationaryComb": "residential_tertiary",
    "D_Fugitive": "energy",
    "E_Solvents": "industry",
    "F_RoadTransport": "road_transport",
    "G_Shipping": "other_transport",
    "H_Aviation": "other_transport",
    "I_OffRoad": "other_transport",
    "J_Waste": "waste",
    "K_AgriLivestock": "agriculture",
    "L_AgriOther": "agriculture",
    "M_Other": "other",
}

_SHORT = {name.split("_", 1)[0].lower(): name for name in GNFR}
_SHORT.update({name.lower(): name for name in GNFR})
_SHORT.update({name.split("_", 1)[1].lower(): name for name in GNFR})


_EXPECTED_SECTOR = (
    f"a GNFR id among {list(GNFR)} (or its letter, e.g. 'F'). "
    "Map other nomenclatures with map_sectors()."
)


def normalise_sector(name: str, *, what: str = "sector") -> str:
    """Return the canonical GNFR id for a sector name.

    Accepts the full id (``"F_RoadTransport"``), its letter (``"F"``) or its suffix
    (``"RoadTransport"``), case-insensitively.

    Parameters
    ----------
    name : str
        A sector name.
    what : str, default "sector"
        Where the name comes from (a file and column, a configuration key), used in the
        error message.

    Returns
    -------
    str
        The GNFR id, one of :data:`GNFR`.

    Raises
    ------
    trajectoire.InputError
        If the name is not a GNFR sector.

    Examples
    --------
    >>> normalise_sector("f")
    'F_RoadTransport'
    """
    return normalise_vocabulary(
        name, GNFR_NAMES, _SHORT, what=what, kind="sector", expected=_EXPECTED_SECTOR
    )


def map_sectors(
    sectors: list[str], mapping: Mapping[str, str] | None = None, *, what: str = "sector"
) -> list[str]:
    """Map GNFR sector ids to groups (SECTEN by default, or a user mapping).

    Parameters
    ----------
    sectors : list of str
        GNFR ids (or aliases accepted by :func:`normalise_sector`).
    mapping : mapping of str to str, optional
        GNFR id to group. Defaults to :data:`SECTEN_OF_GNFR`.
    what : str
        Context for error messages.

    Returns
    -------
    list of str
        The group of each sector, in order.

    Raises
    ------
    trajectoire.InputError
        If a sector has no entry in the mapping.
    """
    table = dict(SECTEN_OF_GNFR if mapping is None else mapping)
    out = []
    for s in sectors:
        canon = normalise_sector(s, what=what)
        if canon not in table:
            raise InputError(
                f"{what}: sector {canon!r} has no group in the mapping; add it "
                f"(mapping keys: {sorted(table)})."
            )
        out.append(table[canon])
    return out
