"""The CD pipeline's notifications: failed executions and releases waiting for approval, as sentences with a link."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Stack
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions


def pipeline_notifications(
    stack: Stack, *, addresses: Sequence[str], pipeline: codepipeline.IPipeline, key: kms.IKey
) -> sns.Topic:
    """The `Notifications` topic emailing `addresses`, and the two rules publishing to it, built into `stack`."""
    topic = sns.Topic(stack, "Notifications", display_name="CashTrace pipeline", master_key=key, enforce_ssl=True)
    # Each address confirms its subscription once (SNS sends the link); until then it gets nothing.
    for address in addresses:
        topic.add_subscription(subscriptions.EmailSubscription(address))
    region = stack.region
    execution = events.EventField.from_path("$.detail.execution-id")
    console = (
        f"https://{region}.console.aws.amazon.com/codesuite/codepipeline/pipelines/"
        f"{pipeline.pipeline_name}/executions/{execution}/timeline?region={region}"
    )
    # CodeStar notification rules do not exist in af-south-1, so the same two events go to the
    # topic through EventBridge, as sentences with the link a reader needs.
    events.Rule(
        stack,
        "PipelineFailed",
        description="A CashTrace pipeline execution failed",
        event_pattern=events.EventPattern(
            source=["aws.codepipeline"],
            detail_type=["CodePipeline Pipeline Execution State Change"],
            resources=[pipeline.pipeline_arn],
            detail={"state": ["FAILED"]},
        ),
        targets=[
            targets.SnsTopic(
                topic,
                message=events.RuleTargetInput.from_text(
                    f"CashTrace release FAILED: pipeline execution {execution}. See {console}"
                ),
            )
        ],
    )
    events.Rule(
        stack,
        "ApprovalNeeded",
        description="A CashTrace release waits for its manual approval",
        event_pattern=events.EventPattern(
            source=["aws.codepipeline"],
            detail_type=["CodePipeline Action Execution State Change"],
            resources=[pipeline.pipeline_arn],
            detail={"state": ["STARTED"], "type": {"category": ["Approval"]}},
        ),
        targets=[
            targets.SnsTopic(
                topic,
                message=events.RuleTargetInput.from_text(
                    f"A CashTrace release waits for approval ({events.EventField.from_path('$.detail.stage')}, "
                    f"action {events.EventField.from_path('$.detail.action')}). Approve or reject: {console}"
                ),
            )
        ],
    )
    return topic
