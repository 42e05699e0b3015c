"""Command-line entry point ``trajectoire`` (a thin shell over the public API)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ._version import __version__
from .errors import TrajectoireError

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="trajectoire",
        description="Air-pollutant emission and concentration trajectories, 1990 to today.",
    )
    p.add_argument("--version", action="version", version=f"trajectoire {__version__}")
    p.add_subparsers(dest="command")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 2 bad input)."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            parser.print_help()
            return 0
    except TrajectoireError as exc:
        print(f"trajectoire: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
