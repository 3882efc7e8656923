"""The facts about one instance that the operator may put into Secrets applications read.

Secret templates (`secret_template.py`) and the Service Binding Secret (`service_binding.py`)
draw from this one closed set, so that neither can reach anything else: a template names a field
here or it is refused. The password is a `SecretStr` and is `None` when the operator does not
know it (an adopted instance whose Secret and backup are gone).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from pydantic import SecretStr

#: The placeholder names, in the order the documentation lists them.
FIELDS: tuple[str, ...] = (
    "uri",
    "host",
    "username",
    "password",
    "database",
    "instanceId",
    "instanceName",
    "tenantId",
    "cloudProvider",
    "region",
)


def host_of(uri: str) -> str:
    """The host name in a connection URI (`neo4j+s://abc.databases.neo4j.io` -> `abc.data...`)."""
    try:
        host = urlsplit(uri).hostname
    except ValueError:
        return ""
    return host or ""


@dataclass(frozen=True)
class ConnectionValues:
    """What Aura told the operator about an instance, plus its password if known."""

    uri: str
    instance_id: str
    instance_name: str
    username: str = "neo4j"
    password: SecretStr | None = None
    database: str = "neo4j"
    tenant_id: str = ""
    cloud_provider: str = ""
    region: str = ""

    @property
    def host(self) -> str:
        return host_of(self.uri)

    def fields(self) -> dict[str, str | None]:
        """Every field by its placeholder name; `password` is `None` when not known."""
        return {
            "uri": self.uri,
            "host": self.host,
            "username": self.username,
            "password": None if self.password is None else self.password.get_secret_value(),
            "database": self.database,
            "instanceId": self.instance_id,
            "instanceName": self.instance_name,
            "tenantId": self.tenant_id,
            "cloudProvider": self.cloud_provider,
            "region": self.region,
        }
