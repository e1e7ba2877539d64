"""The placeholder digest can never be deployed: a CloudFormation rule in every stack synthesized with it.

Apart from stacks/release.py, which the CDK-free tools (make preflight, make rehearse) import.
"""

from __future__ import annotations

from aws_cdk import CfnRule, CfnRuleAssertion, Fn, Stack

from cashtrace_constructs.release_manifest import PLACEHOLDER_DIGEST


def refuse_deployment_without_release(stack: Stack, digest: str) -> None:
    """A synth without a release (`make synth`) pins the placeholder digest; CloudFormation refuses such a
    template before it changes anything, instead of ECS failing to pull a nonexistent image."""
    CfnRule(
        stack,
        "ReleaseRequired",
        assertions=[
            CfnRuleAssertion(
                assert_=Fn.condition_not(Fn.condition_equals(digest, PLACEHOLDER_DIGEST)),
                assert_description=(
                    "DEPLOY_CI_FAILED [release.image.digest]: synthesized without a release, so the image is "
                    "the placeholder digest; deploy with -c release=<release.json> or -c image-digest=sha256:..."
                ),
            )
        ],
    )
