"""Reading synthesized CloudFormation templates: resources by type, their properties, references.

The one place template JSON is walked generically; the rules, `python -m tools.budgets` and the
tests all use it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

Template = Mapping[str, Any]
Resource = Mapping[str, Any]
Resources = Mapping[str, Resource]

POLICY_TYPES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
INLINE_POLICY_TYPES = ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group")

# `${Name}` and `${Name.Attribute}` in an Fn::Sub string; `${!Literal}` is an escape, not a reference.
_SUB_REFERENCE = re.compile(r"\$\{([^!}][^}]*)\}")


def resources_of(template: Template) -> Resources:
    """Logical id -> resource of a template (empty when it has none)."""
    return template.get("Resources") or {}


def of_type(template: Template, *resource_types: str) -> Iterator[tuple[str, Resource]]:
    """(logical id, resource) for every resource of the given types, in template order."""
    for logical_id, resource in resources_of(template).items():
        if resource.get("Type") in resource_types:
            yield logical_id, resource


def properties(resource: Resource) -> Mapping[str, Any]:
    return resource.get("Properties") or {}


def listed(value: Any) -> list[Any]:
    """A value CloudFormation and IAM accept as one item or a list of them, as a list."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def references(value: Any) -> set[str]:
    """Logical ids (and pseudo parameters) a template value refers to through Ref, Fn::GetAtt or Fn::Sub."""
    found: set[str] = set()
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key == "Ref" and isinstance(item, str):
                found.add(item)
            elif key == "Fn::GetAtt":
                target = item[0] if isinstance(item, list) else str(item).split(".", 1)[0]
                found.add(str(target))
            elif key == "Fn::Sub" and isinstance(item, (str, list)):
                text = item if isinstance(item, str) else item[0]
                found.update(name.split(".", 1)[0] for name in _SUB_REFERENCE.findall(str(text)))
                found |= references(item)
            else:
                found |= references(item)
    elif isinstance(value, list):
        for item in value:
            found |= references(item)
    return found


def policy_documents(template: Template) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    """(logical id, location, document) of every IAM policy document, standalone or inline."""
    for logical_id, resource in of_type(template, *POLICY_TYPES, *INLINE_POLICY_TYPES):
        if resource.get("Type") in POLICY_TYPES:
            yield logical_id, "Properties.PolicyDocument", properties(resource).get("PolicyDocument") or {}
        else:
            for index, policy in enumerate(properties(resource).get("Policies") or []):
                yield logical_id, f"Properties.Policies[{index}].PolicyDocument", policy.get("PolicyDocument") or {}


def statements(document: Mapping[str, Any]) -> Iterator[tuple[int, Mapping[str, Any]]]:
    """(index, statement) of a policy document; a single statement object counts as a list of one."""
    for index, statement in enumerate(listed(document.get("Statement"))):
        if isinstance(statement, Mapping):
            yield index, statement
