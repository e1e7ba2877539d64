"""The yardstick for `make bench`: one bucket, same Python, CDK library and CLI as the real app."""

from aws_cdk import App, Environment, Stack
from aws_cdk import aws_s3 as s3

app = App()
s3.Bucket(Stack(app, "Minimal", env=Environment(account="123456789012", region="af-south-1")), "Bucket")
app.synth()
