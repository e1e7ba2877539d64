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
