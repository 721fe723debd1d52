"""CLI command groups, one module per domain; each is thin and calls its package."""
