"""The module kopf loads (`kopf run -m aura_operator.main`): the kinds, registered explicitly.

Each kind is one `Kind` (kinds/<kind>/registration.py); `register` builds its kopf handlers
(runtime/controller.py). `lifecycle` holds the start-up and clean-up handlers.
"""

from aura_operator.kinds.credential.registration import CREDENTIAL
from aura_operator.kinds.customer_key.registration import CUSTOMER_KEY
from aura_operator.kinds.instance.registration import INSTANCE
from aura_operator.kinds.restore.registration import RESTORE
from aura_operator.kinds.session.registration import SESSION
from aura_operator.kinds.snapshot.registration import SNAPSHOT
from aura_operator.runtime import lifecycle
from aura_operator.runtime.controller import register, register_shared

#: Every kind this operator runs.
KINDS = (INSTANCE, SNAPSHOT, RESTORE, CUSTOMER_KEY, SESSION, CREDENTIAL)

for _kind in KINDS:
    register(_kind)
register_shared()  # what every kind shares: the AuraReferenceGrant watch (issue 19)

__all__ = ["KINDS", "lifecycle"]
