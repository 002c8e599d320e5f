"""``make bench``: measures what users feel and writes benchmarks/results.json and RESULTS.md.

Every figure comes from this run on this machine; comparisons are ratios measured side by side in
the same run. Nothing here asserts a threshold: the goals are printed next to the figures.
"""

from __future__ import annotations

import copy
import json
import os
import platform
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks"
PYTHON = sys.executable
ENV = {**os.environ, "CDK_DISABLE_CLI_TELEMETRY": "true"}
RUNS = int(os.environ.get("BENCH_RUNS", "3"))

_SYNTH = """
import json, sys, tempfile, aws_cdk as cdk
context = json.loads(sys.argv[1])
app = cdk.App(context=context, outdir=tempfile.mkdtemp())
if sys.argv[2] == "empty":
    # One resource: CDK's built-in template validation refuses a stack with none.
    cdk.CfnWaitConditionHandle(cdk.Stack(app, "Empty"), "Nothing")
else:
    from tunestack.app.factory import build_app
    build_app(app)
app.synth()
"""


def _timed(argv: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, env=env or ENV, check=True, capture_output=True)
    return time.perf_counter() - start


def _median(argv: list[str], runs: int = RUNS, env: dict[str, str] | None = None) -> float:
    return round(statistics.median(_timed(argv, env) for _ in range(runs)), 3)


def synth() -> dict[str, Any]:
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    template = context["teams"][0]
    many = copy.deepcopy(context)
    many["teams"] = [
        {k: v for k, v in {**copy.deepcopy(template), "name": f"team{i:02d}"}.items() if k not in {"account", "region"}}
        for i in range(1, 21)
    ]
    teams_default = len(context["teams"])
    empty = _median([PYTHON, "-c", _SYNTH, json.dumps(context), "empty"])
    default = _median([PYTHON, "-c", _SYNTH, json.dumps(context), "app"])
    twenty = _median([PYTHON, "-c", _SYNTH, json.dumps(many), "app"])
    return {
        "empty_app_s": empty,
        "default_app_s": default,
        "teams_20_s": twenty,
        "ratio_default_vs_empty": round(default / empty, 2),
        "per_team_marginal_s": round((twenty - default) / (20 - teams_default), 3),
        "runs_each": RUNS,
    }


def transitions() -> dict[str, Any]:
    from tunestack.app.config import load_teams
    from tunestack.simulator.assembly import ensure_synthesized
    from tunestack.simulator.harness import Simulator

    outdir = ensure_synthesized(ROOT)
    team = load_teams(json.loads((ROOT / "cdk.json").read_text())["context"]["teams"])[0]
    payload = json.loads((ROOT / "examples" / "fine-tune-text.json").read_text())
    data = ROOT / "examples" / "data" / "fine-tune-text"
    simulator = Simulator(outdir, team)
    fast = simulator.run("fine-tune", payload, "success", data_dir=data)
    slow = simulator.run("fine-tune", payload, "slow-job", data_dir=data)
    # A tune with DeployBest: its own transitions and those of the deploy execution it nests.
    tune = json.loads((ROOT / "examples" / "tune-and-deploy.json").read_text())
    churn = {"datasets/churn/": ROOT / "examples" / "data" / "churn"}
    tune_fast = simulator.run("tune", tune, "success", uploads=churn)
    # Seven rounds of trials (20 jobs, 3 at a time) of four days each: a 28-day tuning job.
    tune_slow = simulator.run("tune", {**tune, "MaxRuntimeInSeconds": 4 * 86400}, "slow-job", uploads=churn)
    return {
        "fine_tune_fast": fast.state_transitions,
        "fine_tune_slow": slow.state_transitions,
        "fine_tune_fast_history_events": fast.history_events,
        "fine_tune_slow_history_events": slow.history_events,
        "fine_tune_slow_simulated_days": round(slow.output["TrainingTimeSeconds"] / 86400, 2),
        "tune_deploy_fast": tune_fast.total_transitions,
        "tune_deploy_slow": tune_slow.total_transitions,
        "tune_deploy_fast_history_events": tune_fast.total_history_events,
        "tune_deploy_slow_history_events": tune_slow.total_history_events,
        "tune_deploy_slow_simulated_days": round(tune_slow.simulated_seconds / 86400, 2),
        "tune_deploy_statuses": [tune_fast.status, tune_slow.status],
    }


def lambda_figures() -> dict[str, Any]:
    from tunestack.constructs.lambda_code import lambda_code_directory

    source = lambda_code_directory()
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "asset.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
            for path in sorted(source.rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    zipped.write(path, path.relative_to(source).as_posix())
        size = archive.stat().st_size
    env = {**ENV, "PYTHONPATH": str(source), "PYTHONDONTWRITEBYTECODE": "1"}
    nothing = _median([PYTHON, "-S", "-c", "pass"], runs=7, env=env)
    boto3 = _median([PYTHON, "-c", "import boto3"], runs=7, env=env) - nothing
    handlers = {}
    modules = sorted(p.stem for p in (source / "tunestack_runtime" / "handlers").glob("*.py") if p.stem != "__init__")
    for module in modules:
        imported = _median([PYTHON, "-c", f"import tunestack_runtime.handlers.{module}"], runs=7, env=env)
        handlers[module] = imported - nothing
    slowest = max(handlers, key=lambda m: handlers[m])
    return {
        "asset_bytes": size,
        "boto3_import_s": round(boto3, 3),
        "slowest_handler_module": slowest,
        "slowest_handler_import_s": round(handlers[slowest], 3),
        "max_import_ratio_vs_boto3": round(handlers[slowest] / boto3, 2),
    }


_CSV = """
import sys, time
sys.path.insert(0, sys.argv[2])
from tunestack_runtime.datasets.layouts import TEXT_CLASSIFICATION
start = time.perf_counter()
with open(sys.argv[1], "rb") as f:
    summary = TEXT_CLASSIFICATION.check_stream(f, sys.argv[1])
elapsed = time.perf_counter() - start
# VmHWM is this process's own peak: ru_maxrss can carry the parent's peak across fork and exec.
peak_kb = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(summary.bytes_read / 1e6 / elapsed, peak_kb / 1024, summary.rows)
"""


def _write_csv(path: Path, megabytes: int) -> None:
    words = ["film", "great", "plot", "actor", "boring", "fun", "story", "music", "scene", "ending", "long", "cast"]
    line_parts = []
    for i in range(5000):
        text = " ".join(words[(i * 7 + k) % len(words)] for k in range(8 + i % 23))
        line_parts.append(f'{i % 5},"{text}, indeed"\n')
    block = "".join(line_parts).encode()
    with path.open("wb") as f:
        for _ in range(megabytes * 1_000_000 // len(block) + 1):
            f.write(block)


def validator() -> dict[str, Any]:
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for megabytes in (20, 200):
            path = Path(tmp) / f"data{megabytes}.csv"
            _write_csv(path, megabytes)
            out = subprocess.run(
                [PYTHON, "-c", _CSV, str(path), str(ROOT)], capture_output=True, text=True, check=True
            ).stdout.split()
            figures[f"csv_{megabytes}mb"] = {
                "mb_per_s": round(float(out[0]), 1),
                "peak_rss_mb": round(float(out[1]), 1),
            }
    figures["csv_mb_per_s"] = figures["csv_200mb"]["mb_per_s"]
    figures["csv_peak_rss_mb"] = figures["csv_200mb"]["peak_rss_mb"]
    figures.update(image_check())
    return figures


#: The image datasets measured: objects in five class folders, as tf_flowers has.
IMAGE_SIZES = (30_000, 300_000)
IMAGE_CLASSES = 5
#: Checks timed on each server: each takes tens of milliseconds, so more runs steady the median.
IMAGE_RUNS = max(RUNS, 15)


def image_check() -> dict[str, Any]:
    """The image-classification check on 30,000 and 300,000 objects, each held by a moto S3 server
    this starts on 127.0.0.1 and stops. Both servers run at once and the checks alternate between
    them, so a busy machine slows both alike; medians of ``IMAGE_RUNS`` checks each.

    ``indexed``: ListObjectsV2 served from a key index as S3 serves it (the figure the goal is
    for); ``scanning``: moto as is, whose every listing scans the whole bucket (see s3_server.py).
    """
    figures: dict[str, Any] = {}
    for mode in ("indexed", "scanning"):
        servers = {images: _ImageServer(images, mode) for images in IMAGE_SIZES}
        try:
            times: dict[int, list[float]] = {images: [] for images in IMAGE_SIZES}
            for run in range(IMAGE_RUNS):
                order = IMAGE_SIZES if run % 2 == 0 else IMAGE_SIZES[::-1]
                for images in order:
                    times[images].append(servers[images].check())
        finally:
            for server in servers.values():
                server.stop()
        seconds = {images: round(statistics.median(t), 3) for images, t in times.items()}
        for images, server in servers.items():
            figures[f"image_check_{mode}_{images // 1000}k_s"] = seconds[images]
            figures[f"image_check_{images // 1000}k_requests"] = server.requests
            figures[f"image_check_{images // 1000}k_report"] = server.report
        small, large = IMAGE_SIZES
        figures[f"image_check_{mode}_ratio"] = round(seconds[large] / seconds[small], 2)
    figures["image_check_ratio"] = figures["image_check_indexed_ratio"]
    return figures


class _ImageServer:
    """benchmarks/s3_server.py in its own process, and a client checking the dataset it holds."""

    def __init__(self, images: int, mode: str) -> None:
        import boto3

        sys.path.insert(0, str(ROOT))
        from tunestack_runtime.datasets import check_dataset, layouts

        self._check = lambda: check_dataset(self.s3, layouts.JPEG_IMAGES, "s3://bench/flowers/")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.process = subprocess.Popen(
            [PYTHON, str(OUT / "s3_server.py"), str(port), str(images), str(IMAGE_CLASSES), mode],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.s3 = boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{port}",
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
        )
        for _ in range(1200):
            try:
                self.s3.head_bucket(Bucket="bench")
                break
            except Exception:
                if self.process.poll() is not None:
                    raise RuntimeError(f"the S3 server for {images} images stopped") from None
                time.sleep(0.1)
        self._check()  # connections and the client's models, untimed
        self.calls: list[str] = []
        self.s3.meta.events.register("before-call.s3.*", lambda model, **_: self.calls.append(model.name))
        self.requests = 0
        self.report: dict[str, Any] = {}

    def check(self) -> float:
        self.calls.clear()
        start = time.perf_counter()
        self.report = self._check()
        elapsed = time.perf_counter() - start
        self.requests = len(self.calls)
        return elapsed

    def stop(self) -> None:
        # Killed, not terminated: on SIGTERM moto's server exits cleanly, which with 300,000 objects
        # to dispose of takes minutes; it holds nothing worth keeping.
        self.process.kill()
        self.process.wait(timeout=30)


def tests_wall() -> float:
    return round(_timed(["make", "test"]), 1)


def machine() -> dict[str, Any]:
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    with open("/proc/meminfo") as meminfo:
        memory_kb = int(meminfo.readline().split()[1])
    return {
        "platform": platform.platform(),
        "processor": platform.machine(),
        "cpus": os.cpu_count(),
        "memory_gib": round(memory_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "node": node,
    }


GOALS = {
    "synth.ratio_default_vs_empty": "<= 2.0",
    "synth.per_team_marginal_s": "<= 1.5",
    "transitions.fine_tune_fast": "<= 12, equal to slow",
    "transitions.tune_deploy_fast": "<= 30, equal to slow",
    "lambda.asset_bytes": "< 200000",
    "lambda.max_import_ratio_vs_boto3": "<= 1.5",
    "validator.csv_mb_per_s": ">= 100, memory flat in file size",
    "validator.image_check_ratio": "<= 1.5 (300,000 objects vs 30,000)",
}


SECTIONS = {"synth": synth, "transitions": transitions, "lambda": lambda_figures, "validator": validator}


def main(argv: list[str]) -> int:
    """Every section (``make bench``), or those named (``run.py validator``): their figures replace
    the same sections of the last results.json, and RESULTS.md is written again from it."""
    started = time.time()
    only = [a for a in argv if a in SECTIONS]
    if only and (OUT / "results.json").exists():
        results: dict[str, Any] = json.loads((OUT / "results.json").read_text())
        results["machine"] = machine()
    else:
        results = {"machine": machine()}
    for name in only or SECTIONS:
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        results[name] = SECTIONS[name]()
    if os.environ.get("BENCH_SKIP_TESTS") != "1" and not only:
        print("bench: make test ...", file=sys.stderr, flush=True)
        results["tests_wall_s"] = tests_wall()
    results["goals"] = GOALS
    if not only:
        results["bench_wall_s"] = round(time.time() - started, 1)
    (OUT / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (OUT / "RESULTS.md").write_text(_markdown(results))
    print(json.dumps(results, indent=2))
    return 0


def _markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        "# Benchmark results",
        "",
        f"Measured by `make bench` on {m['platform']} ({m['processor']}, {m['cpus']} CPUs, {m['memory_gib']} GiB), "
        f"Python {m['python']}, Node {m['node']}. Synth figures are medians of {results['synth']['runs_each']} runs,"
        " each in a fresh process.",
        "",
        "| figure | value | goal |",
        "|---|---|---|",
    ]
    for section in ("synth", "transitions", "lambda", "validator"):
        for key, value in results[section].items():
            if isinstance(value, dict | str | list) or value is None:
                continue
            lines.append(f"| {section}.{key} | {value} | {GOALS.get(f'{section}.{key}', '')} |")
    if "tests_wall_s" in results:
        lines.append(f"| tests_wall_s | {results['tests_wall_s']} | |")
    csv = results["validator"]
    lines += [
        "",
        f"Validator memory: {csv['csv_20mb']['peak_rss_mb']} MB peak for 20 MB, "
        f"{csv['csv_200mb']['peak_rss_mb']} MB for 200 MB (the whole process).",
        "",
        "Image check: the image-classification dataset check (class folders listed with a delimiter, "
        "a bounded sample of keys per class) on 30,000 and on 300,000 objects in five class folders, each "
        "held by a moto S3 server the bench starts on 127.0.0.1 and stops (benchmarks/s3_server.py); "
        f"both servers run at once and the checks alternate between them; medians of {IMAGE_RUNS} checks "
        "each, after one untimed. Requests per check: "
        f"{csv.get('image_check_30k_requests')} for 30,000 objects, {csv.get('image_check_300k_requests')} for "
        "300,000. moto itself scans and sorts every key "
        "of the bucket on each ListObjectsV2, so its time per request grows with the bucket (the "
        "`scanning` figures); S3 lists from its key index, which the `indexed` server reproduces, and "
        "`image_check_ratio` is that one.",
        "",
        "Transitions: the real synthesized state machines in the simulator; tune + deploy counts the tune "
        "execution and the deploy execution it nests (examples/tune-and-deploy.json), the slow one with "
        "28 simulated days of trials.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
    sys.exit(main(sys.argv[1:]))
