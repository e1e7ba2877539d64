"""The API service capability: `BlueGreenService` and the parts it composes (docs/service.md).

`blue_green` composes; `load_balancer` (ALB, WAF, access logs, listeners), `task` (task
definition, containers), `scaling` (Property 9) and `release` (rollback alarms, CodeDeploy,
deploy hook; Property 5) build into the service's own scope.
"""

from cashtrace_constructs.service.blue_green import BlueGreenService, BlueGreenServiceProps
from cashtrace_constructs.service.load_balancer import PublicLoadBalancer
from cashtrace_constructs.service.release import (
    CodeDeployRelease,
    rollback_alarms,
)
from cashtrace_constructs.service.scaling import task_count_scaling
from cashtrace_constructs.service.task import ApplicationTask

__all__ = [
    "ApplicationTask",
    "BlueGreenService",
    "BlueGreenServiceProps",
    "CodeDeployRelease",
    "PublicLoadBalancer",
    "rollback_alarms",
    "task_count_scaling",
]
