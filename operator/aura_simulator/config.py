"""Simulator configuration: credentials, tenants with their instance configurations, durations.

One pydantic model, loadable from a small YAML or JSON file, so users can point the simulator at
their own tenant layout. Without a file it serves the `demo` tenant that the README, the demo and
the tests rely on, accepting the credential `aura-demo` / `aura-demo-secret`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

DEMO_TENANT_ID = "0c6b3f3a-8f0e-4d7e-9f1c-5a2d6e7b8c9d"
DEMO_CLIENT_ID = "aura-demo"
DEMO_CLIENT_SECRET = "aura-demo-secret"  # noqa: S105 - a documented demo credential

_REGIONS: dict[str, list[tuple[str, str]]] = {
    "gcp": [
        ("europe-west1", "Belgium (europe-west1)"),
        ("europe-west2", "London (europe-west2)"),
        ("us-central1", "Iowa (us-central1)"),
        ("asia-southeast1", "Singapore (asia-southeast1)"),
    ],
    "aws": [
        ("eu-west-1", "Ireland (eu-west-1)"),
        ("us-east-1", "US East, N. Virginia (us-east-1)"),
        ("us-west-2", "US West, Oregon (us-west-2)"),
    ],
    "azure": [
        ("francecentral", "France Central (francecentral)"),
        ("eastus", "East US (eastus)"),
        ("uksouth", "UK South (uksouth)"),
    ],
}
#: memory -> storage, as in the Aura console's size picker (storage is twice the memory).
_SIZES = {f"{gb}GB": f"{gb * 2}GB" for gb in (1, 2, 4, 8, 16, 24, 32, 48, 64)}
#: type -> (smallest memory in GB, versions offered)
_TYPES: dict[str, tuple[int, tuple[str, ...]]] = {
    "professional-db": (1, ("4", "5")),
    "business-critical": (2, ("5",)),
    "enterprise-db": (2, ("4", "5")),
    "enterprise-ds": (8, ("5",)),
}


class InstanceConfiguration(BaseModel):
    """One allowed combination, exactly the shape of the API's `instance_configurations`."""

    model_config = ConfigDict(extra="forbid")

    region: str
    region_name: str
    type: str
    memory: str
    storage: str
    version: str
    cloud_provider: Literal["gcp", "aws", "azure"]


class TenantConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    #: Trial tenants (no billing method) get the lower rate limit.
    trial: bool = False
    #: Creating past this many live instances answers 405.
    instance_limit: int = 50
    instance_configurations: list[InstanceConfiguration] = Field(default_factory=list)


class Credential(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: str
    client_secret: str
    #: Tenant ids this credential sees; None means all of them.
    tenants: list[str] | None = None
    #: Requests per minute for this client id; None means the tenant-derived default.
    rate_limit: int | None = None


class Durations(BaseModel):
    """Seconds each asynchronous step takes at time scale 1 (docs/aura-api.md §5.5 suggests the
    ranges)."""

    model_config = ConfigDict(extra="forbid")

    creating: float = 90.0
    updating: float = 60.0
    pausing: float = 45.0
    resuming: float = 90.0
    destroying: float = 20.0
    overwriting: float = 120.0
    restoring: float = 120.0
    snapshot_pending: float = 10.0
    snapshot_in_progress: float = 40.0
    #: A just-created instance answers 404 on GET for this long (eventual consistency).
    visibility_delay: float = 2.0
    #: A customer-managed key is `pending` this long, then `ready`.
    key_pending: float = 60.0
    #: A Graph Analytics session is `Creating` this long, then `Ready`.
    session_creating: float = 60.0


class SimulatorConfig(BaseModel):
    """Everything that shapes the simulator's behaviour. All fields have working defaults."""

    model_config = ConfigDict(extra="forbid")

    credentials: list[Credential] = Field(default_factory=lambda: [_demo_credential()])
    tenants: list[TenantConfig] = Field(default_factory=lambda: [demo_tenant()])
    durations: Durations = Field(default_factory=Durations)
    #: `expires_in` of issued tokens, in real seconds (not scaled).
    token_lifetime: float = 3600.0
    #: Requests per minute per client id (real minutes, not scaled), and for trial tenants.
    rate_limit: int = 125
    trial_rate_limit: int = 25
    rate_limit_window: float = 60.0
    #: Optional limit on `/oauth/token` per client id per hour (announced as 15/h, unconfirmed).
    token_rate_limit_per_hour: int | None = None
    #: Status for an expired token (Aura: 403) and for a missing or malformed one (401).
    expired_token_status: int = 403
    invalid_token_status: int = 401
    #: Answer 415 to POST/PATCH without `Content-Type: application/json` (docs/aura-api.md §1).
    require_content_type: bool = True
    #: Body of a 202 PATCH: `{}` (the spec's schema) or `{"data": instance}` (the CLI's mocks).
    patch_accepted_body: Literal["empty", "instance"] = "empty"
    #: Take a `Scheduled` snapshot when an instance first becomes running (DOC-SNAP).
    scheduled_snapshot_on_create: bool = True
    #: A created instance appears in `GET /v1/instances` only this many real seconds (not
    #: scaled) after its create, and answers 404 on `GET /v1/instances/{id}` for `get_lag` real
    #: seconds (or the scaled `durations.visibility_delay`, whichever is longer). Each instance
    #: keeps the lag in force when it was created. `POST /_sim/list-lag` sets both.
    list_lag: float = Field(default=0.0, ge=0.0)
    get_lag: float = Field(default=0.0, ge=0.0)
    #: Instance types without on-demand snapshots: `POST .../snapshots` answers 402 Payment
    #: Required (the SPEC lists the status; which tiers get it is UNCONFIRMED, so none by
    #: default), e.g. `["free-db"]`.
    no_adhoc_snapshots: list[str] = Field(default_factory=list)

    @classmethod
    def from_file(cls, path: str | Path) -> SimulatorConfig:
        """Load a YAML or JSON file; keys left out keep their defaults."""
        text = Path(path).read_text(encoding="utf-8")
        data = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
        return cls.model_validate(data or {})

    def credential(self, client_id: str) -> Credential | None:
        return next((c for c in self.credentials if c.client_id == client_id), None)

    def tenant(self, tenant_id: str) -> TenantConfig | None:
        return next((t for t in self.tenants if t.id == tenant_id), None)

    def visible_tenants(self, client_id: str) -> list[TenantConfig]:
        credential = self.credential(client_id)
        if credential is None:
            return []
        if credential.tenants is None:
            return list(self.tenants)
        return [t for t in self.tenants if t.id in credential.tenants]

    def rate_limit_for(self, client_id: str) -> int:
        """Requests per minute: the credential's own, else 25 if it sees a trial tenant."""
        credential = self.credential(client_id)
        if credential is not None and credential.rate_limit is not None:
            return credential.rate_limit
        if any(t.trial for t in self.visible_tenants(client_id)):
            return self.trial_rate_limit
        return self.rate_limit


def _demo_credential() -> Credential:
    return Credential(client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET)


def default_configurations() -> list[InstanceConfiguration]:
    """A realistic list: several regions per cloud, the paid tiers from 1GB to 64GB, and Free."""
    configurations = [
        InstanceConfiguration(
            region="europe-west1",
            region_name="Belgium (europe-west1)",
            type="free-db",
            memory="1GB",
            storage="2GB",
            version="5",
            cloud_provider="gcp",
        )
    ]
    for instance_type, (smallest, versions) in _TYPES.items():
        for cloud, regions in _REGIONS.items():
            for region, region_name in regions:
                for memory, storage in _SIZES.items():
                    if int(memory.removesuffix("GB")) < smallest:
                        continue
                    for version in versions:
                        configurations.append(
                            InstanceConfiguration(
                                region=region,
                                region_name=region_name,
                                type=instance_type,
                                memory=memory,
                                storage=storage,
                                version=version,
                                cloud_provider=cloud,
                            )
                        )
    return configurations


def demo_tenant() -> TenantConfig:
    return TenantConfig(
        id=DEMO_TENANT_ID, name="demo", instance_configurations=default_configurations()
    )
