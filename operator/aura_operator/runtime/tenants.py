"""Tenants and their instance configurations, read once and reused.

A tenant's configurations (which type, region, memory a credential may create) change rarely;
reading them per create would cost one request of the shared budget each time. Concurrent
callers of one key wait for a single read.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from aura_operator.aura import AuraClient, Tenant, TenantSummary
from aura_operator.runtime.model import SpecProblem

if TYPE_CHECKING:
    from aura_operator.runtime.context import OperatorContext
    from aura_operator.runtime.credentials import Credentialed


class TenantCache:
    """Tenants per credential, each kept for `ttl` seconds."""

    def __init__(self, ttl: float) -> None:
        self._ttl = ttl
        self._tenants: dict[tuple[str, str], tuple[float, Tenant]] = {}
        self._lists: dict[str, tuple[float, list[TenantSummary]]] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    def _lock(self, key: tuple[str, str]) -> asyncio.Lock:
        return self._locks.setdefault(key, asyncio.Lock())

    async def tenant(self, aura: AuraClient, tenant_id: str) -> Tenant:
        """A tenant with its instance configurations."""
        key = (aura.client_id, tenant_id)
        async with self._lock(key):
            cached = self._tenants.get(key)
            if cached is not None and cached[0] > time.monotonic():
                return cached[1]
            tenant = await aura.get_tenant(tenant_id)
            self._tenants[key] = (time.monotonic() + self._ttl, tenant)
            return tenant

    async def tenant_list(self, aura: AuraClient) -> list[TenantSummary]:
        """The tenants a credential sees."""
        async with self._lock((aura.client_id, "")):
            cached = self._lists.get(aura.client_id)
            if cached is not None and cached[0] > time.monotonic():
                return cached[1]
            tenants = await aura.list_tenants()
            self._lists[aura.client_id] = (time.monotonic() + self._ttl, tenants)
            return tenants


async def resolve_tenant(
    ctx: OperatorContext, aura: AuraClient, obj: Credentialed, tenant_id: str | None
) -> str | SpecProblem:
    """The tenant an object creates in: its spec.tenantId, its AuraCredential's
    defaultTenantId, or the only tenant the credential sees."""
    if tenant_id:
        return tenant_id
    default = await ctx.credentials.default_tenant_id(obj)
    if default:
        return default
    tenants = await ctx.tenants.tenant_list(aura)
    if len(tenants) == 1:
        return tenants[0].id
    ids = ", ".join(f"{t.id} ({t.name})" for t in tenants) or "none"
    return SpecProblem(
        "spec.tenantId",
        f"spec.tenantId is required: the credential sees {len(tenants)} tenants; allowed: {ids}",
    )
