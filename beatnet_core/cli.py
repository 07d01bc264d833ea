"""The ``beatnet`` command: thin wrappers around the library, one function per subcommand.

Each subcommand is registered by an ``_add_<name>(subparsers)`` function below
and runs a ``_run_<name>(args)`` function; the work itself lives in the library.
"""
from __future__ import annotations

import argparse
import sys

from beatnet_core.ecg import ECGFormatError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="beatnet", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for add in _SUBCOMMANDS:
        add(sub)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ECGFormatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


_SUBCOMMANDS: list = []


def subcommand(add):
    """Register a function that adds one subcommand's parser."""
    _SUBCOMMANDS.append(add)
    return add


if __name__ == "__main__":
    raise SystemExit(main())
