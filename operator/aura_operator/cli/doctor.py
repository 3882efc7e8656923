"""`aura-operator doctor`: check the configuration and the Aura credential before deploying.

It answers the first questions of any support case: which API does this process talk to, does
the credential get a token, which projects (tenants) does it see, and what do they offer. It
never prints a secret.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aura_operator.runtime.settings import Settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="check the settings and the Aura credential",
        description="Check the operator's settings and its default Aura credential.",
    )
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from aura_operator.runtime.settings import Settings

    return asyncio.run(check(Settings()))


async def check(settings: Settings, *, out: list[str] | None = None) -> int:
    """Run the checks, print one line per finding; 0 when all pass."""
    from aura_operator.aura import AuraError
    from aura_operator.runtime.credentials import make_client

    lines = out if out is not None else []

    def say(line: str) -> None:
        lines.append(line)
        if out is None:
            print(line, flush=True)

    say(f"api url:            {settings.api_url}")
    say(f"request budget:     {settings.requests_per_minute:g}/min per credential")
    if not settings.client_id or settings.client_secret is None:
        say("credential:         MISSING - set AURA_CLIENT_ID and AURA_CLIENT_SECRET")
        return 1
    say(f"credential:         client id {settings.client_id} (secret set)")
    async with make_client(settings, settings.client_id, settings.client_secret) as aura:
        try:
            tenants = await aura.list_tenants()
        except AuraError as exc:
            say(f"token and tenants:  FAILED - {exc}")
            return 1
        say(f"token and tenants:  ok, {len(tenants)} tenant(s) visible")
        for summary in tenants:
            try:
                tenant = await aura.get_tenant(summary.id)
            except AuraError as exc:
                say(f"  tenant {summary.id}: FAILED - {exc}")
                return 1
            types = sorted({c.type for c in tenant.instance_configurations})
            say(
                f"  tenant {tenant.id} ({tenant.name}): "
                f"{len(tenant.instance_configurations)} configurations, types {', '.join(types)}"
            )
    return 0
