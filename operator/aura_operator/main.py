"""The module kopf loads (`kopf run -m aura_operator.main`): it imports every handler module."""

from aura_operator import lifecycle  # noqa: F401  (registers the start-up handler)
