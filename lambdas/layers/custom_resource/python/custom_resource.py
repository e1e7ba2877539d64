"""Answering CloudFormation for a handler behind a `Custom::*` resource: the only way it reports.

A layer shared by the handlers that are custom resources (database_bootstrap, promotion_gate);
in Lambda it is /opt/python/custom_resource.py (`cashtrace_constructs/custom_resource_layer.py`).
"""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

# How long one PUT to the response URL may take, and what a handler keeps back for answering when
# it sizes its work by the invocation's remaining time.
RESPONSE_TIMEOUT_SECONDS = 8.0
RESPONSE_RESERVE_SECONDS = 10.0

Respond = Callable[[Mapping[str, Any], Mapping[str, Any]], None]

logger = logging.getLogger()


def require_response_url(event: Any) -> None:
    """Without a response URL there is nobody to answer: fail loudly, so the Errors alarm fires."""
    if not isinstance(event, Mapping) or "ResponseURL" not in event:
        raise ValueError("not a CloudFormation custom resource event (no ResponseURL)")


def failed_answer(event: Mapping[str, Any], physical_id: str) -> dict[str, Any]:
    """The answer as it stands until the work succeeds: FAILED, for this request of this resource."""
    return {
        "Status": "FAILED",
        "Reason": "",
        "PhysicalResourceId": physical_id,
        "StackId": event.get("StackId"),
        "RequestId": event.get("RequestId"),
        "LogicalResourceId": event.get("LogicalResourceId"),
    }


def remaining_seconds(context: Any) -> float:
    """The invocation's time left (unbounded without a Lambda context, as in a direct call)."""
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        return float(context.get_remaining_time_in_millis()) / 1000
    return float("inf")


def send_response(event: Mapping[str, Any], body: Mapping[str, Any], timeout: float = RESPONSE_TIMEOUT_SECONDS) -> None:
    """PUT the answer to CloudFormation's pre-signed S3 URL."""
    data = json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310  # nosec B310 (CloudFormation's https response URL)
        str(event["ResponseURL"]),
        data=data,
        method="PUT",
        headers={"Content-Type": "", "Content-Length": str(len(data))},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310  # nosec B310
        response.read()


def answer(event: Mapping[str, Any], body: Mapping[str, Any], respond: Respond = send_response) -> None:
    """Answer, retrying once: an unanswered custom resource holds the stack for an hour."""
    try:
        respond(event, body)
    except Exception:
        logger.warning("answering CloudFormation failed; retrying once")
        respond(event, body)
