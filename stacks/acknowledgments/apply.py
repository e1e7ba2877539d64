"""Applying entries to a stack: each path must name at least one construct, or synthesis stops."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import asdict

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct

from cashtrace_constructs.errors import DeploymentError, ErrorCode
from stacks.acknowledgments.rules import NagAcknowledgment

ACKNOWLEDGMENTS_METADATA = "cashtrace:acknowledgments"


class _Tree:
    """Path lookups in one stack; each jsii round trip (~0.3 ms) is made once per node, not once per entry.

    A literal segment is one `try_find_child`; only a glob segment lists a node's children.
    """

    def __init__(self, root: IConstruct) -> None:
        self.root = root
        self._children: dict[str, list[tuple[str, IConstruct, str]]] = {}
        self._child: dict[str, IConstruct | None] = {}

    def _children_of(self, node: IConstruct, path: str) -> list[tuple[str, IConstruct, str]]:
        if path not in self._children:
            self._children[path] = [(child.node.id, child, f"{path}/{child.node.id}") for child in node.node.children]
        return self._children[path]

    def _child_of(self, node: IConstruct, path: str, child_id: str) -> list[tuple[IConstruct, str]]:
        child_path = f"{path}/{child_id}"
        if child_path not in self._child:
            self._child[child_path] = node.node.try_find_child(child_id)
        child = self._child[child_path]
        return [] if child is None else [(child, child_path)]

    def matching(self, pattern: str) -> list[IConstruct]:
        nodes: list[tuple[IConstruct, str]] = [(self.root, "")]
        for segment in pattern.split("/"):
            if not any(char in segment for char in "*?["):
                nodes = [found for node, path in nodes for found in self._child_of(node, path, segment)]
                continue
            nodes = [
                (child, child_path)
                for node, path in nodes
                for child_id, child, child_path in self._children_of(node, path)
                if fnmatch.fnmatchcase(child_id, segment)
            ]
        return [node for node, _ in nodes]


def apply(stack: Stack, entries: Iterable[NagAcknowledgment]) -> None:
    """Acknowledge each entry on every construct its path matches; refuse a path that matches none.

    The entries are also recorded, with their capability, as one `ACKNOWLEDGMENTS_METADATA` entry
    of the stack in the cloud assembly, where `make evidence` reads them.
    """
    tree = _Tree(stack)
    entries = list(entries)
    stack.node.add_metadata(ACKNOWLEDGMENTS_METADATA, [asdict(entry) for entry in entries])
    for entry in entries:
        targets = tree.matching(entry.path)
        if not targets:
            raise DeploymentError(
                ErrorCode.CONFIG_INVALID,
                f"acknowledgment of {entry.rule} names {entry.path!r}, which is not in {stack.node.path}; "
                "remove or update it",
                field="acknowledgments",
            )
        for target in targets:
            Validations.of(target).acknowledge(Acknowledgment(id=entry.rule, reason=entry.reason))
