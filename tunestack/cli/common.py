"""What the commands share: usage errors, JSON output, and reading an input and validating it
offline for a team of the cloud assembly."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tunestack.simulator.assembly import AssemblyTeam, ensure_synthesized, load_assembly


class UsageError(Exception):
    pass


def print_json(document: dict[str, Any]) -> None:
    print(json.dumps(document, indent=2, default=str))


def team_of(args: argparse.Namespace) -> AssemblyTeam:
    """The team named by --team (or the first) in the cloud assembly --cdk-out names."""
    outdir = ensure_synthesized(args.cdk_out)
    return load_assembly(outdir).team(args.team)


def read_input(path: Path) -> tuple[Any, str | None]:
    """The parsed input, or the problem that makes it unreadable as JSON."""
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    try:
        return json.loads(path.read_text()), None
    except json.JSONDecodeError as error:
        return None, f"$: not valid JSON ({error.msg} at line {error.lineno} column {error.colno})"
    except UnicodeDecodeError as error:
        return None, f"$: not UTF-8 text ({error.reason} at byte {error.start})"


def checked_input(args: argparse.Namespace, team: AssemblyTeam) -> Any:
    """The input, validated offline as the first state would; None (after saying why) if it is not."""
    from tunestack.cli.offline_validation import validate_offline

    payload, problem = read_input(args.file)
    error: str | None
    if problem is not None:
        error, problems, hints, skipped = "InvalidJSON", [problem], [], []
    else:
        report = validate_offline(args.kind, payload, team.policy)
        error, problems, hints, skipped = report.error, report.problems, report.hints, report.skipped
    if problems:
        if args.json:
            print_json(
                {
                    "file": str(args.file),
                    "kind": args.kind,
                    "team": team.name,
                    "valid": False,
                    "error": error,
                    "problems": problems,
                    "hints": hints,
                }
            )
        else:
            print(f"{args.file}: INVALID for team {team.name}", file=sys.stderr)
            for line in problems:
                print(line)
            for hint in hints:
                print(f"hint: {hint}")
        return None
    args.skipped = skipped
    return payload
