"""Deletion protection: a deleted object is held, whatever its deletionPolicy, while protected.

`deletionPolicy: Delete` makes `kubectl delete` (or a namespace deletion, or Argo CD pruning an
application) delete the database in Aura; `Retain` still releases it and its claim. A protected
object stays (finalizer kept, nothing sent to Aura, the claim kept) with Synced=False
`DeletionProtected` until someone sets `spec.deletionProtection: false`; then the deletion
proceeds as its policy says. `spec.deletionProtection` has no schema default, so an object that
does not set it follows the operator-wide default (AURA_OPERATOR_DEFAULT_DELETION_PROTECTION).

The controller asks `deletion_decision` on every deletion pass, before anything else it would
send: once the field is set to false the next pass (woken by that spec change) proceeds. The
force-finalize annotation is not affected: it never deletes anything in Aura.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: The Synced reason of a deleted object that deletion protection holds.
DELETION_PROTECTED = "DeletionProtected"

DeletionPolicy = Literal["Delete", "Retain"]


@dataclass(frozen=True)
class Proceed:
    """Delete (or retain) as the deletion policy says."""


@dataclass(frozen=True)
class Hold:
    """Keep the finalizer, send nothing; set Synced=False with `reason` and `message`."""

    message: str
    reason: str = DELETION_PROTECTED


DeletionDecision = Proceed | Hold


def is_protected(spec_value: bool | None, default: bool) -> bool:
    """The object's `spec.deletionProtection`, or the operator's default when it is unset."""
    return default if spec_value is None else spec_value


def deletion_decision(
    kind: str,
    spec_value: bool | None,
    default: bool,
    deletion_policy: DeletionPolicy,
    aura_object: str | None,
) -> DeletionDecision:
    """Hold a deleted object while it is protected. `aura_object` ("instance 1fa1930f"): what
    it manages in Aura, None when it has nothing there yet (nothing to protect: proceed)."""
    if aura_object is None or not is_protected(spec_value, default):
        return Proceed()
    why = (
        "spec.deletionProtection is true"
        if spec_value
        else "spec.deletionProtection is unset and the operator's default "
        "(AURA_OPERATOR_DEFAULT_DELETION_PROTECTION) is true"
    )
    effect = (
        f"would delete {aura_object} in Aura"
        if deletion_policy == "Delete"
        else f"would release {aura_object} (deletionPolicy Retain)"
    )
    return Hold(
        f"deletion held: {why}; deleting this {kind} {effect}. Set spec.deletionProtection to "
        f"false to let the deletion proceed"
    )
