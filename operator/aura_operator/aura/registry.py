"""What all clients of one process share: token cache and one budget per client id.

The operator may build many `AuraClient`s (one per credential Secret, rebuilt when a Secret
changes). Aura's budget is per client id, so two clients with the same id must draw from the
same bucket and see the same 429 hold. They do when they are built with the same registry.
"""

from __future__ import annotations

from aura_operator.aura.auth import TokenCache, client_id_key
from aura_operator.aura.clock import Clock, SystemClock
from aura_operator.aura.ratelimit import CredentialBudget

#: Aura's documented tiers, requests per minute per client id.
AURA_RATE_LIMIT = 125.0
AURA_TRIAL_RATE_LIMIT = 25.0


class CredentialRegistry:
    """Token cache and request budgets shared by every client of one process."""

    def __init__(
        self,
        *,
        requests_per_minute: float = 110.0,
        burst: int = 10,
        clock: Clock | None = None,
        dry_run: bool = False,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.requests_per_minute = requests_per_minute
        self.burst = burst
        self.dry_run = dry_run
        """`--dry-run`: no client of this process sends anything but GETs (and token requests);
        every other request raises AuraPlanned."""
        self.tokens = TokenCache(self.clock)
        self._budgets: dict[str, CredentialBudget] = {}

    def budget(self, client_id: str) -> CredentialBudget:
        """The one budget of `client_id`, created on first use."""
        key = client_id_key(client_id)
        budget = self._budgets.get(key)
        if budget is None:
            budget = CredentialBudget(self.requests_per_minute, burst=self.burst, clock=self.clock)
            self._budgets[key] = budget
        return budget

    def set_rate(self, client_id: str, requests_per_minute: float) -> None:
        """Change one credential's rate (e.g. 25/min once it is known to be a trial tenant)."""
        if requests_per_minute <= 0:
            raise ValueError("requests_per_minute must be positive")
        self.budget(client_id).rate_per_minute = requests_per_minute
