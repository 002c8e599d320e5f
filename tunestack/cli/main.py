"""The ``tunestack`` command: validate an execution input, or run it offline in the simulator.

Exit codes: 0 valid / SUCCEEDED, 1 invalid / FAILED or ABORTED, 2 usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tunestack.app.config import TeamConfig, TeamConfigError, load_teams

#: The CDK app the command works on: the current folder when it holds a cdk.json, else this checkout.
ROOT = Path.cwd() if (Path.cwd() / "cdk.json").is_file() else Path(__file__).resolve().parents[2]
KINDS = ("fine-tune", "tune", "deploy")


class UsageError(Exception):
    pass


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except UsageError as error:
        print(f"tunestack: {error}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tunestack", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    validate = commands.add_parser("validate", help="check an execution input as the first state does")
    validate.add_argument("kind", choices=KINDS)
    validate.add_argument("file", type=Path)
    validate.add_argument("--team", help="team in cdk.json (default: the first)")
    validate.set_defaults(run=_validate)

    simulate = commands.add_parser("simulate", help="run the synthesized state machine offline (simulated)")
    simulate.add_argument("kind", nargs="?", choices=KINDS)
    simulate.add_argument("file", nargs="?", type=Path)
    simulate.add_argument("--team", help="team in cdk.json (default: the first)")
    simulate.add_argument("--scenario", default="success", help="what happens to the job (see --list-scenarios)")
    simulate.add_argument(
        "--list-scenarios",
        action="store_true",
        help="list every scenario (those for KIND, if given), the kinds of execution it applies to, and exit",
    )
    simulate.add_argument("--data", type=Path, help="local folder uploaded to the input's TrainingData prefix")
    simulate.add_argument(
        "--json",
        action="store_true",
        help="one JSON document on stdout; its 'requests' lists every AWS request the functions made, in order",
    )
    simulate.add_argument("--reports", type=Path, help="folder to save the leaderboard CSV, JSON and chart in")
    simulate.add_argument(
        "--jumpstart-cache",
        type=Path,
        metavar="DIR",
        help="serve the simulated JumpStart bucket from a local copy of one: DIR/models_manifest.json and "
        "each spec at its spec_key (every file in DIR is uploaded) instead of the bundled fixtures",
    )
    simulate.set_defaults(run=_simulate)

    report = commands.add_parser("report", help="draw the tuning chart of a leaderboard JSON file")
    report.add_argument("leaderboard", type=Path)
    report.add_argument("-o", "--output", type=Path, required=True, help="PNG file to write")
    report.set_defaults(run=_report)
    return parser


def _teams() -> list[TeamConfig]:
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    try:
        return load_teams(context.get("teams"))
    except TeamConfigError as error:
        raise UsageError(str(error)) from None


def _team(name: str | None) -> TeamConfig:
    teams = _teams()
    if name is None:
        return teams[0]
    for team in teams:
        if team.name == name:
            return team
    raise UsageError(f"no team {name!r} in cdk.json (teams: {', '.join(t.name for t in teams)})")


def _read_input(path: Path) -> tuple[Any, str | None]:
    """The parsed input, or the problem that makes it unreadable as JSON."""
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    try:
        return json.loads(path.read_text()), None
    except json.JSONDecodeError as error:
        return None, f"$: not valid JSON ({error.msg} at line {error.lineno} column {error.colno})"


def _validate(args: argparse.Namespace) -> int:
    from tunestack.cli.offline_validation import validate_offline

    team = _team(args.team)
    payload, problem = _read_input(args.file)
    report = validate_offline(args.kind, payload, team) if problem is None else None
    problems = [problem] if problem else report.problems  # type: ignore[union-attr]
    if problems:
        print(f"{args.file}: INVALID for team {team.name}", file=sys.stderr)
        for line in problems:
            print(line)
        return 1
    assert report is not None
    print(f"{args.file}: valid {args.kind} input for team {team.name}")
    for note in report.skipped:
        print(f"  skipped offline: {note}")
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from tunestack.simulator.assembly import ensure_synthesized
    from tunestack.simulator.harness import Simulator, prefix_of
    from tunestack.simulator.lineage import data_folder, earlier_runs, kind_of
    from tunestack.simulator.scenarios import SCENARIOS, scenarios_for

    if args.list_scenarios:
        _list_scenarios(args.kind)
        return 0
    if args.kind is None or args.file is None:
        raise UsageError("simulate needs KIND and FILE (or --list-scenarios)")
    if args.scenario not in scenarios_for(args.kind):
        known = ", ".join(scenarios_for(args.kind))
        raise UsageError(f"no scenario {args.scenario!r} for {args.kind} (scenarios: {known})")
    team = _team(args.team)
    if args.jumpstart_cache is not None:
        _check_jumpstart_cache(args.jumpstart_cache)
    payload, problem = _read_input(args.file)
    if problem:
        print(problem)
        return 1
    before = earlier_runs(args.file, payload) if args.kind in {"tune", "deploy"} else []
    companions = [_companion(args.kind)] if SCENARIOS[args.scenario].shared_execution_name else []
    before.extend(companions)
    uploads = dict(found for path, earlier in before if (found := data_folder(path, earlier)))
    if args.data is not None:
        if not args.data.is_dir():
            raise UsageError(f"--data {args.data}: not a folder")
        try:
            uploads[prefix_of(payload)] = args.data
        except ValueError as error:
            raise UsageError(f"--data: {error}") from None
    elif (found := data_folder(args.file, payload)) is not None:
        uploads[found[0]] = found[1]
    outdir = ensure_synthesized(ROOT)
    simulator = Simulator(outdir, team, jumpstart_cache=args.jumpstart_cache)
    runs = [(kind_of(p), p) for _, p in before] + [(args.kind, payload)]
    results = simulator.run_sequence(runs, args.scenario, uploads=uploads, warm_up=len(before))
    result = results[-1]
    if args.reports is not None:
        for key, body in result.reports.items():
            target = args.reports / Path(key).relative_to("tuning")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
    if before and not args.json:
        for (path, _), earlier in zip(before, results, strict=False):
            print(f"simulated first, {_why_first(path, companions)}: {path} -> {earlier.status}")
    if args.json:
        print(json.dumps(result.as_json(), indent=2))
    else:
        _print_result(args, team, result)
    return 0 if result.status == "SUCCEEDED" else 1


def _list_scenarios(kind: str | None) -> None:
    from tunestack.simulator.scenarios import KINDS as SCENARIO_KINDS
    from tunestack.simulator.scenarios import SCENARIOS

    for name, scenario in SCENARIOS.items():
        if kind is not None and not scenario.applies_to(kind):
            continue
        kinds = ", ".join(k for k in SCENARIO_KINDS if scenario.applies_to(k))
        print(f"{name:<26} {kinds:<24} {scenario.description}")


def _why_first(path: Path, companions: list[tuple[Path, Any]]) -> str:
    if any(path == companion for companion, _ in companions):
        return "under the same execution name, as the scenario asks"
    return "as a job this input names"


def _companion(kind: str) -> tuple[Path, Any]:
    """The other kind's example that deploys, run first under the same execution name."""
    path = ROOT / "examples" / ("tune-and-deploy.json" if kind == "fine-tune" else "fine-tune-text.json")
    return path, json.loads(path.read_text())


def _check_jumpstart_cache(folder: Path) -> None:
    """A usage error if ``folder`` cannot serve as the JumpStart bucket; a warning on stderr for each
    model whose spec file is missing (the run goes on: the first state then fails naming it)."""
    from tunestack.simulator.deployment import check_jumpstart_cache

    try:
        warnings = check_jumpstart_cache(folder)
    except ValueError as error:
        raise UsageError(f"--jumpstart-cache {folder}: {error}") from None
    for warning in warnings:
        print(f"tunestack: warning: --jumpstart-cache: {warning}", file=sys.stderr)


def _report(args: argparse.Namespace) -> int:
    from tunestack.cli.report import load_leaderboard, render

    if not args.leaderboard.is_file():
        raise UsageError(f"{args.leaderboard}: no such file")
    try:
        board = load_leaderboard(args.leaderboard)
    except ValueError as error:
        print(f"{args.leaderboard}: not a tunestack leaderboard ({error})")
        return 1
    render(board, args.output)
    best = board.best
    summary = f"best {best.training_job_name} {board.objective_metric}={best.objective:g}" if best else "no best yet"
    print(f"{args.output}: {len(board.rows)} training jobs, {summary}")
    return 0


def _print_result(args: argparse.Namespace, team: TeamConfig, result: Any) -> None:
    print(f"SIMULATED {args.kind} of {args.file} for team {team.name}, scenario {result.scenario}")
    print("(offline: moto and a simulated SageMaker; nothing reached AWS)")
    for number, state in enumerate(result.states, 1):
        print(f"  {number:>2}. {state}")
    hours = result.simulated_seconds / 3600
    print(
        f"{result.status}: {result.state_transitions} state transitions, {result.history_events} history events, "
        f"{hours:.1f} simulated hours"
    )
    calls = ", ".join(f"{api} x{n}" for api, n in result.sagemaker_calls.items()) or "none"
    print(f"SageMaker calls accepted: {calls}")
    print(f"AWS requests made by the functions: {len(result.requests)} (see --json)")
    left = ", ".join(result.jobs_left_running) or "none"
    print(f"jobs left running that no running execution owns: {len(result.jobs_left_running)} ({left})")
    for rival in result.rivals:
        print(f"rival execution {rival['execution_name']}: {rival['status']} {rival['error'] or ''}".rstrip())
    if result.error:
        print(f"error: {result.error}\ncause: {_readable_cause(result.cause)}")
    if result.notifications:
        print(f"team notified: {len(result.notifications)} message(s) on the failure topic")
    if result.output is not None:
        print("output:")
        print(json.dumps(result.output, indent=2))


def _readable_cause(cause: str | None) -> str | None:
    """A Lambda error's cause is its JSON error payload; show the message a person wrote."""
    try:
        return str(json.loads(cause or "")["errorMessage"])
    except (ValueError, KeyError, TypeError):
        return cause


if __name__ == "__main__":
    sys.exit(main())
