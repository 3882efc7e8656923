"""`Pass`: what one reconcile pass (or one finalizer attempt) of one object works with.

The object as read at the start of the pass, the process context, the Aura client of the
object's credential, where events go and the time the pass started: one argument instead of
five, and one place that says what a decision may look at.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aura_operator.aura import AuraClient
from aura_operator.kinds.instance.model import AuraInstance
from aura_operator.runtime.context import OperatorContext
from aura_operator.runtime.object_state import ObjectState
from aura_operator.runtime.outcome import Recorder
from aura_operator.runtime.settings import Settings


@dataclass
class Pass:
    obj: AuraInstance
    ctx: OperatorContext
    aura: AuraClient
    events: Recorder
    now: datetime
    background: bool = False
    """A re-examination nobody asked for (drift, restart): reads go at background priority."""

    @property
    def state(self) -> ObjectState:
        return self.ctx.objects.get(self.obj.ref.uid)

    @property
    def settings(self) -> Settings:
        return self.ctx.settings
