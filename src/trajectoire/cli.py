"""Command-line entry point ``trajectoire`` (a thin shell over the public API).

Commands::

    trajectoire sample DIR [--overwrite]
    trajectoire run CONFIG --out OUT.nc [--years 1990:2023] [--resume]
                    [--workers N | --scheduler ADDRESS] [-q] [-v]
    trajectoire info OUT.nc
    trajectoire export OUT.nc --year Y [--pollutant P] [--sector S]
                       [--variable concentration] --format geotiff [--out FILE]
    trajectoire scenario CONFIG --from OUT.nc --out S.nc [--recompute] [--years 2020:2023]
    trajectoire report OUT.nc --territory MEL [--lang fr] [--out rapport-MEL.html]
                       [--scenario S.nc] [--pdf]
    trajectoire streets CONFIG --run OUT.nc [--points P.csv] [--years 2019:2019]
                        [--kerb-distance 10] [--radius 1000] [--out roadside.csv]
    trajectoire --version

Exit codes: 0 success; 2 bad input (a :class:`~trajectoire.errors.TrajectoireError`: one
line ``trajectoire: error: ...`` on stderr) or a usage error; 130 interrupted (Ctrl-C) and
143 terminated (SIGTERM), one line; any other exception is a bug and keeps its traceback
(exit code 1). The command shows each
:class:`~trajectoire.errors.TrajectoireWarning` (data it corrected or left out) as one line
on stderr, like the log: ``... WARNING trajectoire: ...`` while a command logs, else
``trajectoire: warning: ...``; other warnings keep Python's form.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from trajectoire._version import __version__
from trajectoire.errors import ConfigError, TrajectoireError, TrajectoireWarning

__all__ = ["console", "main"]

log = logging.getLogger("trajectoire")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="trajectoire",
        description="Air-pollutant emission and concentration trajectories, 1990 to today.",
    )
    p.add_argument("--version", action="version", version=f"trajectoire {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    s = sub.add_parser("sample", help="write the bundled sample inputs and a config.toml")
    s.add_argument("dir", type=Path, metavar="DIR", help="directory to write (created)")
    s.add_argument("--overwrite", action="store_true", help="replace existing files")

    r = sub.add_parser("run", help="run the whole chain and write one CF NetCDF")
    r.add_argument("config", type=Path, metavar="CONFIG", help="run configuration (TOML)")
    r.add_argument("--out", "-o", type=_file_arg, required=True, metavar="OUT.nc", help="output")
    r.add_argument(
        "--years",
        action=_Once,
        metavar="FIRST:LAST",
        help="years to compute, e.g. 1990:2023 or 1990,2000:2005 (default: the config's)",
    )
    r.add_argument(
        "--resume",
        action="store_true",
        help="reuse the finished years of an interrupted run (OUT.nc.parts/); an output already finished from this configuration is kept",
    )
    g = r.add_mutually_exclusive_group()
    g.add_argument("--workers", type=int, metavar="N", help="start a local Dask cluster")
    g.add_argument(
        "--scheduler", metavar="ADDRESS", help="use a dask.distributed scheduler (tcp://...)"
    )
    r.add_argument("-q", "--quiet", action="store_true", help="no progress bar, warnings only")
    r.add_argument("-v", "--verbose", action="store_true", help="debug logging")

    i = sub.add_parser("info", help="human summary of an output NetCDF")
    i.add_argument("path", type=Path, metavar="OUT.nc")

    c = sub.add_parser(
        "scenario", help="emission cuts from a [scenario] table, from a run's contributions"
    )
    c.add_argument("config", type=Path, metavar="CONFIG", help="TOML file with a [scenario]")
    c.add_argument(
        "--from", dest="baseline", type=Path, required=True, metavar="OUT.nc", help="the run"
    )
    c.add_argument("--out", "-o", type=_file_arg, required=True, metavar="S.nc", help="output")
    c.add_argument(
        "--recompute",
        action="store_true",
        help="rerun the chain on the scaled emissions (maps of territory cuts, NO2 exposure); "
        "needs the run configuration ([scenario] run_config or the one OUT.nc names)",
    )
    c.add_argument(
        "--years", action=_Once, metavar="FIRST:LAST", help="years to recompute (with --recompute)"
    )
    c.add_argument("-q", "--quiet", action="store_true", help="warnings only")

    e = sub.add_parser("export", help="export one map of an output to GeoTIFF")
    e.add_argument("path", type=Path, metavar="OUT.nc")
    e.add_argument("--year", type=int, required=True)
    e.add_argument(
        "--pollutant",
        help="pollutant of the map (for variables per pollutant: all but population, mask)",
    )
    e.add_argument("--sector", help="GNFR sector (for per-sector variables)")
    e.add_argument("--variable", default="concentration")
    e.add_argument("--format", choices=["geotiff"], default="geotiff")
    e.add_argument("--out", "-o", type=_file_arg, help="file to write (default: derived name)")

    rep = sub.add_parser("report", help="one self-contained HTML report of a territory")
    rep.add_argument("path", type=Path, metavar="OUT.nc")
    rep.add_argument("--territory", "-t", required=True, help="territory id (MEL, CUD...)")
    rep.add_argument("--lang", default="fr", help="fr (default) or en")
    rep.add_argument(
        "--out",
        "-o",
        type=_file_arg,
        help="HTML file (default: rapport-ID.html beside OUT.nc, report-ID.html with --lang en)",
    )
    rep.add_argument("--scenario", type=Path, metavar="S.nc", help="a scenario output to compare")
    rep.add_argument("--pdf", action="store_true", help="also print a PDF (headless Chromium)")

    st = sub.add_parser(
        "streets",
        help="roadside values at stations or streets: roads as line sources (and canyons)",
    )
    st.add_argument("config", type=Path, metavar="CONFIG", help="the run configuration")
    st.add_argument("--run", type=Path, required=True, metavar="OUT.nc", help="the run's output")
    st.add_argument(
        "--points",
        type=Path,
        metavar="P.csv",
        help="id, x, y [grid CRS] and optional canyon columns (default: the config's stations)",
    )
    st.add_argument(
        "--years", action=_Once, metavar="FIRST:LAST", help="years (default: the output's)"
    )
    st.add_argument(
        "--kerb-distance", type=float, help="evaluate the lines this far [m] from the nearest road"
    )
    st.add_argument("--radius", type=float, default=1000.0, help="window of local roads [m]")
    st.add_argument("--out", "-o", type=_file_arg, help="CSV to write (default: print)")
    return p


def _file_arg(text: str) -> str:
    """The type of the ``--out`` options: the text as written, so that a trailing separator
    (``newdir/``, which :class:`~pathlib.Path` drops) can be refused (:func:`_output`)."""
    return text


def _output(text: str | Path | None, example: str) -> Path | None:
    """``--out`` as a path (None when not given), refused in one line when written as a
    directory (``--out newdir/``: a file ``newdir`` would be written); an existing
    directory is refused by :func:`trajectoire.io.netcdf.check_writable`."""
    from trajectoire.io.netcdf import refuse_directory_name

    if text is None:
        return None
    refuse_directory_name(text, "--out", example)
    return Path(text)


class _Once(argparse.Action):
    """Store an option's value, refusing the option given twice (``--years 2018 --years
    2019`` kept the last without a word): a :class:`ConfigError` raised by the command."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        given = getattr(namespace, self.dest, None)
        if given is not None:
            repeats = getattr(namespace, "_repeated", [])
            namespace._repeated = [*repeats, (option_string or self.dest, given, values)]
        setattr(namespace, self.dest, values)


def _check_once(args: argparse.Namespace) -> None:
    """The first option given twice (:class:`_Once`), in one line."""
    for option, first, second in getattr(args, "_repeated", [])[:1]:
        raise ConfigError(
            f"{option} given twice ({first!r}, then {second!r}); give it once: several "
            f"years go in one value, e.g. {option} {first},{second} or a range first:last."
        )


@contextlib.contextmanager
def _logging_to_stderr(level: int) -> Iterator[None]:
    """Send the ``trajectoire`` logger to stderr at `level` while a command runs."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    old_level, old_propagate = log.level, log.propagate
    log.addHandler(handler)
    log.setLevel(level)
    log.propagate = False
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.setLevel(old_level)
        log.propagate = old_propagate


def _cmd_sample(args: argparse.Namespace) -> int:
    from trajectoire.sample import write_sample  # written alongside; imported only when used

    config = write_sample(args.dir, overwrite=args.overwrite)
    print(f"wrote the sample inputs to {args.dir}")
    print(f"next: trajectoire run {config} --out {Path(args.dir) / 'out.nc'}")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from trajectoire.batch.runner import run
    from trajectoire.io.config import load_config, parse_years
    from trajectoire.io.netcdf import check_writable

    # the inputs and what lies at --out are checked by run(), once the configuration is read
    given = _output(args.out, "out.nc")
    assert given is not None  # --out is required
    out = check_writable(given, what="--out", reads={"the configuration file": args.config})
    config = load_config(args.config)
    years = parse_years(args.years) if args.years is not None else None
    if args.workers is not None and args.workers < 1:
        raise ConfigError(f"--workers must be >= 1, got {args.workers}.")
    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    with _logging_to_stderr(level), _terminate_as_interrupt():
        path = run(
            config,
            out,
            years=years,
            resume=args.resume,
            workers=args.workers,
            scheduler=args.scheduler,
            progress=not args.quiet,
        )
    if not args.quiet:
        print(f"wrote {path}")
        print(f"next: trajectoire info {path}")
    return 0


class RunTerminated(KeyboardInterrupt):
    """Raised in the main thread when the run receives SIGTERM (as Ctrl-C would)."""


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM into an exception while the run lasts, so that it cleans up as on Ctrl-C:
    the part being written is finished or removed, the lock is released, and a run that
    finished no year leaves nothing behind."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise RunTerminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _cmd_info(args: argparse.Namespace) -> int:
    from trajectoire.io.netcdf import check_output, summary

    check_output(args.path)
    print(summary(args.path))
    return 0


def _cmd_scenario(args: argparse.Namespace) -> int:
    from trajectoire.io.config import parse_years
    from trajectoire.io.netcdf import check_writable
    from trajectoire.scenario import (
        apply_scenario,
        load_scenario,
        recompute_scenario,
        run_config_of,
        summary,
        write_scenario,
    )

    reads = {"the scenario's configuration": args.config, "the baseline output": args.baseline}
    given = _output(args.out, "scenario.nc")
    assert given is not None  # --out is required
    out = check_writable(given, what="--out", kind="NetCDF", reads=reads)
    scenario = load_scenario(args.config)
    if args.years is not None and not args.recompute:
        raise ConfigError("--years selects the years of --recompute; add --recompute.")
    level = logging.WARNING if args.quiet else logging.INFO
    with _logging_to_stderr(level):
        if args.recompute:
            ds = recompute_scenario(
                run_config_of(scenario, args.baseline),
                scenario,
                baseline=args.baseline,
                years=parse_years(args.years) if args.years is not None else None,
            )
        else:
            ds = apply_scenario(args.baseline, scenario)
        path = write_scenario(ds, out)
    if not args.quiet:
        print(summary(ds))
        print(f"wrote {path}")
    return 0


def _write_beside_input(
    args: argparse.Namespace,
    default_name: str,
    write: Callable[..., Path | list[Path]],
    options: tuple[str, ...],
    kind: str,
    reads: dict[str, Path | None],
    beside: dict[str, str] | None = None,
) -> int:
    """Run ``write(args.path, out, **options)`` for a command that reads an output file.

    ``out`` is ``--out``, by default `default_name` beside the input ``args.path``; it is
    checked writable before anything is read, and may be none of `reads` (the files the
    command reads besides ``args.path``) nor an existing file of another `kind`; so are
    the files `write` puts beside it (`beside`: ``{suffix: kind}``, the report's PDF).
    `options` name the parsed options passed on under their own names. Prints each file
    written.
    """
    from trajectoire.io.netcdf import check_writable

    out = _output(args.out, default_name) or args.path.with_name(default_name)
    reads = {"the output given (OUT.nc)": args.path, **reads}
    for suffix, other in (beside or {}).items():
        check_writable(Path(out).with_suffix(suffix), what=f"--out (its {other})", kind=other,
                       reads=reads)  # fmt: skip
    check_writable(out, what="--out", example=default_name, kind=kind, reads=reads)
    written = write(args.path, out, **{k: getattr(args, k) for k in options})
    for path in written if isinstance(written, list) else [written]:
        print(f"wrote {path}")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from trajectoire.io.netcdf import export_geotiff

    if args.pollutant is not None:
        _check_pollutant_of_map(args.path, args.variable, args.pollutant)
    pollutant = args.pollutant.replace(".", "") if args.pollutant else None
    parts = [args.variable, pollutant, args.sector, str(args.year)]
    name = "_".join(p for p in parts if p) + ".tif"
    return _write_beside_input(
        args, name, export_geotiff, ("variable", "year", "pollutant", "sector"), "GeoTIFF", {}
    )


def _check_pollutant_of_map(path: Path, variable: str, pollutant: str) -> None:
    """``export --pollutant`` for a map without a pollutant dimension (``population``,
    ``mask``): the library's map takes it as nothing to select, but the command would name
    the file after it (``population_NO2_2020.tif``); one line instead. Other problems
    (no file, no such variable) are left to the export's own messages."""
    import xarray as xr

    from trajectoire.errors import InputError

    try:
        with xr.open_dataset(path, decode_cf=False, cache=False) as ds:
            dims = set(ds[variable].dims) if variable in ds.variables else None
            per_pollutant = sorted(
                str(v)
                for v in ds.data_vars
                if {"y", "x"} <= set(ds[v].dims)
                and {"pollutant", "pollutant_number"} & set(ds[v].dims)
            )
    except Exception:  # noqa: BLE001 - said by the export itself
        return
    if dims is not None and {"y", "x"} <= dims and not {"pollutant", "pollutant_number"} & dims:
        raise InputError(
            f"{path}: {variable} has no pollutant dimension (one map for all pollutants), so "
            f"--pollutant {pollutant!r} selects nothing; drop --pollutant, or choose a "
            f"variable given per pollutant: {', '.join(per_pollutant) or 'none in this file'}."
        )


def _cmd_report(args: argparse.Namespace) -> int:
    from trajectoire.geo.territories import territory_id
    from trajectoire.report import write_report

    args.lang = args.lang.strip().lower()  # "EN" as "en", as the territories' ids are taken
    stem = "rapport" if args.lang == "fr" else "report"
    # the id as the stable list spells it ("douaisis": rapport-DOUAISIS.html); another
    # territory's as given (the report resolves it against the output's ids)
    name = f"{stem}-{territory_id(args.territory.strip())}.html"
    return _write_beside_input(
        args, name, write_report, ("territory", "lang", "scenario", "pdf"), "HTML",
        {"--scenario": args.scenario}, beside={".pdf": "PDF"} if args.pdf else None,
    )  # fmt: skip


def _cmd_streets(args: argparse.Namespace) -> int:
    """Roadside values of a run at stations or streets (``docs/roads.md``)."""
    from trajectoire.batch.streets import roadside_values_of_run
    from trajectoire.io.config import load_config, parse_years
    from trajectoire.io.netcdf import atomic_path, check_writable

    if not args.radius > 0:  # NaN too
        raise ConfigError(f"--radius {args.radius:g}: expected a window > 0 [m], e.g. 1000.")
    if args.kerb_distance is not None and not args.kerb_distance >= 0:
        raise ConfigError(
            f"--kerb-distance {args.kerb_distance:g}: expected a distance >= 0 [m] from the "
            "nearest road, e.g. 10 (leave it out to evaluate at the points)."
        )
    given = _output(args.out, "roadside.csv")
    cfg = load_config(args.config)
    out = None
    if given is not None:  # checked before anything is computed; an input is not replaced
        reads = {**cfg.files_read(), "the run's output (--run)": args.run, "--points": args.points}
        out = check_writable(given, what="--out", example="roadside.csv", kind="CSV", reads=reads)
    table = roadside_values_of_run(
        cfg,
        args.run,
        points=args.points,
        years=parse_years(args.years) if args.years is not None else None,
        radius=args.radius,
        kerb_distance=args.kerb_distance,
    )
    if out is not None:
        with atomic_path(out) as tmp:
            table.to_csv(tmp, index=False)
        print(f"wrote {out} ({len(table)} rows)")
    else:
        cols = ["year", "id", "pollutant", "road_distance", "increment", "grid_value", "roadside"]
        print(table[cols].round(3).to_string(index=False))
    return 0


_COMMANDS = {
    "sample": _cmd_sample,
    "run": _cmd_run,
    "info": _cmd_info,
    "export": _cmd_export,
    "scenario": _cmd_scenario,
    "report": _cmd_report,
    "streets": _cmd_streets,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 2 bad input or usage).

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 2 for bad input (one ``trajectoire: error: ...`` line on stderr) or
        a usage error, 130 when interrupted (Ctrl-C) and 143 when terminated (SIGTERM), at
        any moment of the command (one line). Other exceptions are bugs and propagate with
        their traceback.
    """
    command = None
    try:
        parser = _parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help, --version (0) and usage errors (2)
            return int(exc.code or 0)
        command = args.command
        if command is None:
            parser.print_help()
            return 0
        _check_once(args)
        if command in ("run", "scenario", "streets"):  # the commands that compute
            from trajectoire.batch.runner import check_numba_cache

            check_numba_cache()
        return _COMMANDS[command](args)
    except TrajectoireError as exc:
        print(f"trajectoire: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        return _interrupted(exc, command)


def _interrupted(exc: KeyboardInterrupt, command: str | None) -> int:
    """Say in one line that the command was interrupted (Ctrl-C) or terminated (SIGTERM),
    whenever it came (while the command starts too); the exit code a shell reports for
    it (130, 143)."""
    what = "terminated (SIGTERM)" if isinstance(exc, RunTerminated) else "interrupted"
    hint = (
        " Run again with --resume to keep the years already finished." if command == "run" else ""
    )
    print(f"trajectoire: {what}.{hint}", file=sys.stderr)
    return 128 + (signal.SIGTERM if isinstance(exc, RunTerminated) else signal.SIGINT)


@contextlib.contextmanager
def _warnings_as_lines() -> Iterator[None]:
    """Show trajectoire's warnings as one line each on stderr instead of Python's two
    (``path/to/module.py:385: TrajectoireWarning: ...`` and the source line): through the
    ``trajectoire`` logger while a command logs, else as ``trajectoire: warning: ...``.
    Other warnings point at code, not data, and keep Python's form."""
    previous = warnings.showwarning

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: Any = None,
        line: str | None = None,
    ) -> None:
        if not issubclass(category, TrajectoireWarning):
            previous(message, category, filename, lineno, file, line)
        elif log.handlers:
            log.warning("%s", message)
        else:
            print(f"trajectoire: warning: {message}", file=sys.stderr)

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = previous


def console() -> None:
    """The ``trajectoire`` command: :func:`main` on ``sys.argv``, trajectoire's warnings
    one line each, and the process's exit status set to :func:`main`'s code.

    :func:`main` itself leaves the display of warnings alone, so that a script or a test
    that calls it still records them with :mod:`warnings`.
    """
    try:
        with _warnings_as_lines():
            code = main()
        sys.stdout.flush()
    except KeyboardInterrupt as exc:  # outside main's own handler (a flush, the warnings)
        code = _interrupted(exc, None)
    except BrokenPipeError:
        # the reader of stdout went away (`trajectoire info OUT.nc | head -1`): stop quietly,
        # as other commands do, instead of a traceback; Python flushes stdout again at exit,
        # so it is pointed at /dev/null first
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = 141  # 128 + SIGPIPE, what a shell reports for a command stopped so
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    console()
