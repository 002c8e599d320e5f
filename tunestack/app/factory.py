"""Builds the CDK app: every team's stacks, and the compliance gate that runs on each synth."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk

from tunestack.app.config import (
    ALLOW_DESTROY_CONTEXT_KEY,
    TEAMS_CONTEXT_KEY,
    TeamConfig,
    allow_destroy,
    load_teams,
)
from tunestack.constructs.compliance import NAG_PACKS
from tunestack.constructs.sagemaker_execution_role import TEAM_TAG_KEY
from tunestack.stacks.foundation_stack import FoundationStack
from tunestack.stacks.pipelines_stack import PipelinesStack


@dataclass(frozen=True)
class TeamStacks:
    team: TeamConfig
    foundation: FoundationStack
    pipelines: PipelinesStack


def build_app(app: cdk.App) -> list[TeamStacks]:
    """Add every team of the app's ``teams`` context to ``app``; raise TeamConfigError if invalid.

    cdk-nag's AwsSolutions, NIST 800-53 rev 5 and Serverless packs are registered as validation
    plugins: ``app.synth()`` (and so ``cdk synth``) fails on any finding of any of them that is
    neither fixed nor acknowledged.
    """
    teams = load_teams(app.node.try_get_context(TEAMS_CONTEXT_KEY))
    destroy = allow_destroy(app.node.try_get_context(ALLOW_DESTROY_CONTEXT_KEY))
    built = []
    for team in teams:
        env = cdk.Environment(account=team.account, region=team.region) if team.account or team.region else None
        foundation = FoundationStack(app, f"{team.stack_prefix}-foundation", team=team, allow_destroy=destroy, env=env)
        pipelines = PipelinesStack(app, f"{team.stack_prefix}-pipelines", foundation=foundation, env=env)
        for stack in (foundation, pipelines):
            cdk.Tags.of(stack).add(TEAM_TAG_KEY, team.name)
        built.append(TeamStacks(team=team, foundation=foundation, pipelines=pipelines))
    cdk.Validations.of(app).add_plugins(*(pack(app) for pack in NAG_PACKS))
    return built
