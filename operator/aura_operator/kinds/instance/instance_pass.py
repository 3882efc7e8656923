"""`InstancePass`: the controller's one `Pass` type, of an AuraInstance (its decisions take it,
with the client of its credential resolved)."""

from __future__ import annotations

from typing import TypeAlias

from aura_operator.kinds.instance.model import AuraInstance
from aura_operator.runtime.controller import Pass

InstancePass: TypeAlias = Pass[AuraInstance]
