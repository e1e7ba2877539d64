"""What a change does to a stack's resources: added, removed, replaced or modified, by type.

Replacement follows CloudFormation's resource schemas (their `createOnlyProperties`, as cfn-lint
ships them offline): a changed create-only property, a changed type, or a new logical id for the
same construct path (a renamed construct id) replaces the resource; so does a create-only
property that names a resource being replaced. A replaced or removed store (classification.py)
is what the pull-request review warns about first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from cashtrace_constructs.checks.template import Template, references, resources_of
from tools.evidence.classification import STATEFUL_TYPES

ADDED, REMOVED, REPLACED, MODIFIED = "added", "removed", "replaced", "modified"
_MISSING = object()


@dataclass(frozen=True)
class Change:
    logical_id: str
    resource_type: str
    path: str
    action: str
    reason: str = ""
    # What happens to the old resource: its UpdateReplacePolicy when replaced, DeletionPolicy when removed.
    old_resource: str = ""

    @property
    def stateful(self) -> bool:
        return self.resource_type in STATEFUL_TYPES


@cache
def create_only(resource_type: str, region: str = "af-south-1") -> tuple[tuple[str, ...], ...]:
    """Property paths (below Properties) whose change makes CloudFormation replace the resource."""
    if not resource_type.startswith("AWS::"):
        return ()
    # Imported on first use: loading the schema manager costs ~0.3 s the evidence report never needs.
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    try:
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(region, resource_type).schema
    except Exception:  # an unknown type has no schema: it is then never "replaced" by a property
        return ()
    paths = []
    for pointer in schema.get("createOnlyProperties", []):
        segments = str(pointer).removeprefix("/properties/").split("/")
        # `*` walks into arrays; compare the whole array instead.
        paths.append(tuple(segments[: segments.index("*")] if "*" in segments else segments))
    return tuple(paths)


def _fate(resource: Mapping[str, Any], action: str) -> str:
    """The old resource's policy for `action`, CloudFormation's default (Delete) when it names none."""
    attribute = "UpdateReplacePolicy" if action == REPLACED else "DeletionPolicy"
    return str(resource.get(attribute, "Delete"))


def _at(properties: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = properties
    for segment in path:
        if not isinstance(value, Mapping) or segment not in value:
            return _MISSING
        value = value[segment]
    return value


def _replacement_reason(base: Mapping[str, Any], head: Mapping[str, Any], region: str) -> str | None:
    if base.get("Type") != head.get("Type"):
        return f"type changes from {base.get('Type')}"
    base_props, head_props = base.get("Properties") or {}, head.get("Properties") or {}
    for path in create_only(str(head.get("Type")), region):
        if _at(base_props, path) != _at(head_props, path):
            return f"{'.'.join(path)} changes (create-only)"
    return None


def compare(
    base: Template | None,
    head: Template | None,
    *,
    base_paths: Mapping[str, str] | None = None,
    head_paths: Mapping[str, str] | None = None,
    region: str = "af-south-1",
) -> list[Change]:
    """Every resource that `head` adds, removes, replaces or modifies relative to `base`."""
    old, new = resources_of(base or {}), resources_of(head or {})
    base_paths, head_paths = base_paths or {}, head_paths or {}
    changes: dict[str, Change] = {}
    for logical_id, resource in new.items():
        kind, path = str(resource.get("Type")), head_paths.get(logical_id, logical_id)
        if logical_id not in old:
            changes[logical_id] = Change(logical_id, kind, path, ADDED)
        elif (reason := _replacement_reason(old[logical_id], resource, region)) is not None:
            changes[logical_id] = Change(logical_id, kind, path, REPLACED, reason, _fate(old[logical_id], REPLACED))
        elif old[logical_id] != resource:
            changes[logical_id] = Change(logical_id, kind, path, MODIFIED)
    for logical_id, resource in old.items():
        if logical_id in new:
            continue
        kind, path = str(resource.get("Type")), base_paths.get(logical_id, logical_id)
        policy = _fate(resource, REPLACED)
        renamed = next(
            (
                change
                for change in changes.values()
                if change.action == ADDED
                and change.resource_type == kind
                and logical_id in base_paths
                and head_paths.get(change.logical_id) == path
            ),
            None,
        )
        if renamed is not None:
            changes[renamed.logical_id] = Change(
                renamed.logical_id, kind, path, REPLACED, f"logical id changes from {logical_id}", policy
            )
        else:
            changes[f"-{logical_id}"] = Change(logical_id, kind, path, REMOVED, "", _fate(resource, REMOVED))
    _propagate(changes, old, new, region, head_paths)
    return sorted(changes.values(), key=lambda change: (change.path, change.action))


def _propagate(
    changes: dict[str, Change],
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    region: str,
    paths: Mapping[str, str],
) -> None:
    """A create-only property naming a replaced resource gets a new value at deploy time: replaced too."""
    while True:
        replaced = {change.logical_id for change in changes.values() if change.action == REPLACED}
        grown = False
        for logical_id, resource in new.items():
            current = changes.get(logical_id)
            if logical_id not in old or (current is not None and current.action == REPLACED):
                continue
            props = resource.get("Properties") or {}
            for path in create_only(str(resource.get("Type")), region):
                named = references(_at(props, path)) & replaced if _at(props, path) is not _MISSING else set()
                if named:
                    changes[logical_id] = Change(
                        logical_id,
                        str(resource.get("Type")),
                        paths.get(logical_id, logical_id),
                        REPLACED,
                        f"{'.'.join(path)} names {sorted(named)[0]}, which is replaced",
                        _fate(old[logical_id], REPLACED),
                    )
                    grown = True
                    break
        if not grown:
            return


def counts_by_type(changes: list[Change]) -> dict[str, dict[str, int]]:
    """Resource type -> action -> how many."""
    counts: dict[str, dict[str, int]] = {}
    for change in changes:
        by_action = counts.setdefault(change.resource_type, {ADDED: 0, REMOVED: 0, REPLACED: 0, MODIFIED: 0})
        by_action[change.action] += 1
    return dict(sorted(counts.items()))


def data_loss_risks(changes: list[Change]) -> list[Change]:
    """Stores (and keys) that this change replaces or removes."""
    return [change for change in changes if change.stateful and change.action in (REPLACED, REMOVED)]
