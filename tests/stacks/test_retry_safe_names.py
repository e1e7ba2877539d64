"""A failed first deploy cannot block its retry: no retained resource keeps a fixed physical name without a reason.

A stack whose first create fails is deleted and created again, and every resource whose
DeletionPolicy keeps it (Retain, RetainExceptOnCreate, Snapshot with deletion protection) may
survive the failed attempt. If its physical name is fixed, the retry fails with "already
exists". This test walks every retained resource of every template of the real app (the
pipeline's stage stacks included), finds its physical name from CloudFormation's resource schema
(the writable primary identifier, plus the unique names below that are not identifiers), and
fails on a fixed name that `DOCUMENTED_EXCEPTIONS` does not list with a reason and the deletion
policies that reason relies on. Names ending in the stack id's first block
(`cashtrace_constructs.naming.per_stack_name`) or referring to a CloudFormation-named resource
change with every attempt and pass.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

RETAINED = frozenset({"Retain", "RetainExceptOnCreate", "Snapshot"})
# Names that identify a resource uniquely in an account but are not its schema's primary identifier.
UNIQUE_NAMES: Mapping[str, tuple[str, ...]] = {
    "AWS::SecretsManager::Secret": ("Name",),
    "AWS::IAM::OIDCProvider": ("Url",),
}
# A retry after a failed first create is a new stack: its id is new. Every other pseudo parameter
# (account, region, stack name, partition) repeats.
VARYING_PSEUDO_PARAMETERS = frozenset({"AWS::StackId"})


@dataclass(frozen=True)
class DocumentedName:
    """A retained resource whose fixed name is needed, and why it still cannot block a retry."""

    resource_type: str
    name: str  # a regular expression over the rendered name (tokens as ${...})
    deletion_policies: frozenset[str]
    reason: str

    def covers(self, resource_type: str, name: str, policy: str) -> bool:
        return (
            resource_type == self.resource_type
            and re.fullmatch(self.name, name) is not None
            and policy in self.deletion_policies
        )


DOCUMENTED_EXCEPTIONS: tuple[DocumentedName, ...] = (
    DocumentedName(
        "AWS::SecretsManager::Secret",
        r"cashtrace/(dev|staging|prod)/[a-z0-9][a-z0-9/_-]*",
        frozenset({"RetainExceptOnCreate"}),
        "Secret names are the isolation contract (`cashtrace/<env>/<purpose>`: the ABAC resource policies, the "
        "CT-P6 rule and the operator CLI address secrets by name). RetainExceptOnCreate: when the operation that "
        "created the secret rolls back, CloudFormation deletes it without a recovery window, so the retry can "
        "create the name again; a stack that completed keeps it.",
    ),
    DocumentedName(
        "AWS::ECR::Repository",
        r"cashtrace/[a-z0-9/._-]+",
        frozenset({"RetainExceptOnCreate"}),
        "CI pushes to and every environment pulls from this name (PipelineConfig.release_repository, "
        "ServiceConfig.repository_name). CI pushes only once the pipeline stack exists, so the repository is "
        "still empty when its first create rolls back, and RetainExceptOnCreate deletes it.",
    ),
    DocumentedName(
        "AWS::IAM::OIDCProvider",
        r"https://token\.actions\.githubusercontent\.com",
        frozenset({"RetainExceptOnCreate"}),
        "IAM keeps one provider per issuer URL and account, and the URL is GitHub's. RetainExceptOnCreate deletes "
        "it when the create that made it rolls back; an account that already has one sets "
        "GitHubOidcConfig.create_provider=False.",
    ),
)


# ---- reading names out of a template ------------------------------------------------------------


@cache
def name_properties(resource_type: str) -> tuple[str, ...]:
    """The properties that make up a resource's physical name (empty: AWS always chooses it)."""
    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("af-south-1", resource_type).schema
    read_only = set(schema.get("readOnlyProperties", ()))
    writable = tuple(
        pointer.rsplit("/", 1)[1] for pointer in schema.get("primaryIdentifier", ()) if pointer not in read_only
    )
    return writable or UNIQUE_NAMES.get(resource_type, ())


def _referenced(value: Any) -> Iterator[str]:
    """Every name a value refers to: Ref targets, GetAtt resources and ${...} of Fn::Sub."""
    if isinstance(value, Mapping):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                yield inner
            elif key == "Fn::GetAtt":
                yield (inner.split(".")[0] if isinstance(inner, str) else inner[0])
            elif key == "Fn::Sub":
                text, variables = (inner, {}) if isinstance(inner, str) else (inner[0], inner[1])
                for name in re.findall(r"\$\{([^!}][^}]*)\}", text):
                    if name not in variables:
                        yield name.split(".")[0]
                yield from _referenced(variables)
            else:
                yield from _referenced(inner)
    elif isinstance(value, list):
        for item in value:
            yield from _referenced(item)


def is_fixed(value: Any, template: Mapping[str, Any], seen: frozenset[str] = frozenset()) -> bool:
    """Would this value be the same on a retry? Not if it involves the stack id or a CloudFormation-named resource."""
    for name in _referenced(value):
        if name in VARYING_PSEUDO_PARAMETERS:
            return False
        resource = (template.get("Resources") or {}).get(name)
        if resource is not None and (name in seen or not has_fixed_name(name, resource, template, seen | {name})):
            return False
    return True


def physical_name(resource: Mapping[str, Any]) -> dict[str, Any]:
    properties = resource.get("Properties") or {}
    return {name: properties[name] for name in name_properties(resource["Type"]) if name in properties}


def has_fixed_name(
    logical_id: str, resource: Mapping[str, Any], template: Mapping[str, Any], seen: frozenset[str] = frozenset()
) -> bool:
    names = name_properties(resource["Type"])
    given = physical_name(resource)
    # A name part left out is chosen by CloudFormation, new for every resource it creates.
    return bool(names) and len(given) == len(names) and all(is_fixed(v, template, seen) for v in given.values())


def render(value: Any) -> str:
    """A name as text, tokens as ${Ref} / ${Resource.Attribute}, for matching and for messages."""
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, list):
        return "".join(render(item) for item in value)
    if isinstance(value, Mapping):
        if "Ref" in value:
            return f"${{{value['Ref']}}}"
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            return f"${{{target if isinstance(target, str) else '.'.join(target)}}}"
        if "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return separator.join(render(part) for part in parts)
        if "Fn::Sub" in value:
            inner = value["Fn::Sub"]
            return inner if isinstance(inner, str) else inner[0]
    return str(value)


@dataclass(frozen=True)
class RetainedName:
    stack: str
    logical_id: str
    resource_type: str
    policy: str
    name: str


def retained_fixed_names(templates: Mapping[str, Mapping[str, Any]]) -> list[RetainedName]:
    found = []
    for stack, template in templates.items():
        for logical_id, resource in (template.get("Resources") or {}).items():
            policy = resource.get("DeletionPolicy", "Delete")
            if policy in RETAINED and has_fixed_name(logical_id, resource, template):
                name = "/".join(render(value) for value in physical_name(resource).values())
                found.append(RetainedName(stack, logical_id, resource["Type"], policy, name))
    return found


def undocumented(found: list[RetainedName]) -> list[RetainedName]:
    return [
        item
        for item in found
        if not any(rule.covers(item.resource_type, item.name, item.policy) for rule in DOCUMENTED_EXCEPTIONS)
    ]


# ---- the real app ---------------------------------------------------------------------------------


def test_no_retained_resource_of_any_template_keeps_an_undocumented_fixed_name(
    templates: dict[str, dict[str, Any]],
) -> None:
    found = retained_fixed_names(templates)
    blocking = undocumented(found)
    assert not blocking, "retained resources with a fixed name a failed first deploy leaves in the retry's way:\n" + (
        "\n".join(
            f"  {item.stack} {item.logical_id} {item.resource_type} {item.policy} {item.name!r}" for item in blocking
        )
    )
    print("\nDocumented fixed names of retained resources (tests/stacks/test_retry_safe_names.py):")
    for item in found:
        print(f"  {item.stack:45} {item.resource_type:28} {item.policy:21} {item.name}")


def test_every_documented_exception_is_still_needed(templates: dict[str, dict[str, Any]]) -> None:
    found = retained_fixed_names(templates)
    for rule in DOCUMENTED_EXCEPTIONS:
        assert any(rule.covers(item.resource_type, item.name, item.policy) for item in found), (
            f"{rule.resource_type} {rule.name!r} is documented but no retained resource needs it: delete the entry"
        )


def test_the_walk_sees_the_retained_resources_it_must_judge(templates: dict[str, dict[str, Any]]) -> None:
    # The names that used to block a retry are still named, now per stack: the walk reads them and passes them.
    prod = templates["CashTrace-Prod"]["Resources"]
    by_type = {(r["Type"], r.get("DeletionPolicy")) for r in prod.values()}
    assert ("AWS::Backup::BackupVault", "Retain") in by_type
    named = [
        "/".join(render(value) for value in physical_name(resource).values())
        for resource in prod.values()
        if resource["Type"] in ("AWS::Logs::LogGroup", "AWS::Backup::BackupVault", "AWS::RDS::DBInstance")
        and physical_name(resource)
    ]
    assert any("aws-waf-logs-cashtrace-prod-api-" in name for name in named), named
    assert any("/aws/rds/instance/cashtrace-prod-postgres-" in name for name in named), named
    assert all("AWS::StackId" in name for name in named if "cashtrace-prod" in name), named


# ---- the walk itself, on small templates ----------------------------------------------------------


def _template(**resources: Mapping[str, Any]) -> dict[str, Any]:
    return {"Resources": dict(resources)}


def _log_group(name: Any, policy: str = "Retain") -> dict[str, Any]:
    return {"Type": "AWS::Logs::LogGroup", "DeletionPolicy": policy, "Properties": {"LogGroupName": name}}


STACK_SUFFIX = {
    "Fn::Select": [0, {"Fn::Split": ["-", {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}]}]
}


@pytest.mark.parametrize(
    ("value", "fixed"),
    [
        ("aws-waf-logs-cashtrace-prod-api", True),
        ({"Fn::Join": ["-", ["aws-waf-logs", {"Ref": "AWS::Region"}, {"Ref": "AWS::AccountId"}]]}, True),
        ({"Fn::Join": ["-", ["aws-waf-logs-cashtrace-prod-api", STACK_SUFFIX]]}, False),
        ({"Fn::Sub": "vault-${AWS::StackId}"}, False),
        ({"Fn::Sub": "vault-${AWS::StackName}"}, True),
        ({"Fn::Join": ["", ["/aws/lambda/", {"Ref": "Unnamed"}]]}, False),
        ({"Fn::Join": ["", ["/aws/lambda/", {"Ref": "Named"}]]}, True),
        ({"Fn::Sub": "/aws/lambda/${Unnamed}"}, False),
    ],
)
def test_a_name_is_fixed_unless_it_involves_the_stack_id_or_a_generated_name(value: Any, fixed: bool) -> None:
    template = _template(
        Subject=_log_group(value),
        Unnamed={"Type": "AWS::Lambda::Function", "Properties": {}},
        Named={"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": "cashtrace-hook"}},
    )
    assert has_fixed_name("Subject", template["Resources"]["Subject"], template) is fixed


def test_only_retained_resources_with_a_fixed_name_are_reported() -> None:
    template = _template(
        Kept=_log_group("kept"),
        Deleted=_log_group("deleted", policy="Delete"),
        Generated={"Type": "AWS::Logs::LogGroup", "DeletionPolicy": "Retain", "Properties": {}},
        Secret={
            "Type": "AWS::SecretsManager::Secret",
            "DeletionPolicy": "RetainExceptOnCreate",
            "Properties": {"Name": "cashtrace/prod/cache-auth-token"},
        },
        Database={
            "Type": "AWS::RDS::DBInstance",
            "DeletionPolicy": "Snapshot",
            "Properties": {"DBInstanceIdentifier": "cashtrace-prod-postgres"},
        },
    )
    found = {item.logical_id: item for item in retained_fixed_names({"T": template})}
    assert set(found) == {"Kept", "Secret", "Database"}
    # The secret's reason covers it; a plain fixed log group and database identifier have none.
    assert {item.logical_id for item in undocumented(list(found.values()))} == {"Kept", "Database"}


def test_a_documented_name_only_passes_with_the_deletion_policy_its_reason_relies_on() -> None:
    retained = _template(
        Secret={
            "Type": "AWS::SecretsManager::Secret",
            "DeletionPolicy": "Retain",
            "Properties": {"Name": "cashtrace/prod/cache-auth-token"},
        }
    )
    assert [item.logical_id for item in undocumented(retained_fixed_names({"T": retained}))] == ["Secret"]


def test_names_come_from_the_resource_schema() -> None:
    assert name_properties("AWS::Logs::LogGroup") == ("LogGroupName",)
    assert name_properties("AWS::RDS::DBInstance") == ("DBInstanceIdentifier",)
    assert name_properties("AWS::SecretsManager::Secret") == ("Name",)
    assert name_properties("AWS::KMS::Key") == ()
