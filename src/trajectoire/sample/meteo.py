"""Synthetic hourly meteorology, background and station observations of the bundled sample.

Private helpers of :mod:`trajectoire.sample`. Every year is generated from its own seed
(``[seed, 5, year]``), so that a year's weather does not depend on the range asked for.

The weather is a stochastic weather generator shaped on the climate of Lille-Lesquin
(Météo-France normals 1991-2020: mean temperature about 11 degC, prevailing south-westerly
winds, mean 10 m wind speed about 4.5-5 m s-1, frequent overcast skies):

* synoptic regimes (south-west, north-east, north-west, south-east) persist a few days
  (geometric durations, mean 60 h); the wind direction wanders around the regime direction
  as an AR(1) process;
* wind speed has a Weibull marginal (shape 1.9) through a Gaussian copula of an AR(1)
  process, with seasonal and diurnal cycles and lighter winds in clear nights;
* cloud cover (okta) is a thresholded AR(1) process with a realistic okta histogram;
* temperature = seasonal cycle + cloud-dependent diurnal cycle + synoptic AR(1) anomaly +
  regime effect + a yearly anomaly and a warming trend.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import signal, special, stats
from scipy.interpolate import PchipInterpolator

__all__: list[str] = []

#: Regimes: mean direction [deg from], probability, speed factor, cloud shift [sd],
#: winter / summer temperature effect [K].
REGIMES: tuple[tuple[float, float, float, float, float, float], ...] = (
    (225.0, 0.42, 1.12, 0.35, 1.5, -0.5),  # south-west: mild, wet, windy (Atlantic)
    (45.0, 0.20, 0.95, -0.55, -2.5, 1.5),  # north-east: continental high, dry
    (310.0, 0.20, 1.00, 0.15, -1.0, -1.5),  # north-west: showery, cool
    (150.0, 0.18, 0.80, -0.25, 0.5, 2.0),  # south-east: light winds, warm in summer
)
#: Okta histogram (0..8) of the hourly cloud cover.
OKTA_P = np.array([0.07, 0.06, 0.06, 0.07, 0.08, 0.10, 0.14, 0.22, 0.20])


def _ar1(rng: np.random.Generator, n: int, phi: float) -> np.ndarray:
    """Stationary AR(1) series with unit variance and lag-1 autocorrelation `phi`."""
    e = rng.normal(0.0, np.sqrt(1.0 - phi**2), n)
    e[0] = rng.normal()
    return signal.lfilter([1.0], [1.0, -phi], e)


def meteo_year(seed: int, year: int) -> pd.DataFrame:
    """Hourly surface meteorology for one year (UTC, every hour)."""
    rng = np.random.default_rng([seed, 5, year])
    time = pd.date_range(f"{year}-01-01", f"{year + 1}-01-01", freq="h", inclusive="left")
    n = time.size
    hour = time.hour.to_numpy()
    doy = time.day_of_year.to_numpy().astype(float) + hour / 24.0
    season = np.cos(2 * np.pi * (doy - 18.0) / 365.25)  # +1 mid-January, -1 mid-July

    # yearly character
    dir_shift = rng.normal(0.0, 8.0)
    speed_factor = rng.normal(1.0, 0.05)
    temp_anomaly = rng.normal(0.0, 0.5) + 0.035 * (year - 2006)
    probs = np.array([r[1] for r in REGIMES]) * rng.lognormal(0.0, 0.15, len(REGIMES))
    probs /= probs.sum()

    # regime sequence with persistence
    regimes = np.empty(0, dtype=np.int64)
    while regimes.size < n:
        k = rng.choice(len(REGIMES), size=64, p=probs)
        d = rng.geometric(1.0 / 60.0, size=64)
        regimes = np.concatenate([regimes, np.repeat(k, d)])
    regimes = regimes[:n]
    reg = np.array(REGIMES)
    mean_dir = reg[regimes, 0] + dir_shift
    # smooth the regime changes over ~6 hours (directions through their unit vectors)
    ker = np.ones(7) / 7.0
    ux = np.convolve(np.cos(np.radians(mean_dir)), ker, "same")
    uy = np.convolve(np.sin(np.radians(mean_dir)), ker, "same")
    mean_dir = np.degrees(np.arctan2(uy, ux))

    # cloud cover
    z_cloud = _ar1(rng, n, 0.95)
    z_cloud = z_cloud + np.convolve(reg[regimes, 3], ker, "same") + 0.3 * season
    z_cloud /= np.sqrt(1.0 + 0.35**2)
    thresholds = stats.norm.ppf(np.cumsum(OKTA_P)[:-1])
    okta = np.searchsorted(thresholds, z_cloud).astype(np.int64)
    clear = okta <= 2

    # wind speed: Weibull marginal via Gaussian copula
    z_speed = _ar1(rng, n, 0.97)
    u = np.clip(stats.norm.cdf(z_speed), 1e-9, 1 - 1e-9)
    shape_k = 1.9
    lam = 4.8 / special.gamma(1 + 1 / shape_k) * speed_factor  # mean speed ~4.7 m s-1
    diurnal = 1.0 + 0.22 * np.cos(2 * np.pi * (hour - 13.0) / 24.0)
    night = (hour < 6) | (hour >= 19)
    stable_damp = np.where(night & clear, 0.72, 1.0)
    scale = lam * np.convolve(reg[regimes, 2], ker, "same") * (1.0 + 0.12 * season)
    speed = scale * diurnal * stable_damp * (-np.log1p(-u)) ** (1.0 / shape_k)
    speed = np.minimum(speed, 21.0)  # hourly means above ~21 m s-1 are not seen inland

    # direction: regime mean plus an AR(1) wander (more wander in light winds)
    wander = _ar1(rng, n, 0.98) * 25.0 + rng.normal(0.0, 8.0, n) * (1.0 + 2.0 / (1.0 + speed))
    direction = np.mod(mean_dir + wander, 360.0)

    # temperature [degC]
    okta_f = okta.astype(float)
    amp = 4.8 - 0.45 * okta_f  # half diurnal range: ~5 K clear, ~1.2 K overcast
    amp = amp * (1.0 - 0.3 * season)
    t_diurnal = amp * np.cos(2 * np.pi * (hour - 14.0) / 24.0)
    t_regime = np.convolve(
        np.where(season > 0, reg[regimes, 4] * season, -reg[regimes, 5] * season), ker, "same"
    )
    temp_c = 10.9 - 7.0 * season + t_diurnal + 2.6 * _ar1(rng, n, 0.992) + t_regime + temp_anomaly
    return pd.DataFrame(
        {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "wind_speed": np.round(speed, 1),
            "wind_direction": (np.round(direction / 10.0) * 10.0).astype(np.int64) % 360,
            "cloud_cover": okta,
            "temperature": np.round(temp_c + 273.15, 1),
        }
    )


def meteo(seed: int, first_year: int, last_year: int) -> pd.DataFrame:
    """Hourly meteorology for every year of ``first_year..last_year``."""
    return pd.concat(
        [meteo_year(seed, y) for y in range(first_year, last_year + 1)], ignore_index=True
    )


# --------------------------------------------------------------------------- background
#: Regional background [ug m-3] at anchor years, shaped on rural stations of northern France.
BACKGROUND_ANCHORS: dict[str, dict[int, float]] = {
    "NO2": {1990: 18.0, 2000: 16.0, 2010: 13.0, 2019: 10.0, 2023: 9.0},
    "NOx": {1990: 25.0, 2000: 22.0, 2010: 17.5, 2019: 13.0, 2023: 11.5},
    "PM10": {1990: 26.0, 2000: 23.0, 2010: 19.0, 2019: 15.0, 2023: 14.0},
    "PM2.5": {1990: 17.0, 2000: 15.5, 2010: 13.0, 2019: 9.0, 2023: 8.0},
    "SO2": {1990: 10.0, 2000: 5.0, 2010: 2.0, 2019: 1.1, 2023: 1.0},
    "NH3": {1990: 3.0, 2000: 3.1, 2010: 3.2, 2019: 3.4, 2023: 3.4},
    "NMVOC": {1990: 15.0, 2000: 12.0, 2010: 9.0, 2019: 7.5, 2023: 7.0},
}


def _curve(anchors: dict[int, float], years: np.ndarray) -> np.ndarray:
    ys = np.array(sorted(anchors), float)
    vs = np.log([anchors[int(y)] for y in ys])
    f = PchipInterpolator(ys, vs)
    inside = np.clip(years, ys[0], ys[-1]).astype(float)
    return np.exp(f(inside))


def background(seed: int, first_year: int, last_year: int) -> pd.DataFrame:
    """Regional background per year and pollutant [ug m-3] (``background.csv``)."""
    rng = np.random.default_rng([seed, 9])
    years = np.arange(first_year, last_year + 1)
    common = rng.lognormal(0.0, 0.04, years.size)  # meteorological year-to-year factor
    rows: list[tuple[int, str, float]] = []
    for p, anchors in BACKGROUND_ANCHORS.items():
        v = _curve(anchors, years) * common * rng.lognormal(0.0, 0.02, years.size)
        digits = 2 if p == "SO2" else 1
        rows.extend((int(y), p, round(float(x), digits)) for y, x in zip(years, v, strict=True))
    return pd.DataFrame(rows, columns=["year", "pollutant", "value"])


# --------------------------------------------------------------------------- stations
#: Urban background levels [ug m-3] at anchor years (NO2 plateau in the 1990s, 2020 dip).
URBAN_ANCHORS: dict[str, dict[int, float]] = {
    "NO2": {
        1990: 44.0,
        1995: 45.0,
        2000: 42.0,
        2005: 38.0,
        2010: 33.0,
        2015: 28.0,
        2019: 25.0,
        2023: 21.0,
    },
    "PM10": {1990: 34.0, 1998: 30.0, 2005: 27.0, 2010: 24.0, 2015: 21.0, 2019: 18.5, 2023: 17.0},
    "PM2.5": {2008: 17.0, 2012: 15.5, 2015: 13.0, 2019: 11.0, 2023: 9.5},
    "SO2": {1990: 20.0, 1995: 14.0, 2000: 8.0, 2005: 5.0, 2010: 3.0, 2015: 2.0, 2023: 1.5},
}
INDUSTRIAL_SO2 = {1990: 35.0, 1995: 28.0, 2000: 18.0, 2005: 12.0, 2010: 7.0, 2015: 5.0, 2023: 3.5}
#: Level of each station type relative to urban background.
TYPE_FACTOR = {
    "urban": {"NO2": 1.0, "PM10": 1.0, "PM2.5": 1.0, "SO2": 1.0},
    "traffic": {"NO2": 1.55, "PM10": 1.25, "PM2.5": 1.15, "SO2": 1.0},
    "industrial": {"NO2": 0.85, "PM10": 1.2, "PM2.5": 1.1, "SO2": 1.0},
}
#: Station programme: start year, and the years each pollutant is measured (first, last).
PROGRAMME: dict[str, dict[str, tuple[int, int]]] = {
    "FR11025": {"NO2": (1990, 0), "PM10": (1996, 0), "PM2.5": (2008, 0), "SO2": (1990, 2008)},
    "FR11034": {"NO2": (1993, 0), "PM10": (1998, 0), "PM2.5": (2010, 0)},
    "FR11016": {"NO2": (1995, 0), "PM10": (2001, 0)},
    "FR11007": {"NO2": (2002, 0), "PM10": (2002, 0), "PM2.5": (2010, 0)},
    "FR10004": {"NO2": (1990, 0), "PM10": (1997, 0), "PM2.5": (2009, 0), "SO2": (1990, 2015)},
    "FR10012": {"NO2": (1990, 0), "PM10": (1998, 0), "SO2": (1990, 0)},
    "FR10034": {"NO2": (1998, 0), "PM10": (1998, 0), "PM2.5": (2012, 0), "SO2": (1998, 0)},
    "FR06003": {"NO2": (1992, 0), "PM10": (1999, 0), "PM2.5": (2009, 0)},
    "FR18055": {"NO2": (2000, 0), "PM10": (2000, 0), "PM2.5": (2011, 0)},
    "FR18019": {"NO2": (1996, 0), "PM10": (2003, 0)},
    "FR10132": {"NO2": (1997, 0), "PM10": (1997, 0), "PM2.5": (2009, 0)},
}
#: Stations with hourly observations in the last year.
HOURLY_STATIONS: tuple[str, ...] = ("FR11025", "FR11007", "FR10004", "FR10012")


def observations_annual(
    seed: int, stations: pd.DataFrame, bg: pd.DataFrame, first_year: int, last_year: int
) -> pd.DataFrame:
    """Synthetic annual means per station, year and pollutant [ug m-3]."""
    rng = np.random.default_rng([seed, 10])
    bgi = bg.set_index(["pollutant", "year"])["value"]
    rows: list[tuple[str, int, str, float]] = []
    for _, st in stations.iterrows():
        sid, typ = st["station_id"], st["type"]
        level = rng.lognormal(0.0, 0.1)
        for p, (start, stop) in PROGRAMME[sid].items():
            years = np.arange(max(start, first_year), (stop or last_year) + 1)
            if years.size == 0:
                continue
            if typ == "rural":
                base = np.array([bgi[(p, int(y))] for y in years]) * 1.05
            elif p == "SO2" and typ == "industrial":
                base = _curve(INDUSTRIAL_SO2, years)
            else:
                base = _curve(URBAN_ANCHORS[p], years) * TYPE_FACTOR[typ][p]
                if p == "PM2.5":
                    base = np.where(years < 2008, base * 1.0, base)
            covid = np.where(years == 2020, 0.85 if p == "NO2" else 0.95, 1.0)
            v = base * level * covid * rng.lognormal(0.0, 0.05, years.size)
            keep = rng.random(years.size) > 0.04  # a few missing years
            keep[years == last_year] = True
            digits = 1
            rows.extend(
                (sid, int(y), p, round(float(x), digits))
                for y, x, k in zip(years, v, keep, strict=True)
                if k
            )
    return pd.DataFrame(rows, columns=["station_id", "year", "pollutant", "value"])


def observations_hourly(
    seed: int, annual: pd.DataFrame, bg: pd.DataFrame, year: int, stations: pd.DataFrame
) -> pd.DataFrame:
    """Hourly NO2 and PM10 at :data:`HOURLY_STATIONS` for `year`, consistent with the
    annual means and with the sample meteorology of that year (higher in calm, stable hours).
    """
    rng = np.random.default_rng([seed, 11])
    met = meteo_year(seed, year)
    time = pd.to_datetime(met["time"].str.slice(0, 19))
    hour = time.dt.hour.to_numpy()
    weekday = time.dt.day_of_week.to_numpy()
    n = len(met)
    speed = np.maximum(met["wind_speed"].to_numpy(), 0.7)
    night = (hour < 6) | (hour >= 19)
    stable = night & (met["cloud_cover"].to_numpy() <= 3)
    dispersion = (1.0 / speed) * np.where(stable, 1.8, 1.0)
    season = np.cos(2 * np.pi * (time.dt.day_of_year.to_numpy() - 18.0) / 365.25)
    rush = (
        1.0
        + 0.9 * np.exp(-0.5 * ((hour - 7.0) / 1.5) ** 2)
        + 0.8 * np.exp(-0.5 * ((hour - 17.0) / 2.0) ** 2)
        - 0.5 * ((hour >= 0) & (hour < 5))
    ) * np.where(weekday >= 5, 0.7, 1.0)
    continental = np.isin(met["wind_direction"].to_numpy(), np.arange(0, 130, 10))
    episode = np.exp(0.45 * _ar1(rng, n, 0.995)) * np.where(continental, 1.4, 1.0)
    bgi = bg.set_index(["pollutant", "year"])["value"]
    ann = annual.set_index(["station_id", "year", "pollutant"])["value"]
    types = stations.set_index("station_id")["type"]
    rows = []
    for sid in HOURLY_STATIONS:
        for p in ("NO2", "PM10"):
            if (sid, year, p) not in ann.index:
                continue
            target = float(ann[(sid, year, p)])
            b = float(bgi[(p, year)])
            if p == "NO2":
                local_shape = rush * dispersion * (1.0 + 0.25 * season)
                if types[sid] == "industrial":
                    local_shape = dispersion * (1.0 + 0.1 * season)
                bg_shape = (1.0 + 0.3 * season) * np.exp(0.3 * _ar1(rng, n, 0.98))
            else:
                local_shape = (0.6 + 0.4 * rush) * dispersion * (1.0 + 0.3 * season)
                bg_shape = episode * (1.0 + 0.15 * season)
            noise = np.exp(0.25 * _ar1(rng, n, 0.9))
            local_shape = local_shape * noise
            share_bg = min(b / target, 0.9)
            value = target * (
                share_bg * bg_shape / bg_shape.mean()
                + (1 - share_bg) * local_shape / local_shape.mean()
            )
            keep = rng.random(n) > 0.02  # analyser gaps
            value = value[keep]
            value *= target / value.mean()  # the annual mean of the hourly values
            rows.append(
                pd.DataFrame(
                    {
                        "station_id": sid,
                        "time": met["time"].to_numpy()[keep],
                        "pollutant": p,
                        "value": np.round(value, 1),
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)
