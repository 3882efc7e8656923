"""The Service Binding Secret: AuraInstance as a Provisioned Service (servicebinding.io).

The Service Binding for Kubernetes specification lets a ServiceBinding controller (or Spring
Cloud Bindings, reading the projected files) connect an application to a backing service without
any mapping: the service's resource names a Secret in `status.binding.name`, and that Secret
holds well-known entries: `type` (here `neo4j`, which Spring Cloud Bindings recognises),
`provider`, `host`, `port`, `uri`, `username`, `password`. The Secret's own `type` is
`servicebinding.io/neo4j`, as servicebinding.io recommends, so it can be found by field selector.

It is a second Secret beside the `.env`-style connection Secret, with lower-case keys: an
application that mounts the connection Secret with `envFrom` gets no new variables from it.
`port` is written only when the URI names one (Aura's `neo4j+s://` URIs do not).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from aura_operator.kinds.instance.connection_values import ConnectionValues

BINDING_TYPE = "neo4j"
PROVIDER = "neo4j-aura"
SECRET_TYPE = f"servicebinding.io/{BINDING_TYPE}"
SUFFIX = "-binding"
#: A Secret's name is a DNS subdomain: at most 253 characters.
_NAME_MAX = 253

#: The entries written, in the specification's order (`port` only when the URI names one).
ENTRIES: tuple[str, ...] = (
    "type",
    "provider",
    "uri",
    "host",
    "port",
    "username",
    "password",
    "database",
)


def secret_name(object_name: str) -> str:
    """`<name>-binding`; a name too long for that is cut and made unique with a short hash."""
    name = f"{object_name}{SUFFIX}"
    if len(name) <= _NAME_MAX:
        return name
    digest = hashlib.sha256(object_name.encode()).hexdigest()[:8]
    keep = _NAME_MAX - len(SUFFIX) - len(digest) - 1
    return f"{object_name[:keep].rstrip('-.')}-{digest}{SUFFIX}"


def _port(uri: str) -> str | None:
    try:
        port = urlsplit(uri).port
    except ValueError:
        return None
    return None if port is None else str(port)


def entries(values: ConnectionValues) -> dict[str, str]:
    """The Secret's entries as plain strings; `password` is absent while it is unknown."""
    data = {
        "type": BINDING_TYPE,
        "provider": PROVIDER,
        "uri": values.uri,
        "host": values.host,
        "username": values.username,
        "database": values.database,
    }
    if (port := _port(values.uri)) is not None:
        data["port"] = port
    if values.password is not None:
        data["password"] = values.password.get_secret_value()
    return {key: data[key] for key in ENTRIES if key in data}


def complete(data: Mapping[str, str]) -> bool:
    """True once the entries are enough to connect (the password is known)."""
    return all(data.get(key) for key in ("uri", "username", "password"))


def secret(
    name: str,
    namespace: str,
    data: Mapping[str, str],
    *,
    labels: Mapping[str, str],
    owner_reference: Mapping[str, Any],
    annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The Secret as it should be, `data` (plain strings, from `entries`) base64-encoded.

    A Secret's `type` cannot change: a Secret of this name with another type must be deleted
    (if the operator owns it) rather than replaced."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": SECRET_TYPE,
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": dict(labels),
            "annotations": dict(annotations or {}),
            "ownerReferences": [dict(owner_reference)],
        },
        "data": {key: base64.b64encode(value.encode()).decode() for key, value in data.items()},
    }


def status(name: str) -> dict[str, Any]:
    """The status fragment that makes the object a Provisioned Service."""
    return {"binding": {"name": name}}
