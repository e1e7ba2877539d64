"""What every `PythonHandler` (our Lambda functions) needs acknowledged."""

from __future__ import annotations

from stacks.acknowledgments.rules import INLINE_POLICY, NagAcknowledgment, acknowledged, managed_policy, wildcard

X_RAY_ONLY = "X-Ray tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) supports no resource-level permissions."


def python_handler(path: str, *, unscoped_actions: str = X_RAY_ONLY) -> list[NagAcknowledgment]:
    """The `PythonHandler` at `path`; `unscoped_actions` says why its policy has `Resource: *`."""
    role = f"{path}/Function/ServiceRole"
    return [
        *acknowledged(
            f"{role}/Resource",
            managed_policy("service-role/AWSLambdaBasicExecutionRole"),
            managed_policy("service-role/AWSLambdaVPCAccessExecutionRole"),
            reason="AWSLambdaBasicExecutionRole and AWSLambdaVPCAccessExecutionRole are AWS's minimal "
            "policies for logging and for the ENIs a VPC function needs; ENI actions cannot be "
            "scoped to resources.",
        ),
        *acknowledged(f"{role}/DefaultPolicy/Resource", wildcard("Resource::*"), reason=unscoped_actions),
        *acknowledged(
            f"{role}/DefaultPolicy/Resource",
            *INLINE_POLICY,
            reason="CDK grants of this one function (its DLQ, its key, the calls it makes), scoped to "
            "named resources; an inline policy on a single-purpose role is the auditable form.",
        ),
    ]
