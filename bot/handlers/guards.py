"""The staff guards now live in the handler kit (bot/kit/guards.py); this name is kept for older imports."""

from bot.kit.guards import admin_only, current_scope, guard_of, is_public, public, refuse, staff_only

__all__ = ["admin_only", "current_scope", "guard_of", "is_public", "public", "refuse", "staff_only"]
