"""The secrets capability (Property 6): `EnvironmentSecrets`, its isolation policy and its audit trail."""

from cashtrace_constructs.secrets.audit import SecretsAudit, SecretsAuditProps
from cashtrace_constructs.secrets.environment_secrets import (
    SECRET_VALUE_KEY,
    EnvironmentSecrets,
    EnvironmentSecretsProps,
)
from cashtrace_constructs.secrets.isolation import (
    DENY_OTHER_ENVIRONMENTS_SID,
    ENVIRONMENT_TAG,
    PRINCIPAL_ENVIRONMENT,
    environment_of,
    isolation_statements,
)

__all__ = [
    "DENY_OTHER_ENVIRONMENTS_SID",
    "ENVIRONMENT_TAG",
    "PRINCIPAL_ENVIRONMENT",
    "SECRET_VALUE_KEY",
    "EnvironmentSecrets",
    "EnvironmentSecretsProps",
    "SecretsAudit",
    "SecretsAuditProps",
    "environment_of",
    "isolation_statements",
]
