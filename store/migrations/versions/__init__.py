"""One module per schema change, SQLite-safe (batch mode)."""
