"""``python3 -m wedge SUBCOMMAND ...``: the package's command line.

Each subcommand lives in its own module, which provides ``main(argv) -> int`` parsing
``[SUBCOMMAND, *arguments]``; this front door only lists them and dispatches. A new subcommand is
one entry in ``SUBCOMMANDS``.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

#: subcommand -> (module of the package that implements it, one line for --help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "report": ("report", "write PNG figures and index.html for a results file"),
    "compare": ("paired", "paired comparison of two scenarios on the same random numbers (as `wedge compare`)"),
    "explore": ("explorer", "serve the what-if page on 127.0.0.1: change parameters, see the outcomes move"),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python3 -m wedge",
        description="wedge's Python tools: analyse the files `wedge run --out` writes, explore scenarios in the browser.",
        epilog="`python3 -m wedge SUBCOMMAND --help` describes a subcommand's arguments.")
    sub = parser.add_subparsers(dest="command", metavar="SUBCOMMAND", required=True)
    for name, (_, help_text) in SUBCOMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs a subcommand; returns its exit code (2 for bad usage or input)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in SUBCOMMANDS:
        # No subcommand, --help, or an unknown one: argparse prints the list (or the error, exit 2).
        _parser().parse_args(args)
        return 2
    module = importlib.import_module(f".{SUBCOMMANDS[args[0]][0]}", __package__)
    return int(module.main(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
