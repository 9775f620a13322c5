"""The agency server: an HTTP API over a SQL database (SQLite by default, PostgreSQL in production)."""
