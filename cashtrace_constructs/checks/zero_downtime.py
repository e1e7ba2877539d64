"""Property 10 (zero downtime): deployments never send traffic to unhealthy or draining tasks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from cashtrace_constructs.checks.rule import Finding, StackRule, SynthesizedStack
from cashtrace_constructs.checks.template import of_type, properties, references
from cashtrace_constructs.checks.timing_paths import (
    DEFAULT_HEALTHY_THRESHOLD,
    service_target_groups,
    target_group_time_to_healthy,
)
from cashtrace_constructs.errors import ErrorCode
from cashtrace_constructs.timing import LONGEST_REQUEST_METADATA, ZERO_DOWNTIME_EXEMPTION


def _deregistration_delay(target_group: Mapping[str, Any]) -> int:
    for attribute in properties(target_group).get("TargetGroupAttributes") or []:
        if attribute.get("Key") == "deregistration_delay.timeout_seconds":
            return int(attribute["Value"])
    return 300  # the ALB default


class ZeroDowntime(StackRule):
    rule_id = "CT-P10-ZeroDowntime"
    property_name = "Property 10 (zero-downtime deployment)"
    description = (
        "Draining outlasts the longest request, the container's stopTimeout covers it, the grace period covers "
        "health checks, rolling keeps 100% healthy, and blue-green verifies test traffic before production."
    )
    fix = "Derive deregistration delay and stopTimeout from longest_request_seconds; add the test listener and hook."

    def check_stack(self, stack: SynthesizedStack) -> Iterable[Finding]:
        resources = stack.resources
        code = ErrorCode.HEALTH_CHECK_FAILED.value
        for service_id, service in of_type(stack.template, "AWS::ECS::Service"):
            # A single-writer service (Grafana on SQLite) that says why it stops before it starts.
            if ZERO_DOWNTIME_EXEMPTION in (service.get("Metadata") or {}):
                continue
            props = properties(service)
            # The green target group is only named by the deployment group, not by the service.
            swapped = {
                ref
                for _, group in of_type(stack.template, "AWS::CodeDeploy::DeploymentGroup")
                if service_id in references(properties(group).get("ECSServices"))
                for pair in (properties(group).get("LoadBalancerInfo") or {}).get("TargetGroupPairInfoList") or []
                for ref in references(pair.get("TargetGroups"))
            }
            target_groups = sorted(
                tg
                for tg in set(service_target_groups(stack.template, service_id)) | swapped
                if (resources.get(tg) or {}).get("Type") == "AWS::ElasticLoadBalancingV2::TargetGroup"
            )
            if not target_groups:
                continue
            longest = int((service.get("Metadata") or {}).get(LONGEST_REQUEST_METADATA) or 0)
            to_healthy = max(target_group_time_to_healthy(resources[tg]) for tg in target_groups)
            grace = int(props.get("HealthCheckGracePeriodSeconds") or 0)
            if grace < to_healthy:
                yield self.finding(
                    stack,
                    f"{code}: service {service_id} grace period {grace} s is shorter than the {to_healthy} s "
                    "its tasks need to pass health checks; ECS would replace starting tasks",
                    logical_id=service_id,
                )
            for tg_id in target_groups:
                yield from self._check_target_group(stack, tg_id, resources[tg_id], longest, code)
            yield from self._check_containers(stack, service_id, props, longest, code)
            controller = (props.get("DeploymentController") or {}).get("Type", "ECS")
            if controller == "ECS":
                minimum = (props.get("DeploymentConfiguration") or {}).get("MinimumHealthyPercent", 100)
                if int(minimum) < 100:
                    yield self.finding(
                        stack,
                        f"{code}: rolling service {service_id} may drop to {minimum}% healthy tasks during a deploy",
                        logical_id=service_id,
                    )
            elif controller == "CODE_DEPLOY":
                yield from self._check_test_traffic(stack, service_id, code)

    def _check_target_group(
        self, stack: SynthesizedStack, tg_id: str, target_group: Mapping[str, Any], longest: int, code: str
    ) -> Iterable[Finding]:
        props = properties(target_group)
        delay = _deregistration_delay(target_group)
        if delay < longest:
            yield self.finding(
                stack,
                f"{code}: target group {tg_id} drains for {delay} s, less than the longest request ({longest} s)",
                logical_id=tg_id,
            )
        if int(props.get("HealthyThresholdCount") or DEFAULT_HEALTHY_THRESHOLD) < 2:
            yield self.finding(stack, f"{code}: target group {tg_id} trusts a single health check", logical_id=tg_id)
        timeout, interval = props.get("HealthCheckTimeoutSeconds"), props.get("HealthCheckIntervalSeconds")
        if timeout is not None and interval is not None and int(timeout) >= int(interval):
            yield self.finding(
                stack, f"{code}: target group {tg_id} health check timeout is not below its interval", logical_id=tg_id
            )

    def _check_containers(
        self, stack: SynthesizedStack, service_id: str, props: Mapping[str, Any], longest: int, code: str
    ) -> Iterable[Finding]:
        served = {balancer.get("ContainerName") for balancer in props.get("LoadBalancers") or []}
        for task_id in references(props.get("TaskDefinition")):
            task = stack.resources.get(task_id) or {}
            for container in properties(task).get("ContainerDefinitions") or []:
                if container.get("Name") not in served:
                    continue
                stop = int(container.get("StopTimeout") or 30)  # the ECS default
                if stop < longest:
                    yield self.finding(
                        stack,
                        f"{code}: container {container.get('Name')} of {task_id} gets {stop} s after SIGTERM, less "
                        f"than the longest request ({longest} s)",
                        logical_id=task_id,
                    )

    def _check_test_traffic(self, stack: SynthesizedStack, service_id: str, code: str) -> Iterable[Finding]:
        groups = [
            (group_id, properties(group))
            for group_id, group in of_type(stack.template, "AWS::CodeDeploy::DeploymentGroup")
            if service_id in references(properties(group).get("ECSServices"))
        ]
        if not groups:
            yield self.finding(
                stack, f"{code}: service {service_id} uses CodeDeploy but no deployment group", logical_id=service_id
            )
        for group_id, group in groups:
            pairs = (group.get("LoadBalancerInfo") or {}).get("TargetGroupPairInfoList") or []
            if not any((pair.get("TestTrafficRoute") or {}).get("ListenerArns") for pair in pairs):
                yield self.finding(
                    stack, f"{code}: deployment group {group_id} has no test listener", logical_id=group_id
                )
            hooked = any(
                group_id in references(properties(resource))
                and "AfterAllowTestTraffic" in str(properties(resource).get("revisionAppSpecContent"))
                for _, resource in of_type(stack.template, "Custom::EcsDeployment")
            )
            if not hooked:
                yield self.finding(
                    stack,
                    f"{code}: deployments of {group_id} shift production traffic without an AfterAllowTestTraffic "
                    "health check on the test listener",
                    logical_id=group_id,
                )
