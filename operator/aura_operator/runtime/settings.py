"""The operator's configuration: one pydantic-settings class read from the environment.

Everything configurable lives here so that the README, the Helm values and the code agree on one
list of names. Variables are `AURA_OPERATOR_*`, except the default credential, which uses the
same `AURA_CLIENT_ID` / `AURA_CLIENT_SECRET` names as Aura's own tools.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from aura_operator.runtime.selector import label_selector, parse

DEFAULT_API_URL = "https://api.neo4j.io"


class Settings(BaseSettings):
    """Settings of one operator process (see the README's configuration reference)."""

    model_config = SettingsConfigDict(
        env_prefix="AURA_OPERATOR_",
        extra="ignore",
        populate_by_name=True,
    )

    api_url: str = Field(
        default=DEFAULT_API_URL,
        description="Base URL of the Aura API; the token endpoint is {api_url}/oauth/token.",
    )
    client_id: str | None = Field(
        default=None,
        validation_alias=AliasChoices("AURA_CLIENT_ID", "AURA_OPERATOR_CLIENT_ID"),
        description="Client id of the operator's default Aura credential.",
    )
    client_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("AURA_CLIENT_SECRET", "AURA_OPERATOR_CLIENT_SECRET"),
        description="Client secret of the operator's default Aura credential.",
    )
    requests_per_minute: float = Field(
        default=110.0,
        gt=0,
        description="Request budget per credential; Aura allows 125/min (25/min for trials).",
    )
    request_burst: int = Field(
        default=10,
        ge=1,
        description="Requests a credential may send back to back before the rate applies.",
    )
    http_timeout: float = Field(default=30.0, gt=0, description="Read/write timeout, seconds.")
    connect_timeout: float = Field(default=10.0, gt=0, description="Connect timeout, seconds.")
    max_inline_wait: float = Field(
        default=5.0,
        ge=0,
        description=(
            "Longest wait (seconds) the client sleeps for a Retry-After or a rate-limit hold; "
            "longer waits raise an error carrying retry_after so the object is requeued."
        ),
    )
    max_retries: int = Field(
        default=3, ge=0, description="Retries of idempotent requests (GET, DELETE) on 5xx/errors."
    )

    credentials_secret: str | None = Field(
        default=None,
        description=(
            "Name of a Secret in the operator's namespace with AURA_CLIENT_ID and "
            "AURA_CLIENT_SECRET: the default credential (instead of the variables)."
        ),
    )
    namespace: str | None = Field(
        default=None,
        validation_alias=AliasChoices("AURA_OPERATOR_NAMESPACE", "POD_NAMESPACE"),
        description="The operator's own namespace, where it keeps password backups.",
    )
    backup_secrets: bool = Field(
        default=True,
        description="Keep a backup of every connection Secret in the operator's namespace.",
    )
    default_deletion_policy: Literal["Delete", "Retain"] = Field(
        default="Retain",
        description="What deleting an AuraInstance does when spec.deletionPolicy is unset.",
    )
    scrape_config_secret: str | None = Field(
        default=None,
        description=(
            "Chart-wide default of AuraInstance spec.metrics.scrapeConfig: every instance of a "
            "type Aura exports metrics for gets a Prometheus Operator ScrapeConfig whose OAuth2 "
            "client credentials come from the Secret of this name in its namespace."
        ),
    )
    poll_interval: float = Field(
        default=15.0, gt=0, description="Seconds between reads of an instance in a transient state."
    )
    drift_interval: float = Field(
        default=900.0,
        gt=0,
        description=(
            "Seconds between drift reads (GETs) of a settled instance, which catch state and "
            "size changes made outside Kubernetes; deletion and renaming are caught by the list "
            "sweep."
        ),
    )
    sweep_interval: float = Field(
        default=60.0,
        ge=0,
        description=(
            "Seconds between list sweeps: one GET /v1/instances per credential that notices "
            "instances deleted or renamed outside Kubernetes (0: off). Stretched on a small "
            "budget so that it takes at most a quarter of the drift share."
        ),
    )
    drift_jitter: float = Field(
        default=0.2, ge=0, le=1, description="Random spread of drift reads, as a fraction."
    )
    drift_budget_share: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description=(
            "Largest share of a credential's budget that drift reads may use; the drift "
            "interval stretches when many instances would need more."
        ),
    )
    metrics_port: int = Field(
        default=9090,
        ge=0,
        le=65535,
        description="Port of the Prometheus /metrics endpoint (0: off).",
    )
    create_visibility_window: float = Field(
        default=30.0,
        ge=0,
        description=(
            "After a create whose outcome is unknown, how long to wait for the instance to show "
            "up in the list before concluding that it was never created."
        ),
    )
    error_backoff_max: float = Field(
        default=300.0, gt=0, description="Longest wait before retrying after an error, seconds."
    )
    tenant_cache_seconds: float = Field(
        default=600.0, ge=0, description="How long a tenant's instance configurations are reused."
    )
    credential_status_interval: float = Field(
        default=30.0,
        gt=0,
        description=(
            "Seconds between status updates of an AuraCredential (requests and 429s of the last "
            "minute and hour, users, drift interval)."
        ),
    )

    leader_election: bool = Field(
        default=True,
        description=(
            "Elect one acting replica through a Lease in the operator's namespace (needs "
            "AURA_OPERATOR_NAMESPACE or POD_NAMESPACE); off: this process always acts."
        ),
    )
    lease_name: str = Field(
        default="aura-operator", description="Name of the leader-election Lease."
    )
    lease_duration: float = Field(
        default=10.0,
        gt=0,
        description=(
            "Seconds without renewal after which a standby takes the Lease over (the "
            "failover time after a leader dies)."
        ),
    )
    lease_renew_deadline: float = Field(
        default=7.0,
        gt=0,
        description=(
            "Seconds a leader keeps acting without renewing; shorter than lease_duration, so it "
            "stops before a standby may start."
        ),
    )
    lease_retry_period: float = Field(
        default=1.5, gt=0, description="Seconds between attempts to acquire or renew the Lease."
    )

    default_deletion_protection: bool = Field(
        default=False,
        description=(
            "spec.deletionProtection of AuraInstances and AuraCustomerManagedKeys that do not "
            "set it: true holds every deleted object until its spec says false."
        ),
    )
    unmanaged_objects: Literal["Allow", "Deny"] = Field(
        default="Allow",
        description=(
            "For objects using the default credential: may they refer to Aura objects that no "
            "object manages (clone, overwrite from, snapshot, observe)? An AuraCredential has "
            "its own spec.unmanagedObjects."
        ),
    )

    dry_run: bool = Field(
        default=False,
        description=(
            "Plan every object as the reconcile: plan annotation does: only GETs (and token "
            "requests) leave the process; what would be sent is shown (Synced=False Planned)."
        ),
    )
    selector: str | None = Field(
        default=None,
        description=(
            "Label selector of the objects (of every kind) this process handles, e.g. shard=a; "
            "empty: all. Releases with disjoint selectors split the objects (docs/scale-out.md)."
        ),
    )

    @field_validator("selector")
    @classmethod
    def _parse_selector(cls, value: str | None) -> str | None:
        return (
            label_selector(parse(value)) if value else None
        )  # SelectorError is a ValueError: a clear message

    @model_validator(mode="after")
    def _renew_before_expiry(self) -> Settings:
        if self.lease_renew_deadline >= self.lease_duration:
            raise ValueError(
                "AURA_OPERATOR_LEASE_RENEW_DEADLINE must be shorter than "
                "AURA_OPERATOR_LEASE_DURATION (a leader must stop before its lease expires)"
            )
        return self

    @field_validator("api_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def token_url(self) -> str:
        return f"{self.api_url}/oauth/token"
