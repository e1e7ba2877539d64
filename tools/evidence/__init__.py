"""`make evidence`: what the synthesized app says about data, properties, acknowledgments and scanners.

Read by auditors (Markdown), machines (JSON) and the pipeline's CodeBuild report (JUnit XML); the
diagrams in docs/diagrams/ and the pull-request review come from the same reading of cdk.out.
"""
