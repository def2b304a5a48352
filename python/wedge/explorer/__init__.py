"""``python3 -m wedge explore [EXPERIMENT.toml] [--port P] [--host H]``: ask "what if?" in the
browser and see the outcome distributions move as you ask.

:func:`serve` starts a local web server (127.0.0.1 unless ``host`` says otherwise), prints its
address, opens nothing, and serves until Ctrl-C. The page has one control per parameter of the
scenario in force (MODEL.md §4's keys, and one set per faction of that scenario: added factions
included, removed ones left out), grouped by actor, the outcome distributions with 95% intervals,
the paired difference from a reference scenario, a "why" panel that tells one run ending in a
chosen outcome, a one-key sweep and "save as TOML" (the starting experiment resolved, every key
and faction written out, with the page's changes: a file that extends nothing and reproduces the
page through `wedge run`). (The package is ``explorer`` so that ``wedge.explore`` stays the
function.)
"""
from __future__ import annotations

import argparse
import ipaddress
import pathlib
import signal
import sys
from typing import Sequence, Union

from .app import Explorer, RequestError, Superseded
from .server import ExploreServer, MissingChartJs

__all__ = ["serve", "make_server", "main", "Explorer", "ExploreServer", "RequestError", "Superseded"]


def make_server(experiment: Union[str, pathlib.Path, None] = None, port: int = 0, host: str = "127.0.0.1",
                runs: int | None = None, seed: int | None = None, threads: int | None = None) -> ExploreServer:
    """The server, bound but not yet serving (``server.serve_forever()``; ``server.port`` is the
    port, chosen by the system when ``port`` is 0). Raises ``wedge._core.ConfigError`` for a bad
    experiment (or a sweep), MissingChartJs without Debian's libjs-chart.js, OSError if the port is
    taken."""
    explorer = Explorer(experiment, runs=runs, seed=seed, threads=threads)
    names = set()
    try:
        ipaddress.ip_address(host)
    except ValueError:
        names.add(host.lower())
    return ExploreServer((host, port), explorer, allowed_names=names)


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host.lower() == "localhost"


def serve(experiment: Union[str, pathlib.Path, None] = None, port: int = 8765, host: str = "127.0.0.1",
          runs: int | None = None, seed: int | None = None, threads: int | None = None) -> None:
    """Serves the what-if page until Ctrl-C (or SIGTERM), then stops cleanly (running engine work
    is cancelled, every request thread joined).

    Parameters
    ----------
    experiment : path or None
        The single-point scenario the page starts from and compares against (None: the baseline).
    port : int
        TCP port (default 8765); 0 lets the system choose (the printed address says which).
    host : str
        The interface: 127.0.0.1 by default. Anything that is not a loopback address makes the
        page reachable from other machines (a warning is printed).
    runs, seed : int, optional
        The page's first run count (default 100,000) and seed (default the experiment's).
    threads : int, optional
        The engine's worker threads (default all cores).
    """
    server = make_server(experiment, port=port, host=host, runs=runs, seed=seed, threads=threads)
    name = f"[{host}]" if ":" in host else host
    if not _is_loopback(host):
        print(f"warning: serving on {host}: anyone who can reach this machine on port {server.port} can use the "
              "page and run the engine; use the default 127.0.0.1 unless you mean it", file=sys.stderr)
    print(f"wedge explore: {server.explorer.label} at http://{name}:{server.port}/ (Ctrl-C stops it)", flush=True)

    def stop(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.server_close()
        print("wedge explore: stopped", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """``python3 -m wedge explore ...``; returns the exit code (2 for bad input)."""
    parser = argparse.ArgumentParser(
        prog="python3 -m wedge explore",
        description="Serve the what-if page on this machine: change any parameter and see the outcome "
                    "distributions, the paired difference from a reference, one run's story and a one-key sweep.")
    parser.add_argument("experiment", nargs="?", help="a single-point scenario file (default: the baseline)")
    parser.add_argument("--port", type=int, default=8765, help="TCP port (default 8765; 0: any free port)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="interface to listen on (default 127.0.0.1; another one makes the page reachable "
                             "from other machines)")
    parser.add_argument("--runs", type=int, help="the page's first run count (default 100000)")
    parser.add_argument("--seed", type=int, help="the page's first seed (default: the experiment's)")
    parser.add_argument("--threads", type=int, help="engine worker threads (default: all cores)")
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["explore"]:  # as `python3 -m wedge` passes them
        arguments = arguments[1:]
    args = parser.parse_args(arguments)
    if not 0 <= args.port <= 65535:
        print(f"error: --port {args.port}: must be in [0, 65535]", file=sys.stderr)
        return 2
    from .. import _core

    try:
        serve(args.experiment, port=args.port, host=args.host, runs=args.runs, seed=args.seed, threads=args.threads)
    except (_core.ConfigError, TypeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except MissingChartJs as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        print(f"error: cannot listen on {args.host}:{args.port}: {err.strerror or err}", file=sys.stderr)
        return 3
    return 0
