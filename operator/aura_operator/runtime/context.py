"""The one process-wide object, kopf keeps it in its memo (see lifecycle.py).

It only puts together what lives in modules of their own: settings, Kubernetes access
(`kube`), credentials and their clients (`credentials`), tenant caches (`tenants`), per-object
state (`objects`), the Secret store, scheduling, metrics and leadership. Nothing process-wide
lives in module globals.
"""

from __future__ import annotations

from aura_operator.aura import CredentialRegistry
from aura_operator.kinds.instance.connection_secret import SecretStore
from aura_operator.kube.api import KubeApi
from aura_operator.runtime.active_restores import ActiveRestores
from aura_operator.runtime.admission import Admission
from aura_operator.runtime.claims import ClaimStore, InMemoryClaimStore
from aura_operator.runtime.credentials import Credentials
from aura_operator.runtime.leader import Leadership
from aura_operator.runtime.metrics import Metrics
from aura_operator.runtime.object_state import ObjectStates
from aura_operator.runtime.schedule import DriftScheduler, TransitionTimes
from aura_operator.runtime.settings import Settings
from aura_operator.runtime.sweep import Sweeps
from aura_operator.runtime.tenants import TenantCache


class OperatorContext:
    def __init__(
        self,
        settings: Settings,
        kube: KubeApi,
        leadership: Leadership | None = None,
        claims: ClaimStore | None = None,
    ) -> None:
        """`claims`: where claims of Aura objects live (kube/claim_store.py in production); an
        in-memory store when not given (one process, the in-process tests)."""
        self.settings = settings
        self.kube = kube
        self.leadership = leadership or Leadership.always()
        self.registry = CredentialRegistry(
            requests_per_minute=settings.requests_per_minute,
            burst=settings.request_burst,
            dry_run=settings.dry_run,
        )
        self.metrics = Metrics()
        self.credentials = Credentials(settings, kube, self.registry, observer=self.metrics)
        self.tenants = TenantCache(settings.tenant_cache_seconds)
        self.objects = ObjectStates()
        self.secrets = SecretStore(
            kube, backup_namespace=settings.namespace, backups=settings.backup_secrets
        )
        self.drift = DriftScheduler(
            interval=settings.drift_interval,
            jitter=settings.drift_jitter,
            share=settings.drift_budget_share,
            sweep=settings.sweep_interval or None,
        )
        self.transitions = TransitionTimes()
        self.sweeps = Sweeps(
            base_interval=settings.sweep_interval,
            share=settings.drift_budget_share,
            leadership=self.leadership,
            wake=self.objects.wake,
            metrics=self.metrics,
            error_backoff_max=settings.error_backoff_max,
        )
        self.restores = ActiveRestores()
        self.admission = Admission(claims or InMemoryClaimStore())

    def forget(self, uid: str) -> None:
        """The object is gone: drop its state, its drift slot and its metrics."""
        self.objects.forget(uid)
        self.admission.forget(uid)
        self.drift.release(uid)
        self.transitions.leave(uid)
        self.sweeps.untrack(uid)
        self.metrics.forget(uid)

    def rate(self, client_id: str) -> float:
        return self.registry.budget(client_id).rate_per_minute

    async def aclose(self) -> None:
        await self.sweeps.aclose()
        await self.credentials.aclose()
