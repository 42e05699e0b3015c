"""Assessment: exposure, station tables and sampling, evaluation statistics and data fusion."""

from __future__ import annotations

from trajectoire.assess import evaluation, exposure, fusion, stations
from trajectoire.assess.evaluation import (
    CRITERIA,
    FAIRMODE_PARAMETERS,
    FairmodeParameters,
    acceptance,
    annual_uncertainty,
    evaluate,
    fairmode_parameters,
    measurement_uncertainty,
    mqi,
    mqi_network,
)
from trajectoire.assess.exposure import (
    EU_2030_LIMITS,
    WHO_2021_GUIDELINES,
    population_above,
    population_weighted_mean,
)
from trajectoire.assess.fusion import (
    Variogram,
    cross_validate,
    empirical_variogram,
    fit_variogram,
    fuse,
    idw_interpolate,
    krige,
    kriging_weights,
)
from trajectoire.assess.stations import (
    observations_from_table,
    read_stations,
    sample_at_stations,
    station_table,
)

__all__ = [
    "CRITERIA",
    "EU_2030_LIMITS",
    "FAIRMODE_PARAMETERS",
    "WHO_2021_GUIDELINES",
    "FairmodeParameters",
    "Variogram",
    "acceptance",
    "annual_uncertainty",
    "cross_validate",
    "empirical_variogram",
    "evaluate",
    "evaluation",
    "exposure",
    "fairmode_parameters",
    "fit_variogram",
    "fuse",
    "fusion",
    "idw_interpolate",
    "krige",
    "kriging_weights",
    "measurement_uncertainty",
    "mqi",
    "mqi_network",
    "observations_from_table",
    "population_above",
    "population_weighted_mean",
    "read_stations",
    "sample_at_stations",
    "station_table",
    "stations",
]
