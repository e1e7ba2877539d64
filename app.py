#!/usr/bin/env python3
"""CashTrace deployment infrastructure: `cdk synth` / `cdk deploy CashTrace-Prod` start here."""

from aws_cdk import App

from stacks.app import build_app

app = App()
build_app(app)
app.synth()
