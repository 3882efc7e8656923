"""aura-operator: a Kubernetes operator for Neo4j Aura instances, built on kopf."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("aura-operator")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
