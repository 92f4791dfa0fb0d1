"""Telegram in, Telegram out: one module per feature (thin). bot/registry.py registers them in order."""
