"""Logical ids that do not depend on where a stack sits in the app.

CDK embeds the *absolute* unique id of a peer construct in some construct ids (security-group
rules name their peer, Lambda permissions name their rule's target, a generated database secret
names itself). The same environment stack then gets different logical ids as a top-level stack
(`cdk deploy CashTrace-Prod`) and inside a pipeline Stage, and CloudFormation would replace those
resources when the other path deploys. Normalizing the embedded ids to stack-relative form gives
both paths one template.

`stabilize_logical_ids(stack)` runs once, after the stack is composed: it overrides the id of
only those elements whose path embeds such an id. (Overriding `Stack.allocate_logical_id`
instead would cost a Python callback on every one of CDK's ~5,000 id lookups per stack.)
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence

from aws_cdk import CfnElement, Stack

_HIDDEN_ID = "Default"
_HIDDEN_FROM_HUMAN_ID = "Resource"
_MAX_HUMAN_LEN = 240
_MAX_ID_LEN = 255


def _alphanumeric(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", text)


def make_unique_id(components: Sequence[str]) -> str:
    """CDK's own algorithm (core/lib/private/uniqueid), so unaffected ids stay exactly as CDK makes them."""
    parts = [c for c in components if c != _HIDDEN_ID]
    if len(parts) == 1 and len(_alphanumeric(parts[0])) <= _MAX_ID_LEN:
        return _alphanumeric(parts[0])
    digest = hashlib.md5("/".join(parts).encode(), usedforsecurity=False).hexdigest()[:8].upper()
    deduped: list[str] = []
    for part in parts:
        if not deduped or not deduped[-1].endswith(part):
            deduped.append(part)
    human = "".join(_alphanumeric(p) for p in deduped if p != _HIDDEN_FROM_HUMAN_ID)
    return human[:_MAX_HUMAN_LEN] + digest


def stack_prefix(stack_path: str) -> str:
    """The human part that every absolute unique id of a construct in this stack starts with."""
    return "".join(_alphanumeric(part) for part in stack_path.split("/"))


def without_absolute_ids(component: str, prefix: str) -> str:
    """Replace each embedded absolute unique id (`<prefix><human><HASH8>`) by its human, stack-relative part."""
    pattern = re.escape(prefix) + r"([A-Za-z0-9]*?)[0-9A-F]{8}(?=[^A-Za-z0-9]|$)"
    return re.sub(pattern, r"\1", component)


def stable_logical_id(stack_path: str, element_path: str) -> str:
    relative = element_path.split("/")[len(stack_path.split("/")) :]
    prefix = stack_prefix(stack_path)
    return make_unique_id([without_absolute_ids(component, prefix) for component in relative])


def stabilize_logical_ids(stack: Stack) -> list[str]:
    """Give every element of `stack` whose path embeds an absolute unique id its stable id.

    Call it when the stack is fully composed; returns the overridden paths (for tests).
    """
    stack_path = stack.node.path
    prefix = stack_prefix(stack_path)
    overridden = []
    for construct in stack.node.find_all():
        if not isinstance(construct, CfnElement):
            continue
        path = construct.node.path
        if prefix not in path[len(stack_path) :]:
            continue
        components = path.split("/")[len(stack_path.split("/")) :]
        stable = stable_logical_id(stack_path, path)
        if stable != make_unique_id(components):
            construct.override_logical_id(stable)
            overridden.append(path)
    return overridden


def keep_logical_ids(stack: Stack, moved: Mapping[str, str]) -> list[str]:
    """Give every element under each moved subtree (`new path -> old path`, stack-relative) its old id.

    For resources that moved to a new owner after they were deployed: CloudFormation replaces a
    resource whose logical id changes (a replaced secret is a new password). An id CDK built
    from its owner's absolute unique id plus a suffix (a `DatabaseSecret` appends a hash of its
    password rules) is rebuilt the same way from the owner's old path. Call it when the stack is
    fully composed; returns the paths it changed.
    """
    kept = []
    for new, old in moved.items():
        subtree = stack.node.find_child(new.split("/")[0])
        for segment in new.split("/")[1:]:
            subtree = subtree.node.find_child(segment)
        start = len(subtree.node.path)
        for construct in subtree.node.find_all():
            if not isinstance(construct, CfnElement):
                continue
            current = str(stack.resolve(construct.logical_id))
            owner = construct.node.scope
            owner_id = make_unique_id(owner.node.path.split("/")) if owner is not None else ""
            if owner is not None and current.startswith(owner_id) and current != owner_id:
                old_id = make_unique_id(f"{old}{owner.node.path[start:]}".split("/")) + current[len(owner_id) :]
            else:
                old_id = make_unique_id(f"{old}{construct.node.path[start:]}".split("/"))
            construct.override_logical_id(old_id)
            kept.append(construct.node.path)
    return kept
