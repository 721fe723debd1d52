"""The ledger: SQLAlchemy Core schema and engines for SQLite (embedded) and PostgreSQL."""
