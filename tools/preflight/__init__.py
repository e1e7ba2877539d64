"""`make preflight ENV=<env>`: read-only checks of the accounts a first deploy needs, each failure with its fix."""
