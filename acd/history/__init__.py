"""The call history: a SQL database (SQLite or PostgreSQL) that reports are computed from."""
