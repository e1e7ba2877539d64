"""The reference CashTrace API service (`python -m service`); the contract it implements is in docs/release.md."""
