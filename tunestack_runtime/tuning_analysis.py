"""After a tuning job: its leaderboard (with warm-start parents' trials), written to the team bucket
as CSV and JSON, the best objective published as a CloudWatch metric, and the execution's output.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tunestack_runtime import chart, console_links, leaderboard


def metric_namespace(team: str) -> str:
    """Each team publishes into its own namespace, the only one its IAM policy lets it write:
    PutMetricData has no resource-level permissions, and ``cloudwatch:namespace`` is the one
    condition that tells one team's metrics from another's."""
    return f"tunestack/{team}/Tuning"


@dataclass(frozen=True)
class Analysis:
    board: leaderboard.Leaderboard
    csv_uri: str
    json_uri: str
    chart_uri: str

    def output(self) -> dict[str, Any]:
        best = self.board.best
        return {
            "TuningJobName": self.board.tuning_job_name,
            "Objective": {"MetricName": self.board.objective_metric, "Type": self.board.objective_type},
            "StatusCounts": self.board.status_counts(),
            "BestTrainingJob": None
            if best is None
            else {
                "TrainingJobName": best.training_job_name,
                "ObjectiveValue": best.objective,
                "HyperParameters": best.hyperparameters,
            },
            "TrainingJobs": len(self.board.rows),
            "Leaderboard": {"Csv": self.csv_uri, "Json": self.json_uri, "Chart": self.chart_uri},
        }

    def links(self, tuning_job_arn: str) -> dict[str, str]:
        """Console links of the best training job and the leaderboard's CSV, JSON and chart, in the
        tuning job's partition and region."""
        place = lambda: console_links.Place.of(tuning_job_arn)  # noqa: E731
        best = self.board.best
        return console_links.links(
            BestTrainingJob=lambda: place().training_job(best.training_job_name if best else None),
            LeaderboardCsv=lambda: place().s3_object(self.csv_uri),
            LeaderboardJson=lambda: place().s3_object(self.json_uri),
            LeaderboardChart=lambda: place().s3_object(self.chart_uri),
        )


def lineage(sagemaker: Any, tuning_job_name: str, max_depth: int = 5) -> list[tuple[int, str]]:
    """(generation, tuning job) pairs: the job, its warm-start parents, their parents, ..."""
    found: list[tuple[int, str]] = []
    seen: set[str] = set()
    frontier = [tuning_job_name]
    for generation in range(max_depth + 1):
        next_frontier: list[str] = []
        for name in frontier:
            if name in seen:
                continue
            seen.add(name)
            found.append((generation, name))
            description = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
            parents = (description.get("WarmStartConfig") or {}).get("ParentHyperParameterTuningJobs", [])
            next_frontier.extend(p["HyperParameterTuningJobName"] for p in parents)
        if not next_frontier:
            break
        frontier = next_frontier
    return found


def analyse(
    *,
    sagemaker: Any,
    s3: Any,
    cloudwatch: Any,
    tuning_job_name: str,
    bucket: str,
    team: str,
    generations: Sequence[tuple[int, str]] | None = None,
) -> Analysis:
    description = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=tuning_job_name)
    objective = description["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"]
    jobs = generations if generations is not None else lineage(sagemaker, tuning_job_name)
    board = leaderboard.build(
        tuning_job_name,
        objective["MetricName"],
        objective["Type"],
        [(generation, leaderboard.training_jobs(sagemaker, name)) for generation, name in jobs],
    )
    prefix = f"tuning/{tuning_job_name}/leaderboard"
    s3.put_object(Bucket=bucket, Key=f"{prefix}.csv", Body=board.to_csv().encode(), ContentType="text/csv")
    s3.put_object(Bucket=bucket, Key=f"{prefix}.json", Body=board.to_json().encode(), ContentType="application/json")
    s3.put_object(Bucket=bucket, Key=f"{prefix}.png", Body=chart.render_png(board), ContentType="image/png")
    if board.best is not None:
        cloudwatch.put_metric_data(
            Namespace=metric_namespace(team),
            MetricData=[
                {
                    "MetricName": "BestObjective",
                    "Dimensions": [
                        {"Name": "Team", "Value": team},
                        {"Name": "TuningJobName", "Value": tuning_job_name},
                        {"Name": "ObjectiveMetric", "Value": board.objective_metric},
                    ],
                    "Value": board.best.objective,
                }
            ],
        )
    where = f"s3://{bucket}/{prefix}"
    return Analysis(board=board, csv_uri=f"{where}.csv", json_uri=f"{where}.json", chart_uri=f"{where}.png")
