"""The ``ds.trajectoire`` accessor: common questions asked of a run's output, by name.

Importing :mod:`trajectoire` registers it on every :class:`xarray.Dataset`::

    import trajectoire
    ds = trajectoire.open_output("out.nc")
    ds.trajectoire.grid                                        # the Grid of the maps
    no2 = ds.trajectoire.map(year=2020, pollutant="NO2")       # checked (y, x) selection
    ds.trajectoire.source_receptor(pollutant="PM2.5")          # territory x territory [ug m-3]
    ds.trajectoire.sector_shares(weighting="population")       # shares of the exposure
    ds.trajectoire.emission_methods(pollutant="NOx")           # "extrapolation"... by year
    ds.trajectoire.to_geotiff("road.tif", "contribution", year=2020, pollutant="NOx",
                              sector="F_RoadTransport")
    fig, ax = ds.trajectoire.plot.map(year=2020, pollutant="NO2")  # trajectoire.plot

It is a thin layer over :func:`trajectoire.io.select_map`,
:func:`trajectoire.attribution.source_receptor_matrix`,
:func:`trajectoire.io.netcdf.decode_flags` and
:func:`trajectoire.io.export_geotiff`; the variables and dims it reads are those of
``docs/outputs.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Unpack

import numpy as np
import xarray as xr

from trajectoire.errors import InputError, MissingVariableError
from trajectoire.geo.grid import Grid

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from trajectoire.io.netcdf import MapSelection

__all__ = ["PlotAccessor", "TrajectoireAccessor"]

_WEIGHTINGS = {
    "area": ("territory_contribution", "territory_concentration"),
    "population": ("exposure_contribution", "exposure"),
}


@xr.register_dataset_accessor("trajectoire")
class TrajectoireAccessor:
    """``ds.trajectoire``: grid, maps, territory matrices and shares of an output dataset."""

    def __init__(self, ds: xr.Dataset) -> None:
        self._ds = ds

    # ------------------------------------------------------------------ properties
    @property
    def grid(self) -> Grid:
        """The :class:`~trajectoire.grid.Grid` of the maps (from ``x``, ``y`` and ``crs``)."""
        return Grid.from_xarray(self._ds)

    @property
    def map_years(self) -> list[int]:
        """Years with full contribution maps (global attribute ``map_years``)."""
        from trajectoire.io.netcdf import years_attribute

        return years_attribute(self._ds.attrs.get("map_years"))

    @property
    def plot(self) -> PlotAccessor:
        """Figures of this dataset (:mod:`trajectoire.plot`): ``ds.trajectoire.plot.map(...)``."""
        return PlotAccessor(self._ds)

    # ------------------------------------------------------------------ maps
    def map(
        self, variable: str = "concentration", **selection: Unpack[MapSelection]
    ) -> xr.DataArray:
        """One ``(y, x)`` map, inputs checked (see :func:`trajectoire.io.select_map`).

        Parameters
        ----------
        variable : str, default "concentration"
            ``concentration`` [ug m-3], ``contribution`` [ug m-3] or ``emission`` [t yr-1].
        **selection
            ``year``, ``pollutant`` and ``sector``: see
            :class:`trajectoire.io.netcdf.MapSelection`.

        Returns
        -------
        xarray.DataArray
            Dims ``(y, x)``, the variable's attributes (``units``...).
        """
        from trajectoire.io.netcdf import select_map

        return select_map(self._ds, variable, **selection)[0]

    def to_geotiff(
        self,
        path: str | Path,
        variable: str = "concentration",
        **selection: Unpack[MapSelection],
    ) -> Path:
        """Write one map as a GeoTIFF that QGIS reads with its CRS (as ``trajectoire export``).

        Parameters are those of :meth:`map`; returns `path`. See
        :func:`trajectoire.io.export_geotiff` for the file written.
        """
        from trajectoire.io.netcdf import map_to_geotiff

        return map_to_geotiff(self._ds, path, variable, **selection)

    # ------------------------------------------------------------------ attribution
    def _pair(
        self, weighting: str, pollutant: str | None = None
    ) -> tuple[xr.DataArray, xr.DataArray]:
        """The contribution and total variables of `weighting`; those of the particle-number
        species (``*_number``, on ``pollutant_number`` renamed ``pollutant``) when
        `pollutant` is one of them."""
        from trajectoire.species import species_view

        ds = species_view(self._ds, pollutant)
        if weighting not in _WEIGHTINGS:
            raise InputError(
                f"weighting={weighting!r}: expected 'area' (territory means) or 'population' "
                "(population-weighted means, the exposure)."
            )
        names = _WEIGHTINGS[weighting]
        missing = [n for n in names if n not in ds.data_vars]
        if missing:
            raise MissingVariableError(
                f"the dataset has no {missing}: is it the output of `trajectoire run` "
                "(which writes them)?"
            )
        return ds[names[0]], ds[names[1]]

    def source_receptor(
        self, *, pollutant: str | None = None, weighting: str = "area"
    ) -> xr.DataArray:
        """Territory-to-territory matrix: the part of each receptor territory's mean
        concentration due to the emissions of each territory of origin (and ``rest``).

        Parameters
        ----------
        pollutant : str, optional
            Keep one pollutant (default: all).
        weighting : {"area", "population"}, default "area"
            Area means (``territory_contribution``) or population-weighted means
            (``exposure_contribution``).

        Returns
        -------
        xarray.DataArray
            ``(year, receptor, origin[, pollutant])`` [ug m-3]; a row sums to the receptor's
            local concentration (its mean minus the background), sectors summed.
        """
        from trajectoire.attribution import source_receptor_matrix

        contrib, _ = self._pair(weighting, pollutant)
        if pollutant is not None:
            contrib = self._select(contrib, self._pollutant(pollutant, contrib))
        return source_receptor_matrix(contrib)

    def sector_shares(
        self, *, pollutant: str | None = None, weighting: str = "area"
    ) -> xr.DataArray:
        """Share of each sector, and of the background, in the territories' concentration.

        Parameters
        ----------
        pollutant : str, optional
            Keep one pollutant (default: all).
        weighting : {"area", "population"}, default "area"
            Shares of the territory mean or of the population-weighted mean (exposure).

        Returns
        -------
        xarray.DataArray
            ``(year, receptor, sector[, pollutant])``, dimensionless; ``sector`` holds the
            GNFR sectors (all origins together) and a last label ``background``. For linear
            pollutants the shares add up to 1 (NO2: see ``docs/attribution.md``).
        """
        contrib, total = self._pair(weighting, pollutant)
        if pollutant is not None:  # before dividing: the others may be 0 everywhere
            pol = self._pollutant(pollutant, contrib)
            contrib, total = self._select(contrib, pol), self._select(total, pol)
        if "territory" in total.dims:  # exposure is (year, territory, pollutant)
            total = total.rename(territory="receptor")
        by_sector = contrib.sum("origin")
        background = (total - by_sector.sum("sector")).expand_dims(sector=["background"])
        parts = xr.concat([by_sector, background], dim="sector", join="exact")
        # a concentration of 0 (TRWP_coarse, deposited where emitted) has no shares: NaN
        shares = parts / total.where(total != 0)
        shares.attrs = {"units": "1", "long_name": f"share of the {weighting}-weighted mean"}
        return shares

    # ------------------------------------------------------------------ trajectory
    def emission_methods(self, *, pollutant: str | None = None) -> xr.DataArray:
        """How each year's emission of each sector was rebuilt, in words.

        The flags of ``emission_method`` decoded (:func:`trajectoire.io.netcdf.decode_flags`),
        the particle-number species' (``emission_method_number``) after the masses' on the
        one ``pollutant`` dim: flags have no units, so they need no variable of their own
        here.

        Parameters
        ----------
        pollutant : str, optional
            Keep one pollutant (default: all).

        Returns
        -------
        xarray.DataArray
            ``(year, sector[, pollutant])`` of str: ``reference``, ``anchor`` (an inventory
            of the year), ``interpolation`` (between two of them), ``index``, ``overlap``,
            ``surrogate`` (the nearest inventory scaled by a trend series),
            ``extrapolation`` (the trend extended beyond its series) or ``no_emission`` (the
            sector emits none of the pollutant in any year of the run).

        Raises
        ------
        trajectoire.MissingVariableError
            The dataset has no ``emission_method`` (an output of an earlier version).
        trajectoire.InputError
            `pollutant` is not in the dataset.

        Examples
        --------
        >>> from trajectoire.io.outputs import EMISSION_METHOD_FLAGS
        >>> flags = xr.DataArray(
        ...     np.array([[[6]], [[2]], [[0]]], dtype=np.int8),
        ...     dims=("year", "sector", "pollutant"),
        ...     coords={"year": [2016, 2017, 2018], "sector": ["F_RoadTransport"],
        ...             "pollutant": ["NOx"]},
        ...     attrs={"flag_values": np.arange(len(EMISSION_METHOD_FLAGS), dtype=np.int8),
        ...            "flag_meanings": " ".join(EMISSION_METHOD_FLAGS)})
        >>> ds = xr.Dataset({"emission_method": flags})
        >>> ds.trajectoire.emission_methods(pollutant="NOx").values.ravel().tolist()
        ['extrapolation', 'interpolation', 'reference']
        """
        from trajectoire.io.netcdf import decode_flags
        from trajectoire.species import NUMBER_SUFFIX

        ds = self._ds
        if "emission_method" not in ds.data_vars:
            raise MissingVariableError(
                "the dataset has no 'emission_method': it is the output of a version that did "
                "not write how each year's emission was rebuilt; run it again with this one "
                "(its global attribute trajectory_methods names each sector's method)."
            )
        parts = [decode_flags(ds["emission_method"])]
        number = f"emission_method{NUMBER_SUFFIX}"
        if number in ds.data_vars and "pollutant_number" in ds[number].dims:
            parts.append(decode_flags(ds[number]).rename(pollutant_number="pollutant"))
        labels = xr.concat(parts, dim="pollutant", join="exact") if len(parts) > 1 else parts[0]
        labels = labels.rename("emission_method")
        if pollutant is not None:
            labels = self._select(labels, self._pollutant(pollutant, labels))
        return labels

    @staticmethod
    def _pollutant(pollutant: str, da: xr.DataArray) -> str:
        from trajectoire.species import normalise_pollutant

        pol = normalise_pollutant(pollutant, what="pollutant")
        if "pollutant" not in da.coords:
            raise MissingVariableError(
                f"pollutant={pollutant!r}: the dataset has no 'pollutant' coordinate (was it "
                "selected away with .isel(pollutant=0, drop=True)?); select the pollutant with "
                "this keyword on the whole output instead."
            )
        # a pollutant selected before (ds.sel(pollutant="NO2")) is a scalar coordinate
        have = [str(v) for v in np.atleast_1d(da["pollutant"].values)]
        if pol not in have:
            raise InputError(f"pollutant {pol!r} is not in the dataset; have {have}.")
        return pol

    @staticmethod
    def _select(da: xr.DataArray, pol: str) -> xr.DataArray:
        """`da` of pollutant `pol` (checked by :meth:`_pollutant`): selected along the
        ``pollutant`` dim, or `da` itself when that dim was already selected."""
        return da.sel(pollutant=pol) if "pollutant" in da.dims else da

    def __repr__(self) -> str:
        sizes: dict[Any, int] = dict(self._ds.sizes)
        return f"<trajectoire accessor over a dataset of dims {sizes}>"


class PlotAccessor:
    """``ds.trajectoire.plot``: the functions of :mod:`trajectoire.plot` bound to a dataset.

    Each method calls the function of the same name with the dataset as first argument and
    returns ``(fig, ax)``; matplotlib is imported on the first call only. ``target_plot`` and
    ``change_bars`` expect the dataset to be an MQI table (:func:`trajectoire.mqi`) or a change
    decomposition (:func:`trajectoire.batch.pipeline.decompose_change`).
    """

    def __init__(self, ds: xr.Dataset) -> None:
        self._ds = ds

    def map(self, variable: str = "concentration", **kwargs: Any) -> tuple[Figure, Axes]:
        """:func:`trajectoire.plot.map` of this dataset."""
        from trajectoire import plot

        return plot.map(self._ds, variable, **kwargs)

    def trajectories(self, **kwargs: Any) -> tuple[Figure, Axes]:
        """:func:`trajectoire.plot.trajectories` of this dataset."""
        from trajectoire import plot

        return plot.trajectories(self._ds, **kwargs)

    def source_receptor(self, **kwargs: Any) -> tuple[Figure, Axes]:
        """:func:`trajectoire.plot.source_receptor` of this dataset."""
        from trajectoire import plot

        return plot.source_receptor(self._ds, **kwargs)

    def exposure_distribution(self, **kwargs: Any) -> tuple[Figure, Axes]:
        """:func:`trajectoire.plot.exposure_distribution` of this dataset."""
        from trajectoire import plot

        return plot.exposure_distribution(self._ds, **kwargs)

    def target_plot(self, **kwargs: Any) -> tuple[Figure, Axes]:
        """:func:`trajectoire.plot.target_plot` of this dataset (an MQI table)."""
        from trajectoire import plot

        return plot.target_plot(self._ds, **kwargs)

    def change_bars(self, **kwargs: Any) -> tuple[Figure, Axes]:
        """:func:`trajectoire.plot.change_bars` of this dataset (a change decomposition)."""
        from trajectoire import plot

        return plot.change_bars(self._ds, **kwargs)

    def __repr__(self) -> str:
        return (
            "<trajectoire plot accessor: map, trajectories, source_receptor, "
            "exposure_distribution, target_plot, change_bars>"
        )
