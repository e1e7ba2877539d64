"""No IAM policy grants every action on every resource (`*:*`), wherever it is attached."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cashtrace_constructs.checks.rule import Finding, StackRule, SynthesizedStack
from cashtrace_constructs.checks.template import listed, policy_documents, statements


def _is_everything(values: Any) -> bool:
    return any(value in ("*", "*:*") for value in listed(values))


class IamFullAdmin(StackRule):
    rule_id = "CT-IamFullAdmin"
    property_name = "Least privilege"
    description = "No IAM policy allows `*` (or `*:*`) actions on `*` resources."
    fix = "Grant the actions the workload calls, on the resources it uses (construct grant_* methods)."

    def check_stack(self, stack: SynthesizedStack) -> Iterable[Finding]:
        for logical_id, location, document in policy_documents(stack.template):
            for index, statement in statements(document):
                if statement.get("Effect") != "Allow" or "NotAction" in statement:
                    continue
                if _is_everything(statement.get("Action")) and (
                    "NotResource" in statement or _is_everything(statement.get("Resource"))
                ):
                    yield self.finding(
                        stack,
                        f"{stack.resources[logical_id]['Type']} {logical_id} allows every action on every resource",
                        logical_id=logical_id,
                        location=f"{location}.Statement[{index}]",
                    )
