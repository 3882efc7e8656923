"""`aura-operator run`: start the operator (kopf underneath) the way a Deployment runs it."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import MutableMapping

from aura_operator.runtime.selector import SelectorError, label_selector, parse

#: `--log-level` values: the three levels kopf.configure knows (verbose, normal, quiet).
LOG_LEVELS = ("debug", "info", "warning")
#: `--log-format` values, as names of kopf.LogFormat members.
LOG_FORMATS = {"plain": "PLAIN", "full": "FULL", "json": "JSON"}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run the operator",
        description="Run the operator against the current kubeconfig or in-cluster config.",
    )
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument(
        "-n",
        "--namespace",
        dest="namespaces",
        action="append",
        default=[],
        metavar="NS",
        help="watch this namespace (repeatable; glob patterns allowed)",
    )
    scope.add_argument(
        "-A",
        "--all-namespaces",
        action="store_true",
        help="watch AuraInstances in every namespace (the default without --namespace)",
    )
    parser.add_argument(
        "--liveness",
        metavar="URL",
        default=None,
        help="serve kopf's liveness probe here, e.g. http://0.0.0.0:8080/healthz",
    )
    parser.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        default="info",
        help="debug, info (the default) or warning",
    )
    parser.add_argument(
        "--log-format",
        choices=sorted(LOG_FORMATS),
        default="full",
        help="full (time, logger, level; the default), plain (message only) or json",
    )
    parser.add_argument("--verbose", action="store_true", help="the same as --log-level debug")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="plan every object: send only GETs to Aura and show what would be sent "
        "(Synced=False Planned); the same as AURA_OPERATOR_DRY_RUN=true",
    )
    parser.add_argument(
        "--selector",
        metavar="LABEL-SELECTOR",
        default=None,
        help="handle only the objects (of every kind) whose labels match, e.g. shard=a or "
        "'shard in (a,b)'; the same as AURA_OPERATOR_SELECTOR (docs/scale-out.md)",
    )
    parser.set_defaults(handler=_run)


class _QuietWakeups(logging.Filter):
    """Drop kopf's "Handler 'nudge_...' succeeded" lines: one per watch event, no news."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Handler 'nudge_")


def configure_logging(level: str, log_format: str) -> None:
    """Root logging as kopf sets it up, at `level` (LOG_LEVELS) in `log_format` (LOG_FORMATS)."""
    import kopf

    kopf.configure(
        verbose=level == "debug",
        quiet=level == "warning",
        log_format=kopf.LogFormat[LOG_FORMATS[log_format]],
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("kopf.objects").addFilter(_QuietWakeups())
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)  # liveness probes


def apply_flags(args: argparse.Namespace, environ: MutableMapping[str, str]) -> None:
    """--dry-run and --selector as the settings they stand for (read at start-up from the
    environment, like every setting); a bad selector fails here, before kopf starts."""
    if args.dry_run:
        environ["AURA_OPERATOR_DRY_RUN"] = "true"
    if args.selector is not None:
        environ["AURA_OPERATOR_SELECTOR"] = label_selector(parse(args.selector))


def _run(args: argparse.Namespace) -> int:
    import kopf

    import aura_operator.main  # noqa: F401  (registers the handlers)

    try:
        apply_flags(args, os.environ)
    except SelectorError as exc:
        print(f"aura-operator run: --selector: {exc}", file=sys.stderr)
        return 2

    configure_logging("debug" if args.verbose else args.log_level, args.log_format)
    namespaces: list[str] = list(args.namespaces)
    kopf.run(
        standalone=True,
        clusterwide=not namespaces,
        namespaces=namespaces,
        liveness_endpoint=args.liveness,
    )
    return 0
