"""Tashakkol: the Telegram (and Bale) bot of a chamber of commerce's trade associations."""
