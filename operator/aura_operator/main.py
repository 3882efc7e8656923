"""The module kopf loads (`kopf run -m aura_operator.main`): it imports every handler module."""

from aura_operator import backup_handlers, handlers, lifecycle, platform_handlers

__all__ = ["backup_handlers", "handlers", "lifecycle", "platform_handlers"]
