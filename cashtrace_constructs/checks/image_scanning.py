"""Every image repository scans each pushed image, so the pipeline's scan gate has findings to judge."""

from __future__ import annotations

from collections.abc import Iterable

from cashtrace_constructs.checks.rule import Finding, StackRule, SynthesizedStack
from cashtrace_constructs.checks.template import of_type, properties


class ImageScanOnPush(StackRule):
    rule_id = "CT-ImageScanOnPush"
    property_name = "Property 3 (image scanning)"
    description = "Every ECR repository has scan on push enabled."
    fix = "Build the repository with ServiceImageRepository (image_scan_on_push=True)."

    def check_stack(self, stack: SynthesizedStack) -> Iterable[Finding]:
        for logical_id, repository in of_type(stack.template, "AWS::ECR::Repository"):
            scanning = properties(repository).get("ImageScanningConfiguration") or {}
            if scanning.get("ScanOnPush") is not True:
                yield self.finding(
                    stack,
                    f"repository {logical_id} does not scan images on push; the image scan gate would find nothing",
                    logical_id=logical_id,
                    location="Properties.ImageScanningConfiguration.ScanOnPush",
                )
