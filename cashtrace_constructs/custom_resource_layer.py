"""The layer of the handlers behind our `Custom::*` resources: how they answer CloudFormation.

`lambdas/layers/custom_resource/python/custom_resource.py` (failed-until-done answers, the
response PUT and its one retry), shared by the database bootstrap and the promotion gate.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from cashtrace_constructs.function import stack_layer

LAYER_DIR = Path(__file__).resolve().parent.parent / "lambdas" / "layers" / "custom_resource"


def custom_resource_layer(scope: Construct) -> lambda_.ILayerVersion:
    """The stack's one custom-resource layer (made on first use)."""
    return stack_layer(
        scope,
        "CustomResourceLayer",
        description="How CashTrace's custom-resource handlers answer CloudFormation",
        code=lambda_.Code.from_asset(str(LAYER_DIR), exclude=["__pycache__", "*.pyc"]),
    )
