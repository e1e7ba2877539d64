"""The AWS accounts a preflight reads: credentials found or explained, and clients that can only read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import (
    ClientError,
    CredentialRetrievalError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
    SSOError,
    TokenRetrievalError,
)

# Read operations only: every client the preflight makes refuses any other before it is sent.
READ_ONLY_PREFIXES = ("Get", "Describe", "List", "Query")
# Identity and region opt-in answer from us-east-1 (global services), also before af-south-1 is enabled.
GLOBAL_REGION = "us-east-1"
_EXPIRED = frozenset(
    {"ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "UnrecognizedClientException", "AccessDenied"}
)
CREDENTIAL_ERRORS = (
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
    SSOError,
    TokenRetrievalError,
    CredentialRetrievalError,
)


class WriteRefused(RuntimeError):
    """A call that is not a read reached a preflight client; it was not sent."""


class NoCredentials(Exception):
    """No usable credentials for one account: `cause`, and `how_to` get them."""

    def __init__(self, label: str, account: str, profile: str | None, cause: str) -> None:
        where = f"profile {profile}" if profile else "the default credential chain"
        super().__init__(f"no usable AWS credentials for the {label} account {account} ({where}): {cause}")
        self.how_to = how_to_get_credentials(label, account, profile)


def refuse_writes(model: Any, **_: Any) -> None:
    """botocore `before-parameter-build` hook: anything but a read fails before it is even built."""
    if not str(model.name).startswith(READ_ONLY_PREFIXES):
        raise WriteRefused(f"the preflight only reads; {model.service_model.service_name}:{model.name} was refused")


def guard(client: Any) -> Any:
    client.meta.events.register("before-parameter-build", refuse_writes)
    return client


def how_to_get_credentials(label: str, account: str, profile: str | None) -> str:
    example = profile or f"cashtrace-{label}"
    variable = "PIPELINE_PROFILE" if label == "pipeline" else "PROFILE"
    return (
        f"with IAM Identity Center (SSO): once `aws configure sso --profile {example}` (account {account}; "
        f"a read-only role is enough), then `aws sso login --profile {example}` (again when the session expires)\n"
        f"make preflight ENV=<env> {variable}={example} (PROFILE: the environment's account, PIPELINE_PROFILE: "
        "the pipeline's)\n"
        "or export AWS_PROFILE, or AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN of a read-only role"
    )


@dataclass
class Account:
    """One account as the preflight reaches it: `label` (dev, staging, prod, pipeline) and the configured id."""

    label: str
    expected: str
    region: str
    profile: str | None = None
    make_session: Callable[..., Any] = boto3.Session
    # Clients a test supplies (moto, Stubber), by service name.
    clients: dict[str, Any] = field(default_factory=dict)
    identity: str | None = None
    _session: Any = None
    _guarded: set[int] = field(default_factory=set)
    _missing: NoCredentials | None = None

    def session(self) -> Any:
        if self._session is None:
            try:
                self._session = self.make_session(profile_name=self.profile) if self.profile else self.make_session()
            except ProfileNotFound as error:
                raise NoCredentials(self.label, self.expected, self.profile, str(error)) from None
        return self._session

    def client(self, service: str, region: str | None = None) -> Any:
        """One read-only client per service (each service is read in one region)."""
        if service not in self.clients:
            self.clients[service] = self.session().client(service, region_name=region or self.region)
        client = self.clients[service]
        if id(client) not in self._guarded:
            guard(client)
            self._guarded.add(id(client))
        return client

    def table(self, name: str) -> Any:
        resource = self.session().resource("dynamodb", region_name=self.region)
        guard(resource.meta.client)
        return resource.Table(name)

    def whoami(self) -> str:
        """The account the credentials are for; NoCredentials (remembered) when there are none."""
        if self._missing is not None:
            raise self._missing
        if self.identity is None:
            try:
                response = self.client("sts", GLOBAL_REGION).get_caller_identity()
            except CREDENTIAL_ERRORS as error:
                self._missing = NoCredentials(self.label, self.expected, self.profile, type(error).__name__)
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code", "")
                if code not in _EXPIRED:
                    raise
                self._missing = NoCredentials(self.label, self.expected, self.profile, code)
            except NoCredentials as missing:
                self._missing = missing
            if self._missing is not None:
                raise self._missing
            self.identity = str(response["Account"])
        return self.identity
