"""Pollutants known to trajectoire: ids, names, units of emission and concentration.

The ids are the ones used as coordinate labels on the ``pollutant`` dimension. Regulated
pollutants carry a mass (emissions in ``t yr-1``, concentrations in ``ug m-3``); ultrafine
particles carry a number (emissions in ``yr-1`` particles, concentrations in ``cm-3``).
"""

from __future__ import annotations

from dataclasses import dataclass

from trajectoire._validate import normalise_vocabulary

__all__ = ["POLLUTANTS", "REGULATED", "Pollutant", "get_pollutant", "normalise_pollutant"]


@dataclass(frozen=True)
class Pollutant:
    """Description of one pollutant.

    Attributes
    ----------
    id : str
        Coordinate label (``"NOx"``, ``"PM2.5"``...).
    name : str
        Human-readable name.
    emission_units : str
        Units of a yearly emission per cell (UDUNITS spelling).
    concentration_units : str
        Units of an ambient concentration.
    molar_mass : float or None
        [g mol-1], for gases (NOx counted as NO2).
    linear : bool
        Whether concentration is linear in emissions in trajectoire's model (False for NO2,
        which is derived from NOx by a non-linear conversion).
    emerging : bool
        One of the emerging pollutants studied by the regional programme.
    """

    id: str
    name: str
    emission_units: str = "t yr-1"
    concentration_units: str = "ug m-3"
    molar_mass: float | None = None
    linear: bool = True
    emerging: bool = False


POLLUTANTS: dict[str, Pollutant] = {
    p.id: p
    for p in [
        Pollutant("NOx", "nitrogen oxides (as NO2)", molar_mass=46.0055),
        Pollutant("NO2", "nitrogen dioxide", molar_mass=46.0055, linear=False),
        Pollutant("PM10", "particulate matter < 10 um"),
        Pollutant("PM2.5", "particulate matter < 2.5 um"),
        Pollutant("SO2", "sulphur dioxide", molar_mass=64.066),
        Pollutant("NH3", "ammonia", molar_mass=17.031),
        Pollutant("NMVOC", "non-methane volatile organic compounds"),
        Pollutant(
            "UFP",
            "ultrafine particle number",
            emission_units="yr-1",
            concentration_units="cm-3",
            emerging=True,
        ),
        Pollutant("PFAS", "per- and polyfluoroalkyl substances", emerging=True),
        Pollutant("pesticides", "airborne pesticides", emerging=True),
        Pollutant("microplastics", "tyre and road wear microplastics", emerging=True),
    ]
}

REGULATED: tuple[str, ...] = ("NOx", "NO2", "PM10", "PM2.5", "SO2", "NH3", "NMVOC")

_ALIASES = {
    "nox": "NOx",
    "no2": "NO2",
    "pm10": "PM10",
    "pm2.5": "PM2.5",
    "pm2_5": "PM2.5",
    "pm25": "PM2.5",
    "so2": "SO2",
    "sox": "SO2",
    "nh3": "NH3",
    "nmvoc": "NMVOC",
    "covnm": "NMVOC",
    "ufp": "UFP",
    "pfas": "PFAS",
    "pesticides": "pesticides",
    "microplastics": "microplastics",
}


_EXPECTED_POLLUTANT = (
    f"one of {list(POLLUTANTS)} (case-insensitive aliases such as 'PM2_5' or 'SOx' are accepted)."
)


def normalise_pollutant(name: str, *, what: str = "pollutant") -> str:
    """Return the canonical id of a pollutant name, accepting common spellings.

    Parameters
    ----------
    name : str
        A pollutant id or alias (case-insensitive): ``"nox"``, ``"PM2_5"``, ``"SOx"``...
    what : str
        Where the name comes from, used in the error message.

    Returns
    -------
    str
        The canonical id, a key of :data:`POLLUTANTS`.

    Raises
    ------
    trajectoire.InputError
        If the name is not a known pollutant.

    Examples
    --------
    >>> normalise_pollutant("pm2_5")
    'PM2.5'
    """
    return normalise_vocabulary(
        name, POLLUTANTS, _ALIASES, what=what, kind="pollutant", expected=_EXPECTED_POLLUTANT
    )


def get_pollutant(name: str) -> Pollutant:
    """Return the :class:`Pollutant` for an id or alias (see :func:`normalise_pollutant`)."""
    return POLLUTANTS[normalise_pollutant(name)]
