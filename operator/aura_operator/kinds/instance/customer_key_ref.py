"""spec.customerManagedKeyRef / customerManagedKeyId of an AuraInstance: the key a create
sends, once it is ready and fits the instance (type, cloud, region, tenant)."""

from __future__ import annotations

from dataclasses import dataclass

from aura_operator.aura import AuraNotFound
from aura_operator.kinds.customer_key.model import KEY_TYPES, PLURAL, AuraCustomerManagedKey
from aura_operator.kinds.instance.instance_pass import InstancePass
from aura_operator.runtime.model import SpecProblem


@dataclass(frozen=True)
class KeyWait:
    """The key is not ready yet: the create waits (Synced says why)."""

    message: str


def _mismatch(
    field: str, what: str, key: tuple[str, str, str], spec: tuple[str, str, str]
) -> SpecProblem | None:
    if all(key) and key != spec:
        return SpecProblem(
            field,
            f"{field}: {what} is for {key[0]} in {key[1]}/{key[2]}, but the instance is "
            f"{spec[0]} in {spec[1]}/{spec[2]}; a key encrypts only instances of its own type, "
            "cloud and region",
        )
    return None


async def key_for_create(p: InstancePass, tenant_id: str) -> str | KeyWait | SpecProblem | None:
    """The Aura id of the key the new instance is encrypted with (None: no key)."""
    spec = p.obj.spec
    ref, key_id = spec.customer_managed_key_ref, spec.customer_managed_key_id
    if ref is None and not key_id:
        return None
    field = "spec.customerManagedKeyRef" if ref is not None else "spec.customerManagedKeyId"
    if spec.type not in KEY_TYPES:
        return SpecProblem(
            field,
            f"{field}: customer-managed keys are only available for type "
            f"{' and '.join(KEY_TYPES)} (spec.type is {spec.type})",
        )
    wanted = (spec.type or "", spec.cloud_provider or "", spec.region or "")
    if ref is not None:
        body = await p.ctx.kube.get_object(PLURAL, p.obj.ref.namespace, ref.name)
        if body is None:
            return KeyWait(
                f"waiting for AuraCustomerManagedKey {ref.name} ({field}): it does not exist"
            )
        key = AuraCustomerManagedKey.from_body(body)
        what = f"AuraCustomerManagedKey {ref.name}"
        problem = _mismatch(
            field, what, (key.spec.instance_type, key.spec.cloud_provider, key.spec.region), wanted
        )
        if problem is not None:
            return problem
        if not key.ready or not key.aura_id:
            state = key.status.state or "not created yet"
            return KeyWait(f"waiting for {what} to be Ready before creating (it is {state})")
        if key.status.tenant_id and key.status.tenant_id != tenant_id:
            return SpecProblem(
                field,
                f"{field}: {what} belongs to tenant {key.status.tenant_id}, the instance to "
                f"tenant {tenant_id}",
            )
        return key.aura_id
    assert key_id is not None
    try:
        found = await p.client.get_customer_managed_key(key_id)
    except AuraNotFound:
        return SpecProblem(
            field,
            f"{field}: key {key_id} does not exist in Aura or is not visible to this credential",
        )
    problem = _mismatch(
        field,
        f"key {key_id}",
        (found.instance_type or "", found.cloud_provider or "", found.region or ""),
        wanted,
    )
    if problem is not None:
        return problem
    if found.tenant_id != tenant_id:
        return SpecProblem(
            field, f"{field}: key {key_id} belongs to tenant {found.tenant_id}, not {tenant_id}"
        )
    if not found.is_ready:
        return KeyWait(
            f"waiting for key {key_id} to be ready before creating (it is {found.status})"
        )
    return key_id
