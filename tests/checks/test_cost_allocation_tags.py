"""Every stack carries environment/service/owner tags: compliant and non-compliant cases."""

from __future__ import annotations

from cashtrace_constructs.checks import CostAllocationTags, SynthesizedStack, evaluate


def _stack(tags: dict[str, str]) -> SynthesizedStack:
    return SynthesizedStack(name="S", construct_path="S", template={"Resources": {}}, tags=tags)


def test_tagged_stack_is_compliant() -> None:
    stack = _stack({"environment": "dev", "service": "cashtrace", "owner": "platform-team"})
    assert evaluate([CostAllocationTags()], [stack]) == []


def test_missing_tags_are_named() -> None:
    findings = evaluate([CostAllocationTags()], [_stack({"environment": "dev", "owner": ""})])
    assert len(findings) == 1
    assert "service" in findings[0].message and "owner" in findings[0].message
    assert "environment'" not in findings[0].message
