"""The operator's access to one environment's secrets: `SecretManager` (API) and `python -m tools.secret_manager`."""

from tools.secret_manager.manager import SecretAccessLog, SecretManager, SecretMetadata

__all__ = ["SecretAccessLog", "SecretManager", "SecretMetadata"]
