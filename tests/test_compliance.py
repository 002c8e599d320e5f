"""The compliance gates: cdk-nag during synth, cfn-lint and checkov over the templates."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam

from tests.conftest import ROOT, Synthesized, synthesize
from tools import compliance_scan
from tunestack.app.factory import build_app
from tunestack.constructs.compliance import acknowledge


def test_cdk_nag_report_has_no_unacknowledged_finding(synthesized: Synthesized) -> None:
    report = json.loads((synthesized.outdir / "validation-report.json").read_text())
    assert [r["pluginName"] for r in report["pluginReports"]] == ["AwsSolutions", "NIST.800.53.R5", "Serverless"]
    for plugin in report["pluginReports"]:
        assert plugin["conclusion"] == "success"
        assert plugin["violations"] == []


def test_every_acknowledgment_answers_a_finding_that_was_raised(synthesized: Synthesized) -> None:
    report = json.loads((synthesized.outdir / "validation-report.json").read_text())
    raised = {
        (f"{plugin['pluginName']}::{v['ruleName']}", c["constructPath"])
        for plugin in report["pluginReports"]
        for v in plugin.get("suppressedViolations", [])
        for c in v["violatingConstructs"]
    }
    for ack in compliance_scan.acknowledgments(synthesized.outdir):
        if not ack.is_cdk_nag:
            continue
        assert any(finding == ack.finding and path.startswith(ack.path.lstrip("/")) for finding, path in raised), ack


def test_an_unacknowledged_finding_fails_synth(context: dict[str, Any], tmp_path: Any) -> None:
    app = cdk.App(context=context, outdir=str(tmp_path))
    stacks = build_app(app)
    role = iam.Role(stacks[0].foundation, "Careless", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    role.add_to_policy(iam.PolicyStatement(actions=["s3:Get*"], resources=["*"]))
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    rules = {v["ruleName"] for r in report["pluginReports"] for v in r["violations"]}
    assert "AwsSolutions-IAM5[Action::s3:Get*]" in rules


def test_acknowledgments_are_one_finding_each_with_a_specific_reason(synthesized: Synthesized) -> None:
    acks = [a for a in compliance_scan.acknowledgments(synthesized.outdir) if a.is_cdk_nag]
    assert acks
    for ack in acks:
        assert len(ack.reason) >= 25, ack
        if ack.rule in {"AwsSolutions-IAM4", "AwsSolutions-IAM5"}:
            assert re.search(r"\[(Resource|Action|Policy)::.+\]$", ack.finding), ack
    # Never a whole rule for a whole stack or the app.
    assert not [a for a in acks if a.path.count("/") < 2]


def test_acknowledged_findings_by_rule(synthesized: Synthesized) -> None:
    counts = compliance_scan.count_by_rule(
        [a for a in compliance_scan.acknowledgments(synthesized.outdir) if a.is_cdk_nag]
    )
    # AwsSolutions: wildcard resources (each with its AWS reason) and the Lambda runtime pinned by
    # the public Powertools layer. NIST 800-53 rev 5 and Serverless: the choices README's
    # "Compliance gates" section explains (inline policies of one role, Lambdas outside the VPC, no
    # reserved concurrency, no DLQ for synchronous invocations, no replication).
    readme = (ROOT / "README.md").read_text()
    for rule, count in counts.items():
        assert f"| `{rule}` | {count} |" in readme, f"README's compliance table: {rule} is acknowledged {count} times"
    assert counts == {
        "AwsSolutions-IAM5": 221,  # incl. one per team: gated JumpStart weights in the private bucket; per team
        # 6 of the data scientists' policy (3 machines' executions, datasets/, outputs, tuning/) and 4 of the
        # failure notices (the function's X-Ray, each machine invoking it); the model registry's groups,
        # versions, ListModelPackages, statistics and jobs for each register function, groups and versions
        # for deploy's first state and nlp's approval function; the reviewers' policy's groups and versions
        "AwsSolutions-L1": 42,  # 20 functions per team (fine-tune 6, tune 7, deploy 6, failures 1), nlp's route check
        # and approval function
        "NIST.800.53.R5-DynamoDBInBackupPlan": 2,
        "NIST.800.53.R5-EC2RestrictedCommonPorts": 2,
        "NIST.800.53.R5-IAMNoInlinePolicy": 63,
        "NIST.800.53.R5-LambdaConcurrency": 44,
        "NIST.800.53.R5-LambdaDLQ": 31,
        "NIST.800.53.R5-LambdaInsideVPC": 44,
        "NIST.800.53.R5-S3BucketReplicationEnabled": 4,
        "NIST.800.53.R5-S3DefaultEncryptionKMS": 2,
        "Serverless-LambdaDLQ": 31,
        "Serverless-LambdaDefaultMemorySize": 2,
        "Serverless-LambdaLatestVersion": 42,
        "Serverless-LambdaTracing": 3,
        "Serverless-SQSRedrivePolicy": 2,
    }


def test_short_acknowledgment_reason_is_refused() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    with pytest.raises(ValueError, match="give a specific reason"):
        acknowledge(stack, "AwsSolutions-S1", "ok")


@pytest.fixture(scope="module")
def lint_findings(synthesized: Synthesized) -> list[compliance_scan.LintFinding]:
    return compliance_scan.run_cfn_lint(compliance_scan.templates(synthesized.outdir))


@pytest.fixture(scope="module")
def checkov_outcome(synthesized: Synthesized) -> dict[str, list[dict[str, str]]]:
    return compliance_scan.run_checkov(synthesized.outdir)


def test_cfn_lint_finds_no_errors_and_only_explained_warnings(lint_findings: list[compliance_scan.LintFinding]) -> None:
    assert compliance_scan.unexplained_lint(lint_findings) == []
    assert {f.rule for f in lint_findings} <= set(compliance_scan.ALLOWED_CFN_LINT_WARNINGS)


def test_checkov_fails_nothing_and_every_skip_has_a_comment(checkov_outcome: dict[str, list[dict[str, str]]]) -> None:
    outcome = checkov_outcome
    assert outcome["failed"] == []
    assert outcome["skipped"]
    assert all(len(s["comment"]) >= 25 for s in outcome["skipped"]), outcome["skipped"]


def test_checkov_would_catch_an_unencrypted_bucket(tmp_path: Any) -> None:
    template = {
        "Resources": {"Plain": {"Type": "AWS::S3::Bucket", "Properties": {}}},
    }
    (tmp_path / "plain.template.json").write_text(json.dumps(template))
    failed = {c["id"] for c in compliance_scan.run_checkov(tmp_path)["failed"]}
    assert "CKV_AWS_18" in failed


def test_checkov_runs_from_an_environment_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    # checkov pins boto3/botocore exactly; in the project's environment it would hold them back.
    assert importlib.util.find_spec("checkov") is None
    assert compliance_scan.checkov_executable().parent != Path(sys.executable).parent
    monkeypatch.delenv(compliance_scan.CHECKOV_ENV_VAR, raising=False)
    assert compliance_scan.checkov_executable() == Path(compliance_scan.__file__).resolve().parents[1] / (
        ".venv-checkov/bin/checkov"
    )


def test_a_missing_checkov_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no-such-venv" / "bin" / "checkov"
    monkeypatch.setenv(compliance_scan.CHECKOV_ENV_VAR, str(missing))
    with pytest.raises(compliance_scan.ToolMissing, match=r"checkov not found at .*no-such-venv.*TUNESTACK_CHECKOV"):
        compliance_scan.run_checkov(tmp_path)
    (tmp_path / "one.template.json").write_text(json.dumps({"Resources": {}}))
    assert compliance_scan.main([str(tmp_path)]) == 2
    assert "checkov not found" in capsys.readouterr().err


def test_scan_command_summarizes_and_passes(
    synthesized: Synthesized,
    lint_findings: list[compliance_scan.LintFinding],
    checkov_outcome: dict[str, list[dict[str, str]]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The scanners' own runs over these templates are the fixtures above; running both again here
    # would cost half a minute and test nothing more.
    monkeypatch.setattr(compliance_scan, "run_cfn_lint", lambda files: lint_findings)
    monkeypatch.setattr(compliance_scan, "run_checkov", lambda outdir: checkov_outcome)
    assert compliance_scan.main([str(synthesized.outdir)]) == 0
    out = capsys.readouterr().out
    assert "checkov: 0 failed" in out and "AwsSolutions-IAM5 x" in out


def test_allow_destroy_context_turns_retain_into_delete(context: dict[str, Any], tmp_path: Any) -> None:
    destroyable = synthesize({**context, "tunestack:allowDestroy": True}, tmp_path)
    template = json.loads((tmp_path / "tunestack-vision-foundation.template.json").read_text())
    policies = {
        r["Type"]: r.get("DeletionPolicy")
        for r in template["Resources"].values()
        if r["Type"] in {"AWS::S3::Bucket", "AWS::KMS::Key"}
    }
    assert policies == {"AWS::S3::Bucket": "Delete", "AWS::KMS::Key": "Delete"}
    assert destroyable.teams["vision"].foundation.termination_protection
