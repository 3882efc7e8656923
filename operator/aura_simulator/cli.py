"""`aura-operator simulator` and `python -m aura_simulator`: serve the API until SIGINT/SIGTERM.

The operator's command line finds `register` through the entry-point group
`aura_operator.commands` (declared in pyproject.toml), so the operator package never imports the
simulator. The first line on stdout is exactly `aura-simulator: listening on http://HOST:PORT`,
flushed at once, so that scripts and test harnesses can start it with `--port 0` and read the URL.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aura_simulator.config import SimulatorConfig


DESCRIPTION = (
    "Serve a faithful local Aura API (tenant 'demo', credential "
    "aura-demo/aura-demo-secret) with an admin API under /_sim/."
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `simulator` to a command line (the `aura_operator.commands` entry point)."""
    parser = subparsers.add_parser(
        "simulator", help="serve a local simulation of the Aura API", description=DESCRIPTION
    )
    add_arguments(parser)


def build_parser() -> argparse.ArgumentParser:
    """The stand-alone command line of `python -m aura_simulator`."""
    parser = argparse.ArgumentParser(prog="python -m aura_simulator", description=DESCRIPTION)
    add_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return run(build_parser().parse_args(argv))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=8088, help="port to bind; 0 picks a free one (default 8088)"
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="divide every lifecycle duration by this factor (default 1)",
    )
    parser.add_argument("--state", help="JSON file to load the account from and save it to")
    parser.add_argument("--config", help="YAML or JSON file with credentials, tenants, durations")
    parser.add_argument(
        "--rate-limit", type=int, help="requests per minute per client id (default 125)"
    )
    parser.add_argument(
        "--trial-rate-limit", type=int, help="requests per minute for trial tenants (default 25)"
    )
    parser.add_argument("--token-lifetime", type=float, help="token lifetime in seconds")
    parser.add_argument("--seed", type=int, help="seed for probabilistic faults")
    parser.set_defaults(handler=run)


def load_config(args: argparse.Namespace) -> SimulatorConfig:
    from aura_simulator.config import SimulatorConfig

    config = SimulatorConfig.from_file(args.config) if args.config else SimulatorConfig()
    changes: dict[str, object] = {}
    if args.rate_limit is not None:
        changes["rate_limit"] = args.rate_limit
    if args.trial_rate_limit is not None:
        changes["trial_rate_limit"] = args.trial_rate_limit
    if args.token_lifetime is not None:
        changes["token_lifetime"] = args.token_lifetime
    return config.model_copy(update=changes) if changes else config


def run(args: argparse.Namespace) -> int:
    if args.time_scale <= 0:
        print("aura-simulator: --time-scale must be positive", file=sys.stderr)
        return 2
    try:
        config = load_config(args)
    except (OSError, ValueError) as error:
        print(f"aura-simulator: cannot load --config: {error}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve(args, config))
    except OSError as error:
        print(f"aura-simulator: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    return 0


async def _serve(args: argparse.Namespace, config: SimulatorConfig) -> None:
    from aura_simulator.server import Simulator

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    simulator = Simulator(
        config,
        time_scale=args.time_scale,
        host=args.host,
        port=args.port,
        state_file=args.state,
        seed=args.seed,
    )
    async with simulator:
        print(f"aura-simulator: listening on {simulator.base_url}", flush=True)
        print(
            f"aura-simulator: API {simulator.base_url}/v1, tokens {simulator.base_url}/oauth/token,"
            f" admin {simulator.base_url}/_sim/, time scale {args.time_scale:g}",
            flush=True,
        )
        await stop.wait()
    print("aura-simulator: stopped", flush=True)
