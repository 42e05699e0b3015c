"""Draw the figures of ``docs/plots.md`` from a run's output into ``docs/img/``.

Usage (from the repository root)::

    trajectoire run data/sample/config.toml --out /tmp/s.nc --years 2019:2023
    python docs/gallery.py /tmp/s.nc --config data/sample/config.toml

``--config`` (the run's configuration) adds the change decomposition between the first and
last years of the output (:func:`trajectoire.batch.pipeline.decompose_change`, which computes
the dispersion of both years again: a minute or so on the sample). The target plot uses the
stations' annual means over the years of the output (the FAIRMODE guidance uses hourly
series; the output holds annual means only).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import xarray as xr

import trajectoire
from trajectoire import plot

HERE = Path(__file__).parent


def _save(fig, path: Path) -> None:
    fig.savefig(path, dpi=90)
    print(f"{path}  {path.stat().st_size / 1024:.0f} kB")


def main(argv: list[str] | None = None) -> int:
    """Render every figure of the gallery; returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="NetCDF written by trajectoire run")
    parser.add_argument("--config", type=Path, help="the run's configuration (change bars)")
    parser.add_argument("--out", type=Path, default=HERE / "img", help="folder of the PNGs")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    ds = trajectoire.open_output(args.output)
    years = [int(y) for y in ds["year"].values]
    map_years = ds.trajectoire.map_years or years
    year = map_years[-1]
    figures: dict[str, Callable[[], tuple]] = {
        "map_concentration": lambda: plot.map(ds, year=year, pollutant="NO2"),
        "map_emission": lambda: plot.map(
            ds, "emission", year=year, pollutant="NOx", sector="F_RoadTransport"
        ),
        "trajectories_emission": lambda: plot.trajectories(ds, territory="MEL", pollutant="NOx"),
        "trajectories_concentration_fr": lambda: plot.trajectories(
            ds, variable="concentration", territory="MEL", pollutant="PM2.5", lang="fr"
        ),
        "source_receptor": lambda: plot.source_receptor(ds, year=year, pollutant="NOx"),
        "exposure_distribution": lambda: plot.exposure_distribution(ds, year=year, pollutant="NO2"),
    }
    if "station_observation" in ds and len(years) >= 3:

        def target() -> tuple:
            from trajectoire.assess.evaluation import mqi

            model = ds["station_concentration"].sel(pollutant="NO2").load()
            observed = ds["station_observation"].sel(pollutant="NO2").load()
            return plot.target_plot(mqi(model, observed, pollutant="NO2", dim="year"))

        figures["target_plot"] = target
    if args.config is not None:

        def change() -> tuple:
            from trajectoire.batch import pipeline
            from trajectoire.io.config import load_config

            ctx = pipeline.prepare(load_config(args.config))
            split: xr.Dataset = pipeline.decompose_change(ctx, years[0], years[-1])
            return plot.change_bars(split, pollutant="NO2")

        figures["change_bars"] = change
    for name, draw in figures.items():
        fig, _ = draw()
        _save(fig, args.out / f"{name}.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
