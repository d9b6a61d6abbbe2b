"""The `dupcert simulator` subcommand: run the CertCentral simulator in the foreground."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from dupcert.simulator.seed import SeedError
from dupcert.simulator.server import SimulatorServer
from dupcert.simulator.state import StateError

logger = logging.getLogger("dupcert.simulator")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the simulator's options to an argparse parser."""
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=8443,
        help="TCP port to listen on; 0 picks a free port (default: 8443)",
    )
    parser.add_argument(
        "--seed",
        type=Path,
        default=None,
        help="YAML seed file with accounts, organizations and orders (default: the demo seed)",
    )
    parser.add_argument(
        "--no-tls",
        dest="tls",
        action="store_false",
        help="serve plain HTTP instead of HTTPS",
    )
    parser.add_argument(
        "--write-ca-bundle",
        type=Path,
        default=None,
        metavar="PATH",
        help="write the PEM of the CA that signed the serving certificate to PATH",
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log level (default: INFO); INFO logs one line per request",
    )


async def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM; return the process exit code."""
    logging.basicConfig(
        level=getattr(logging, args.log_level),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        server = SimulatorServer(seed=args.seed, tls=args.tls, host=args.host, port=args.port)
    except (SeedError, StateError) as error:
        print(str(error), file=sys.stderr)
        return 2
    if args.write_ca_bundle is not None:
        args.write_ca_bundle.write_text(server.ca_bundle_pem, encoding="ascii")
        logger.info("wrote the serving CA bundle to %s", args.write_ca_bundle)
    try:
        await server.start()
    except OSError as error:
        print(f"cannot listen on {args.host}:{args.port}: {error.strerror}", file=sys.stderr)
        return 1

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    print(f"CertCentral simulator: {server.base_url}", flush=True)
    print(f"Admin routes: {server.admin_url}", flush=True)
    try:
        await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        await server.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the subcommand standalone: `python -m dupcert.simulator.cli`."""
    parser = argparse.ArgumentParser(
        prog="dupcert simulator", description="Run the local CertCentral simulator."
    )
    add_arguments(parser)
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
