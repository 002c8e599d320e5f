#!/usr/bin/env python3
"""CDK entry point: ``cdk synth`` / ``cdk deploy`` read the teams from cdk.json context."""

import sys

import aws_cdk as cdk

from tunestack.app.config import TeamConfigError
from tunestack.app.factory import build_app

app = cdk.App()
try:
    build_app(app)
except TeamConfigError as error:
    sys.exit(str(error))
app.synth()
