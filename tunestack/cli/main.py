"""The ``tunestack`` command: validate an execution input, run it offline in the simulator, or
start it on AWS and follow it.

Exit codes: 0 valid / SUCCEEDED, 1 invalid / FAILED, TIMED_OUT or ABORTED, 2 usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, NoReturn

from tunestack.cli import aws
from tunestack.cli.common import UsageError, checked_input, print_json, read_input, team_of
from tunestack.simulator.assembly import AssemblyError, AssemblyTeam

#: The folder holding the examples a scenario may run first, and the default cloud assembly: the
#: current folder when it is an app's (a cdk.json or a cdk.out in it), else this checkout's.
ROOT = (
    Path.cwd()
    if (Path.cwd() / "cdk.json").is_file()
    or (Path.cwd() / "cdk.out").is_dir()
    or not (Path(__file__).resolve().parents[2] / "cdk.json").is_file()
    else Path(__file__).resolve().parents[2]
)
KINDS = ("fine-tune", "tune", "deploy")


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so ``--json`` can report a usage error as JSON."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in argv
    try:
        args = _parser().parse_args(argv)
        return int(args.run(args))
    except (UsageError, AssemblyError) as error:
        if as_json:
            print_json({"error": "usage", "problems": [str(error)]})
        else:
            print(f"tunestack: {error}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tunestack", description=(__doc__ or "").splitlines()[0])
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    def with_assembly(command: argparse.ArgumentParser, team_help: str) -> None:
        command.add_argument("--team", help=team_help)
        command.add_argument(
            "--cdk-out",
            type=Path,
            default=ROOT / "cdk.out",
            metavar="DIR",
            help="the app's synthesized cloud assembly, whose pipelines stacks are the teams (default: ./cdk.out, "
            "or this checkout's outside an app folder; synthesized first with `cdk synth` when the app's sources "
            "beside it are newer)",
        )
        command.add_argument("--json", action="store_true", help="one JSON document on stdout")

    validate = commands.add_parser("validate", help="check an execution input as the first state does")
    validate.add_argument("kind", choices=KINDS)
    validate.add_argument("file", type=Path)
    with_assembly(validate, "team of the cloud assembly (default: the first)")
    validate.set_defaults(run=_validate)

    simulate = commands.add_parser("simulate", help="run the synthesized state machine offline (simulated)")
    simulate.add_argument("kind", nargs="?", choices=KINDS)
    simulate.add_argument("file", nargs="?", type=Path)
    with_assembly(simulate, "team of the cloud assembly (default: the first)")
    simulate.add_argument("--scenario", default="success", help="what happens to the job (see --list-scenarios)")
    simulate.add_argument(
        "--list-scenarios",
        action="store_true",
        help="list every scenario (those for KIND, if given), the kinds of execution it applies to, and exit",
    )
    simulate.add_argument("--data", type=Path, help="local folder uploaded to the input's TrainingData prefix")
    simulate.add_argument("--reports", type=Path, help="folder to save the leaderboard CSV, JSON and chart in")
    simulate.add_argument(
        "--jumpstart-cache",
        type=Path,
        metavar="DIR",
        help="serve the simulated JumpStart bucket from a local copy of one: DIR/models_manifest.json and "
        "each spec at its spec_key (every file in DIR is uploaded) instead of the bundled fixtures",
    )
    simulate.set_defaults(run=_simulate)

    start = commands.add_parser(
        "start", help="validate, then start the team's state machine on AWS with your credentials"
    )
    start.add_argument("kind", choices=KINDS)
    start.add_argument("file", type=Path)
    with_assembly(start, "the team whose state machine runs it (tunestack-<team>-<kind>)")
    start.add_argument("--state-machine-arn", help="start this state machine instead of looking the team's up")
    start.add_argument("--name", help="the execution's name (default: what the input names, and the time)")
    start.add_argument("--wait", action="store_true", help="print each state as it is entered; exit with the status")
    start.add_argument("--poll-seconds", type=float, default=5.0, help="how often --wait asks (default: 5)")
    start.set_defaults(run=aws.start)

    status = commands.add_parser("status", help="an execution's status, state, and output or error")
    status.add_argument("execution_arn")
    status.add_argument("--json", action="store_true", help="one JSON document on stdout")
    status.set_defaults(run=aws.status)

    report = commands.add_parser("report", help="draw the tuning chart of a leaderboard JSON file")
    report.add_argument("leaderboard", type=Path)
    report.add_argument("-o", "--output", type=Path, required=True, help="PNG file to write")
    report.set_defaults(run=_report)
    return parser


def _validate(args: argparse.Namespace) -> int:
    team = team_of(args)
    if checked_input(args, team) is None:
        return 1
    if args.json:
        print_json(
            {"file": str(args.file), "kind": args.kind, "team": team.name, "valid": True, "skipped": args.skipped}
        )
        return 0
    print(f"{args.file}: valid {args.kind} input for team {team.name}")
    for note in args.skipped:
        print(f"  skipped offline: {note}")
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from tunestack.cli.hints import missing_data_hint
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
    team = team_of(args)
    if args.jumpstart_cache is not None:
        _check_jumpstart_cache(args.jumpstart_cache)
    payload, problem = read_input(args.file)
    if problem:
        if args.json:
            print_json({"file": str(args.file), "error": "InvalidJSON", "problems": [problem]})
        else:
            print(problem)
        return 1
    # Parents first only when the input names them (warm-start parents, CopySettingsFrom, the job a
    # deploy names) and an input beside it creates exactly that job.
    before = earlier_runs(args.file, payload) if args.kind in {"tune", "deploy"} else []
    before = [(path, earlier) for path, earlier in before if path.resolve() != args.file.resolve()]
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
    simulator = Simulator(args.cdk_out, team, jumpstart_cache=args.jumpstart_cache)
    runs = [(kind_of(p), p) for _, p in before] + [(args.kind, payload)]
    results = simulator.run_sequence(runs, args.scenario, uploads=uploads, warm_up=len(before))
    result = results[-1]
    hints = []
    if args.data is None:
        try:
            prefix: str | None = prefix_of(payload)
        except ValueError:
            prefix = None
        if (hint := missing_data_hint(result.error, prefix, list(uploads))) is not None:
            hints.append(hint)
    if args.reports is not None:
        for key, body in result.reports.items():
            target = args.reports / Path(key).relative_to("tuning")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
    if before and not args.json:
        for (path, _), earlier in zip(before, results, strict=False):
            print(f"simulated first, {_why_first(path, companions)}: {path} -> {earlier.status}")
    if args.json:
        print_json({**result.as_json(), "hints": hints})
    else:
        _print_result(args, team, result)
        for hint in hints:
            print(f"hint: {hint}")
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
    if not path.is_file():
        raise UsageError(f"this scenario runs the example {path} first; run it from the tunestack repository")
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


def _print_result(args: argparse.Namespace, team: AssemblyTeam, result: Any) -> None:
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
