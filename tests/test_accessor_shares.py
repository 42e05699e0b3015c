"""``ds.trajectoire.sector_shares`` of a run with a pollutant of zero concentration
(TRWP_coarse is deposited where it is emitted, never dispersed): the (dask) division of every
pollutant before the one asked was kept warned 'invalid value encountered in divide' (an
error under -W error), even for NOx."""

from __future__ import annotations

import numpy as np
import xarray as xr

import trajectoire  # noqa: F401  (the accessor)


def _output() -> xr.Dataset:
    years, receptors, origins = [2020], ["MEL", "CUD"], ["MEL", "rest"]
    sectors, pollutants = ["A_PublicPower", "F_RoadTransport"], ["NOx", "TRWP_coarse"]
    c = np.zeros((1, 2, 2, 2, 2))  # year, receptor, origin, sector, pollutant
    c[..., 0] = [[[1.0, 2.0], [0.5, 0.5]], [[3.0, 1.0], [0.0, 1.0]]]
    total = c.sum(axis=(2, 3)) + np.array([2.0, 0.0])  # background 2 for NOx, 0 for TRWP
    dims = ("year", "receptor", "origin", "sector", "pollutant")
    coords = {
        "year": years, "receptor": receptors, "origin": origins,
        "sector": sectors, "pollutant": pollutants,
    }  # fmt: skip
    return xr.Dataset(
        {
            "territory_contribution": (dims, c),
            "territory_concentration": (("year", "receptor", "pollutant"), total),
        },
        coords=coords,
    )


def test_sector_shares_of_one_pollutant_beside_a_zero_one() -> None:
    ds = _output().chunk()  # as open_output reads a run's file: dask divides, and warns
    shares = ds.trajectoire.sector_shares(pollutant="NOx").compute()  # warned before
    np.testing.assert_allclose(shares.sum("sector"), 1.0)
    np.testing.assert_allclose(shares.sel(receptor="MEL", sector="background"), 2.0 / 6.0)
    every = ds.trajectoire.sector_shares().compute()  # all pollutants: the zero one has no shares
    assert bool(every.sel(pollutant="TRWP_coarse").isnull().all())
    np.testing.assert_allclose(every.sel(pollutant="NOx"), shares)
