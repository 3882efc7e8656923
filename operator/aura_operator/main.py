"""The module kopf loads (`kopf run -m aura_operator.main`): it imports every handler module."""

from aura_operator import handlers, lifecycle, platform_handlers

__all__ = ["handlers", "lifecycle", "platform_handlers"]
