"""The main menu now lives in the handler kit (bot/kit/menu.py); this name is kept for older imports."""

from bot.kit.menu import HOME, MENU_PREFIX, Menu, MenuItem, home_button

__all__ = ["HOME", "MENU_PREFIX", "Menu", "MenuItem", "home_button"]
