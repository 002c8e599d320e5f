"""Compliance gates over a synthesized cloud assembly: cfn-lint, checkov and the acknowledgments.

cdk-nag already ran during synthesis (it is a validation plugin of the app); this module runs the
template scanners and summarizes what was acknowledged, so ``make synth`` and the tests apply the
same gates. ``python -m tools.compliance_scan cdk.out`` exits 1 when a gate fails.

checkov is not installed in the project's environment: it pins boto3 and botocore exactly, so it
lives in an environment of its own (``.venv-checkov``, made by the Makefile) and runs as a tool.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

#: cfn-lint warnings allowed in synthesized templates, and why each is harmless.
ALLOWED_CFN_LINT_WARNINGS = {
    "W3005": "CDK adds a DependsOn on a function's role that the GetAtt of the role already "
    "implies; CloudFormation orders them the same either way.",
}

_ACKNOWLEDGED = "aws:cdk:acknowledged-rules"

#: Environment variable naming the checkov executable (the Makefile sets it); without it, checkov is
#: looked for in the repository's ``.venv-checkov``.
CHECKOV_ENV_VAR = "TUNESTACK_CHECKOV"
_REPO = Path(__file__).resolve().parents[1]

#: Acknowledgment prefixes that are not cdk-nag packs: CDK annotations, and the findings CDK
#: itself acknowledges in its own constructs for its built-in template validation.
_CDK_OWN_PACKS = {"Annotation", "CloudFormation-Validate"}


@dataclass(frozen=True)
class Acknowledgment:
    stack: str
    path: str
    finding: str
    reason: str

    @property
    def pack(self) -> str:
        return self.finding.split("::", 1)[0]

    @property
    def is_cdk_nag(self) -> bool:
        return self.pack not in _CDK_OWN_PACKS

    @property
    def rule(self) -> str:
        """``AwsSolutions-IAM5`` for ``AwsSolutions::AwsSolutions-IAM5[Resource::*]``."""
        return self.finding.split("::", 1)[1].split("[", 1)[0]


@dataclass(frozen=True)
class LintFinding:
    rule: str
    level: str
    message: str
    location: str


def templates(outdir: Path) -> list[Path]:
    return sorted(outdir.glob("*.template.json"))


def acknowledgments(outdir: Path) -> list[Acknowledgment]:
    """Every acknowledged finding recorded in the assembly's per-stack metadata files."""
    found = []
    for metadata_file in sorted(outdir.glob("*.metadata.json")):
        stack = metadata_file.name.removesuffix(".metadata.json")
        for path, entries in json.loads(metadata_file.read_text()).items():
            for entry in entries:
                if entry.get("type") != _ACKNOWLEDGED:
                    continue
                for finding, reason in entry["data"].items():
                    found.append(Acknowledgment(stack=stack, path=path, finding=finding, reason=reason))
    return found


def count_by_rule(acks: list[Acknowledgment]) -> dict[str, int]:
    return dict(sorted(Counter(a.rule for a in acks).items()))


def run_cfn_lint(template_files: list[Path]) -> list[LintFinding]:
    result = subprocess.run(
        [str(_tool("cfn-lint")), "--format", "json", *map(str, template_files)],
        capture_output=True,
        text=True,
        check=False,
    )
    # Exit codes are a bit mask: 2 errors, 4 warnings, 8 informational; 1 means it crashed.
    if result.returncode & 1:
        raise RuntimeError(f"cfn-lint failed to run: {result.stderr.strip()}")
    return [
        LintFinding(
            rule=item["Rule"]["Id"],
            level=item["Level"],
            message=item["Message"],
            location=f"{item['Filename']}:{item['Location']['Start']['LineNumber']}",
        )
        for item in json.loads(result.stdout or "[]")
    ]


def unexplained_lint(findings: list[LintFinding]) -> list[LintFinding]:
    return [f for f in findings if f.level == "Error" or f.rule not in ALLOWED_CFN_LINT_WARNINGS]


def run_checkov(outdir: Path) -> dict[str, list[dict[str, str]]]:
    """checkov's failed and skipped checks over the templates, each with resource and id."""
    result = subprocess.run(
        [
            str(checkov_executable()),
            "--directory",
            str(outdir),
            "--framework",
            "cloudformation",
            "--output",
            "json",
            "--skip-download",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if not result.stdout.strip():
        raise RuntimeError(f"checkov produced no report (exit {result.returncode}): {result.stderr[-2000:]}")
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    outcome: dict[str, list[dict[str, str]]] = {"failed": [], "skipped": []}
    for one in reports:
        checks = one.get("results", {})
        for kind in outcome:
            for check in checks.get(f"{kind}_checks", []):
                outcome[kind].append(
                    {
                        "id": check["check_id"],
                        "resource": check["resource"],
                        "file": check.get("file_path", ""),
                        "comment": (check.get("check_result") or {}).get("suppress_comment", ""),
                    }
                )
    return outcome


class ToolMissing(RuntimeError):
    """A scanner the gates need is not installed where it is looked for."""


def checkov_executable() -> Path:
    """checkov from ``$TUNESTACK_CHECKOV``, else from the repository's ``.venv-checkov``."""
    configured = os.environ.get(CHECKOV_ENV_VAR)
    path = Path(configured) if configured else _REPO / ".venv-checkov" / "bin" / "checkov"
    if not (path.is_file() and os.access(path, os.X_OK)):
        where = f"${CHECKOV_ENV_VAR}" if configured else f"the default, as ${CHECKOV_ENV_VAR} is not set"
        raise ToolMissing(
            f"checkov not found at {path} ({where}). It runs from an environment of its own: "
            "`make .venv-checkov/.installed` (or `make synth`, `make test`) creates it; or set "
            f"${CHECKOV_ENV_VAR} to a checkov executable."
        )
    return path


def _tool(name: str) -> Path:
    """A console script of the interpreter's own environment (the project's ``.venv``)."""
    return Path(sys.executable).parent / name


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    outdir = Path(args[0] if args else "cdk.out")
    files = templates(outdir)
    if not files:
        print(f"no templates in {outdir}: run cdk synth first", file=sys.stderr)
        return 2
    try:
        checkov_executable()
    except ToolMissing as missing:
        print(f"checkov: {missing}", file=sys.stderr)
        return 2
    ok = True

    lint = run_cfn_lint(files)
    bad_lint = unexplained_lint(lint)
    print(
        f"cfn-lint: {len(files)} templates, {len(lint) - len(bad_lint)} allowed warnings, "
        f"{len(bad_lint)} unexplained findings"
    )
    for finding in bad_lint:
        ok = False
        print(f"  {finding.level} {finding.rule} {finding.location}: {finding.message}")

    checkov = run_checkov(outdir)
    print(f"checkov: {len(checkov['failed'])} failed, {len(checkov['skipped'])} skipped with a comment")
    for check in checkov["failed"]:
        ok = False
        print(f"  FAILED {check['id']} {check['resource']} ({check['file']})")

    nag = [a for a in acknowledgments(outdir) if a.is_cdk_nag]
    counts = ", ".join(f"{rule} x{n}" for rule, n in count_by_rule(nag).items()) or "none"
    print(f"cdk-nag: passed during synth; {len(nag)} acknowledged findings: {counts}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
