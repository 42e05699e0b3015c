"""Pollutants known to trajectoire: ids, names, units of emission and concentration.

The ids are the ones used as coordinate labels on the ``pollutant`` dimension. Regulated
pollutants carry a mass (emissions in ``t yr-1``, concentrations in ``ug m-3``); ultrafine
particles carry a number (emissions in ``yr-1`` particles, concentrations in ``cm-3``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from trajectoire._validate import normalise_vocabulary

__all__ = [
    "DEPOSITION_REFERENCES",
    "POLLUTANTS",
    "REGULATED",
    "Pollutant",
    "get_pollutant",
    "normalise_pollutant",
]


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
    deposition_velocity : float
        Representative dry deposition velocity [m s-1] at about 1-2 m over mixed
        (urban, grass and crop) land in north-western Europe; 0 for the species whose dry
        deposition the model leaves out. Used when a run turns ``[dispersion]
        dry_deposition`` on; ``[dispersion] deposition_velocity`` overrides it. Sources in
        :data:`DEPOSITION_REFERENCES`.
    half_life : float or None
        Half-life [s] of a first-order loss that applies to the species (None: none).
        Reference data: a run does not apply it yet.
    """

    id: str
    name: str
    emission_units: str = "t yr-1"
    concentration_units: str = "ug m-3"
    molar_mass: float | None = None
    linear: bool = True
    emerging: bool = False
    deposition_velocity: float = 0.0
    half_life: float | None = None

    @property
    def decay_rate(self) -> float:
        """First-order loss rate ``ln 2 / half_life`` [s-1] (0 without a half-life)."""
        return 0.0 if self.half_life is None else math.log(2.0) / self.half_life


POLLUTANTS: dict[str, Pollutant] = {
    p.id: p
    for p in [
        Pollutant("NOx", "nitrogen oxides (as NO2)", molar_mass=46.0055, deposition_velocity=0.001),
        Pollutant("NO2", "nitrogen dioxide", molar_mass=46.0055, linear=False),
        Pollutant("PM10", "particulate matter < 10 um", deposition_velocity=0.004),
        Pollutant("PM2.5", "particulate matter < 2.5 um", deposition_velocity=0.001),
        Pollutant(
            "SO2",
            "sulphur dioxide",
            molar_mass=64.066,
            deposition_velocity=0.008,
            half_life=4.0 * 3600.0,
        ),
        Pollutant("NH3", "ammonia", molar_mass=17.031, deposition_velocity=0.01),
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

DEPOSITION_REFERENCES: dict[str, str] = {
    "NH3": "1 cm s-1: the short-vegetation and arable value of the CLRTAP/APIS habitat "
    "deposition velocities (1-2 cm s-1 short vegetation, about 3 cm s-1 forest); Seinfeld "
    "and Pandis (2016) ch. 19 give 0.5-2 cm s-1.",
    "SO2": "0.8 cm s-1: Seinfeld and Pandis (2016) ch. 19 (about 1 cm s-1 over grass in "
    "daytime, 0.1-0.2 cm s-1 at night; Horvath et al. 1998 measured 0.19-0.20 cm s-1 "
    "unstable); Zhang et al. (2003) land-use means. Half-life 4 h: the ISC3 / AERMOD "
    "default for SO2 in urban mode (US EPA 1995, EPA-454/B-95-003b, the decay term).",
    "NOx": "0.1 cm s-1: NO barely deposits (< 0.05 cm s-1), NO2 0.1-0.5 cm s-1 (Seinfeld "
    "and Pandis 2016 ch. 19); near sources NOx is mostly NO.",
    "PM2.5": "0.1 cm s-1: accumulation-mode particles, the minimum of the Slinn / Zhang et "
    "al. (2001) size curve (0.05-0.2 cm s-1).",
    "PM10": "0.4 cm s-1: coarse particles 2.5-10 um, settling and impaction (Zhang et al. "
    "2001; Seinfeld and Pandis 2016 fig. 19.2: 0.3-1 cm s-1).",
}
"""Where each :attr:`Pollutant.deposition_velocity` (and half-life) comes from."""

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
