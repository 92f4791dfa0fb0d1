"""Domain services: pure rules and database operations, free of Telegram."""
