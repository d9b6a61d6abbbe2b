"""The ``dupcert`` command: ``run`` (the operator), ``simulator`` and ``demo``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from collections.abc import Sequence

from dupcert import __version__


def _add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-n",
        "--namespace",
        action="append",
        default=[],
        help="namespace to watch; repeat for several (default: all namespaces)",
    )
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: in-cluster or KUBECONFIG)")
    parser.add_argument(
        "--liveness",
        metavar="URL",
        help="serve a liveness probe, such as http://0.0.0.0:8080/healthz",
    )
    parser.add_argument(
        "--standalone",
        action="store_true",
        help="run without Kopf peering (one operator per cluster, as the chart deploys it)",
    )
    parser.add_argument(
        "--log-format",
        choices=["plain", "full", "json"],
        default="full",
        help="log line format (default: full)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")


def run_operator(args: argparse.Namespace) -> int:
    import kopf

    if args.kubeconfig:
        os.environ["KUBECONFIG"] = args.kubeconfig
    kopf.configure(verbose=args.verbose, log_format=kopf.LogFormat[args.log_format.upper()])
    import dupcert.handlers  # noqa: F401  (registers the handlers)

    kopf.run(
        clusterwide=not args.namespace,
        namespaces=args.namespace,
        standalone=args.standalone,
        liveness_endpoint=args.liveness,
    )
    return 0


def run_simulator(args: argparse.Namespace) -> int:
    from dupcert.simulator import cli as simulator_cli

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(simulator_cli.run(args))
    return 0


def run_demo(args: argparse.Namespace) -> int:
    from dupcert.demo import main

    return main(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dupcert",
        description="Kubernetes operator for DigiCert CertCentral duplicate certificates.",
    )
    parser.add_argument("--version", action="version", version=f"dupcert {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the operator")
    _add_run_arguments(run)
    run.set_defaults(handler=run_operator)

    simulator = commands.add_parser("simulator", help="serve the CertCentral simulator")
    from dupcert.simulator import cli as simulator_cli

    simulator_cli.add_arguments(simulator)
    simulator.set_defaults(handler=run_simulator)

    demo = commands.add_parser(
        "demo", help="run the main job end to end against a local Kubernetes API and simulator"
    )
    from dupcert.demo import add_arguments as add_demo_arguments

    add_demo_arguments(demo)
    demo.set_defaults(handler=run_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    sys.exit(args.handler(args))
