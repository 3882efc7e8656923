"""Everything one running simulator holds, in one object shared by the API and admin routes.

Keeping the parts (config, account state, tokens, rate limits, faults, request log) together and
out of module globals lets several simulators run in one process, as the tests do, and makes
`reset` and `--state FILE` persistence one method each.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from aura_simulator.config import SimulatorConfig
from aura_simulator.faults import Faults
from aura_simulator.gateway import RateLimiter, RequestRecord, TokenStore
from aura_simulator.state import SimState

#: Entries kept in the request log (`sim.requests`, `GET /_sim/requests`).
REQUEST_LOG_LIMIT = 100_000


class Runtime:
    def __init__(
        self,
        config: SimulatorConfig | None = None,
        *,
        time_scale: float = 1.0,
        state_file: str | Path | None = None,
        seed: int | None = None,
    ) -> None:
        self.config = config or SimulatorConfig()
        self.state = SimState(self.config, time_scale=time_scale)
        self.tokens = TokenStore()
        self.limiter = RateLimiter()
        self.token_limiter = RateLimiter()
        self.faults = Faults(seed)
        self.requests: list[RequestRecord] = []
        self.started = time.time()
        self.state_file = Path(state_file) if state_file else None
        if self.state_file is not None and self.state_file.exists():
            self.state.load(json.loads(self.state_file.read_text(encoding="utf-8")))

    def log(self, record: RequestRecord) -> None:
        """Append to the request log, dropping the oldest tenth past `REQUEST_LOG_LIMIT` so a
        long-running simulator does not grow without bound."""
        self.requests.append(record)
        if len(self.requests) > REQUEST_LOG_LIMIT:
            del self.requests[: REQUEST_LOG_LIMIT // 10]

    def visible_tenants(self, client_id: str) -> set[str]:
        return {t.id for t in self.config.visible_tenants(client_id)}

    def reset(self) -> None:
        """Back to a fresh account: no instances, faults, log entries or rate-limit history.
        Issued tokens stay valid (they belong to the clients, not to the account)."""
        self.state.reset()
        self.faults.clear()
        self.requests.clear()
        self.limiter.reset()
        self.token_limiter.reset()
        self.save()

    def save(self) -> None:
        """Write the account state to `--state FILE` atomically (no-op without a file)."""
        if self.state_file is None:
            return
        data = json.dumps(self.state.dump(), indent=1)
        directory = self.state_file.parent
        fd, tmp = tempfile.mkstemp(prefix=".aura-sim-", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(data)
            os.replace(tmp, self.state_file)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def snapshot(self) -> dict[str, Any]:
        """The full state as JSON: config, instances (with passwords), faults, counters."""
        return {
            "time_scale": self.state.time_scale,
            "config": self.config.model_dump(mode="json"),
            **self.state.dump(),
            "faults": [f.model_dump(mode="json") for f in self.faults.list()],
            "tokens_issued": len(self.tokens),
            "requests": len(self.requests),
        }
