"""A hand-written, minimal CloudFormation template of a compliant blue-green service, for rule tests."""

from __future__ import annotations

import copy
from typing import Any

from cashtrace_constructs.checks.rule import Rule, SynthesizedStack
from cashtrace_constructs.timing import LONGEST_REQUEST_METADATA, ROLLBACK_BUDGET_METADATA


def _alarm(period: int = 60, datapoints: int = 1, actions: list[Any] | None = None) -> dict[str, Any]:
    props: dict[str, Any] = {"Period": period, "EvaluationPeriods": datapoints, "DatapointsToAlarm": datapoints}
    if actions:
        props["AlarmActions"] = actions
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": props}


def compliant_template() -> dict[str, Any]:
    target_group = {
        "Type": "AWS::ElasticLoadBalancingV2::TargetGroup",
        "Properties": {
            "HealthCheckIntervalSeconds": 10,
            "HealthCheckTimeoutSeconds": 5,
            "HealthyThresholdCount": 2,
            "TargetGroupAttributes": [{"Key": "deregistration_delay.timeout_seconds", "Value": "35"}],
        },
    }
    return {
        "Resources": {
            "Blue": copy.deepcopy(target_group),
            "Green": copy.deepcopy(target_group),
            "Task": {
                "Type": "AWS::ECS::TaskDefinition",
                "Properties": {"ContainerDefinitions": [{"Name": "api", "StopTimeout": 45}]},
            },
            "Service": {
                "Type": "AWS::ECS::Service",
                "Metadata": {LONGEST_REQUEST_METADATA: 30},
                "Properties": {
                    "DeploymentController": {"Type": "CODE_DEPLOY"},
                    "HealthCheckGracePeriodSeconds": 60,
                    "LoadBalancers": [{"ContainerName": "api", "TargetGroupArn": {"Ref": "Blue"}}],
                    "TaskDefinition": {"Ref": "Task"},
                },
            },
            "ErrorsAlarm": _alarm(),
            "Canary": {
                "Type": "AWS::CodeDeploy::DeploymentConfig",
                "Properties": {
                    "TrafficRoutingConfig": {
                        "Type": "TimeBasedCanary",
                        "TimeBasedCanary": {"CanaryInterval": 5, "CanaryPercentage": 10},
                    }
                },
            },
            "Group": {
                "Type": "AWS::CodeDeploy::DeploymentGroup",
                "Metadata": {ROLLBACK_BUDGET_METADATA: 180},
                "Properties": {
                    "AlarmConfiguration": {"Enabled": True, "Alarms": [{"Name": {"Ref": "ErrorsAlarm"}}]},
                    "AutoRollbackConfiguration": {
                        "Enabled": True,
                        "Events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"],
                    },
                    "BlueGreenDeploymentConfiguration": {
                        "TerminateBlueInstancesOnDeploymentSuccess": {
                            "Action": "TERMINATE",
                            "TerminationWaitTimeInMinutes": 15,
                        }
                    },
                    "DeploymentConfigName": {"Ref": "Canary"},
                    "ECSServices": [{"ServiceName": {"Fn::GetAtt": ["Service", "Name"]}}],
                    "LoadBalancerInfo": {
                        "TargetGroupPairInfoList": [
                            {
                                "ProdTrafficRoute": {"ListenerArns": [{"Ref": "Prod"}]},
                                "TargetGroups": [
                                    {"Name": {"Fn::GetAtt": ["Blue", "TargetGroupName"]}},
                                    {"Name": {"Fn::GetAtt": ["Green", "TargetGroupName"]}},
                                ],
                                "TestTrafficRoute": {"ListenerArns": [{"Ref": "Test"}]},
                            }
                        ]
                    },
                },
            },
            "Deployment": {
                "Type": "Custom::EcsDeployment",
                "Properties": {
                    "deploymentGroupName": {"Ref": "Group"},
                    "revisionAppSpecContent": {"Fn::Join": ["", ['{"Hooks":[{"AfterAllowTestTraffic":"', "arn"]]},
                },
            },
            "Scaling": {
                "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
                "Properties": {
                    "ServiceNamespace": "ecs",
                    "ResourceId": {"Fn::Join": ["", ["service/c/", {"Fn::GetAtt": ["Service", "Name"]}]]},
                },
            },
            "StepPolicy": {
                "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
                "Properties": {
                    "PolicyType": "StepScaling",
                    "ScalingTargetId": {"Ref": "Scaling"},
                    "StepScalingPolicyConfiguration": {
                        "Cooldown": 15,
                        "StepAdjustments": [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 50}],
                    },
                },
            },
            "StepAlarm": _alarm(actions=[{"Ref": "StepPolicy"}]),
        }
    }


def stack(template: dict[str, Any]) -> SynthesizedStack:
    return SynthesizedStack(name="Test", construct_path="Test", template=template, region="af-south-1")


def findings(rule: Rule, template: dict[str, Any]) -> list[str]:
    """`where: message` of each finding of `rule` on one hand-written template."""
    return [f"{f.where}: {f.message}" for f in rule.check([stack(template)])]
