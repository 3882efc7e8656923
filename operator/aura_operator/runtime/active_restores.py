"""Which AuraInstances an AuraRestore acts on now: the one in-memory link between two kinds' loops
(the restore sets it, the instance's loop reads it and holds off)."""

from __future__ import annotations


class ActiveRestores:
    """Which AuraInstances an AuraRestore is acting on now, in this process (by namespace and
    name): the instance's own loop reads it so that its drift correction and changes wait, and
    shows Ready=False Restoring/Overwriting meanwhile. Kept in memory by design: after a
    restart each AuraRestore's first pass registers again, and Aura's own `restoring` /
    `overwriting` state covers the time in between."""

    def __init__(self) -> None:
        self._by_target: dict[tuple[str, str], tuple[str, str]] = {}

    def set(self, namespace: str, instance: str, restore: str, phase: str) -> None:
        self._by_target[(namespace, instance)] = (restore, phase)

    def clear(self, namespace: str, instance: str, restore: str) -> None:
        if self._by_target.get((namespace, instance), ("",))[0] == restore:
            del self._by_target[(namespace, instance)]

    def active(self, namespace: str, instance: str) -> tuple[str, str] | None:
        """(AuraRestore name, phase) acting on this AuraInstance, or None."""
        return self._by_target.get((namespace, instance))
