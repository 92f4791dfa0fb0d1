"""Storage: models, engine and sessions, conversation persistence, migrations."""
