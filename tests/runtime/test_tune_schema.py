"""The published tune JSON Schema and the first state's validator agree on the contract's shape.

The schema's property names are compared with the key sets the validator modules themselves
check (read from their source, so a key added to a validator and not to the schema fails here);
the parts the validator passes to SageMaker unread are compared with botocore's service model.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import inspect
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import botocore.session
import jsonschema
import pytest

from tests.runtime.test_tune_input import INVALID, POLICY, SEED_INPUT, changed
from tunestack_runtime import deploy_input, input_fields, tune_input, tuning_config
from tunestack_runtime.errors import InvalidInput, TunestackError
from tunestack_runtime.tune_input import validate_tune_input

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "tunestack_runtime" / "schemas"
SCHEMA = json.loads((SCHEMAS / "tune.schema.json").read_text())
FINE_TUNE_SCHEMA = json.loads((SCHEMAS / "fine-tune.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


# --- key sets, read from the validator modules ------------------------------------------------


def _strings(node: ast.expr, module: ModuleType) -> frozenset[str] | None:
    """The keys an operand of ``set(raw) - ...`` names: a set literal, or a module-level collection."""
    if isinstance(node, ast.Set):
        return frozenset(e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "set" and node.args:
        return _strings(node.args[0], module)
    if isinstance(node, ast.Name) and isinstance(getattr(module, node.id, None), (set, frozenset, tuple, list)):
        return frozenset(getattr(module, node.id))
    return None  # a parameter (``extra_keys``) or a lookup (``_ALGORITHM_FORMS[form]``)


def _is_set_of_input(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "set"


def key_sets(module: ModuleType) -> dict[str, list[frozenset[str]]]:
    """Per function, each key set it accepts: ``set(raw) - A - {...}`` (unknown keys are those
    outside A and the literal) or ``set(item) != {...}``, in source order."""
    tree = ast.parse(inspect.getsource(module))
    found: dict[str, list[frozenset[str]]] = {}
    for function in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
        inner = {id(n.left) for n in ast.walk(function) if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Sub)}
        for node in ast.walk(function):
            operands: list[ast.expr] = []
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub) and id(node) not in inner:
                while isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub):
                    operands.insert(0, node.right)
                    node = node.left
                if not _is_set_of_input(node):
                    continue
            elif isinstance(node, ast.Compare) and _is_set_of_input(node.left) and isinstance(node.ops[0], ast.NotEq):
                operands = list(node.comparators)
            else:
                continue
            keys = [k for k in (_strings(o, module) for o in operands) if k is not None]
            if keys:
                found.setdefault(function.name, []).append(frozenset().union(*keys))
    return found


def only(sets: list[frozenset[str]]) -> frozenset[str]:
    assert len(sets) == 1, sets
    return sets[0]


def properties(schema: dict[str, Any]) -> set[str]:
    return set(schema["properties"])


def algorithm_forms(schema: dict[str, Any]) -> list[set[str]]:
    return sorted((properties(branch) for branch in schema["oneOf"]), key=sorted)


def metric_definition_keys(algorithm: dict[str, Any]) -> set[str]:
    (custom,) = (b for b in algorithm["oneOf"] if "MetricDefinitions" in b["properties"])
    return properties(custom["properties"]["MetricDefinitions"]["items"])


TUNING = key_sets(tuning_config)
CONFIG = SCHEMA["properties"]["HyperParameterTuningJobConfig"]
RANGES = CONFIG["properties"]["ParameterRanges"]["properties"]
WARM = SCHEMA["properties"]["WarmStartConfig"]


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_top_level_properties_are_the_validators_keys() -> None:
    assert properties(SCHEMA) == set(only(key_sets(tune_input)["validate_tune_input"])) == tune_input._TOP_LEVEL


def test_algorithm_forms_and_metric_definitions_are_the_validators_keys() -> None:
    algorithm = SCHEMA["properties"]["Algorithm"]
    assert algorithm_forms(algorithm) == sorted(map(set, input_fields._ALGORITHM_FORMS.values()), key=sorted)
    assert metric_definition_keys(algorithm) == only(key_sets(input_fields)["parse_metric_definitions"])
    assert algorithm == FINE_TUNE_SCHEMA["properties"]["Algorithm"]


def test_deploy_best_properties_are_the_endpoint_target_keys() -> None:
    assert properties(SCHEMA["properties"]["DeployBest"]) == only(key_sets(deploy_input)["parse_endpoint_target"])


def test_tuning_config_objects_are_the_validators_keys() -> None:
    assert properties(CONFIG) == only(TUNING["validate_tuning_config"])
    assert set(RANGES) == only(TUNING["_ranges"])
    assert properties(CONFIG["properties"]["ResourceLimits"]) == only(TUNING["_limits"])
    assert properties(CONFIG["properties"]["HyperParameterTuningJobObjective"]) == only(TUNING["_objective"])
    categorical, numeric = sorted(TUNING["_range"], key=lambda keys: "Values" not in keys)
    assert properties(RANGES["CategoricalParameterRanges"]["items"]) == categorical
    for kind in ("IntegerParameterRanges", "ContinuousParameterRanges"):
        assert properties(RANGES[kind]["items"]) == numeric


def test_warm_start_properties_are_the_validators_keys() -> None:
    config, parent = sorted(TUNING["parse_warm_start"], key=len, reverse=True)
    assert properties(WARM) == config
    assert properties(WARM["properties"]["ParentHyperParameterTuningJobs"]["items"]) == parent
    assert set(WARM["properties"]["WarmStartType"]["enum"]) == set(tuning_config.WARM_START_TYPES)


def test_an_unknown_key_in_a_parent_item_is_refused_by_the_validator() -> None:
    parent = {"HyperParameterTuningJobName": "xgb-churn-tune-0", "Colour": "red"}
    payload = changed(WarmStartConfig={"ParentHyperParameterTuningJobs": [parent], "WarmStartType": "TransferLearning"})
    assert list(VALIDATOR.iter_errors(payload))
    with pytest.raises(InvalidInput):
        validate_tune_input(payload, POLICY)


def test_enums_are_the_validators() -> None:
    assert set(CONFIG["properties"]["Strategy"]["enum"]) == tuning_config.STRATEGIES
    assert set(CONFIG["properties"]["TrainingJobEarlyStoppingType"]["enum"]) == tuning_config.EARLY_STOPPING
    objective = CONFIG["properties"]["HyperParameterTuningJobObjective"]["properties"]
    assert set(objective["Type"]["enum"]) == tuning_config.OBJECTIVE_TYPES
    for kind in ("IntegerParameterRanges", "ContinuousParameterRanges"):
        assert set(RANGES[kind]["items"]["properties"]["ScalingType"]["enum"]) == tuning_config.SCALING_TYPES


SAGEMAKER = botocore.session.get_session().get_service_model("sagemaker")


def _same_members(schema: dict[str, Any], shape_name: str, path: str) -> list[str]:
    """Differences between an object schema and a botocore structure, recursively."""
    shape = SAGEMAKER.shape_for(shape_name)
    if shape.type_name == "list":
        return _same_members(schema["items"], shape.member.name, f"{path}[]")
    if shape.type_name != "structure":
        return []
    problems = (
        [] if properties(schema) == set(shape.members) else [f"{path}: {properties(schema)} != {set(shape.members)}"]
    )
    for name, member in shape.members.items():
        if name in schema["properties"] and member.type_name in {"structure", "list"}:
            problems += _same_members(schema["properties"][name], member.name, f"{path}.{name}")
    return problems


def test_what_the_validator_passes_through_follows_botocores_shapes() -> None:
    assert (
        _same_members(CONFIG["properties"]["StrategyConfig"], "HyperParameterTuningJobStrategyConfig", "StrategyConfig")
        == []
    )
    completion = CONFIG["properties"]["TuningJobCompletionCriteria"]
    assert _same_members(completion, "TuningJobCompletionCriteria", "TuningJobCompletionCriteria") == []
    assert _same_members(RANGES["AutoParameters"], "AutoParameters", "AutoParameters") == []
    assert set(CONFIG["properties"]) <= set(SAGEMAKER.shape_for("HyperParameterTuningJobConfig").members)


# --- examples and invalid inputs ----------------------------------------------------------------


def policy_for(payload: dict[str, Any]) -> Any:
    """The test team, allowing what an example names (its limits are the examples' business)."""
    deploy = payload.get("DeployBest", {})
    return dataclasses.replace(
        POLICY,
        training_instance_types=(payload.get("InstanceType", POLICY.default_training_instance_type),),
        hosting_instance_types=(deploy.get("InstanceType", POLICY.default_hosting_instance_type),),
        max_runtime_in_seconds=2419200,
        max_instance_count=4,
        max_training_jobs_per_tuning_job=50,
        max_parallel_training_jobs=4,
    )


@pytest.mark.parametrize("name", sorted(p.stem for p in (ROOT / "examples").glob("tune-*.json")))
def test_examples_satisfy_the_schema_and_the_validator(name: str) -> None:
    payload = json.loads((ROOT / "examples" / f"{name}.json").read_text())
    assert list(VALIDATOR.iter_errors(payload)) == []
    validate_tune_input(payload, policy_for(payload))


def test_the_seed_input_satisfies_the_schema() -> None:
    assert list(VALIDATOR.iter_errors(SEED_INPUT)) == []


# Rules beyond a schema's reach: names shared between fields, the algorithm's metrics, '..' in keys.
SEMANTIC_ONLY = {
    "tuned name also static",
    "objective the built-in does not emit",
    "custom image objective not among its metrics",
    "channel escapes the bucket prefix",
}


@pytest.mark.parametrize(("case", "fields", "message"), INVALID, ids=[c[0] for c in INVALID])
def test_shape_errors_are_schema_errors_too(case: str, fields: dict[str, Any], message: str) -> None:
    payload = changed(**fields)
    with pytest.raises(InvalidInput):
        validate_tune_input(payload, POLICY)
    schema_errors = list(VALIDATOR.iter_errors(payload))
    if case in SEMANTIC_ONLY:
        assert schema_errors == []
    else:
        assert schema_errors, f"the schema accepts {case!r}"


def at(path: str, value: Any) -> dict[str, Any]:
    """SEED_INPUT with the field at ``a.b.c`` (list indexes as numbers) set, or removed with ``...``."""
    payload = copy.deepcopy(SEED_INPUT)
    *parents, last = path.split(".")
    target: Any = payload
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if value is ...:
        del target[last]
    else:
        target[last] = value
    return payload


C = "HyperParameterTuningJobConfig"
WARM_PARENT = [{"HyperParameterTuningJobName": "xgb-churn-tune-0"}]
REFUSED_BY_BOTH = [
    # unknown fields, at every level
    ("unknown top-level field", at("Epochs", 3)),
    ("unknown algorithm field", at("Algorithm.Framework", "xgb")),
    ("unknown config field", at(f"{C}.Budget", 3)),
    ("unknown range kind", at(f"{C}.ParameterRanges.BooleanParameterRanges", [])),
    ("unknown range field", at(f"{C}.ParameterRanges.IntegerParameterRanges.0.Step", "1")),
    (
        "scaling on a categorical range",
        at(
            f"{C}.ParameterRanges.CategoricalParameterRanges",
            [{"Name": "booster", "Values": ["gbtree"], "ScalingType": "Auto"}],
        ),
    ),
    ("unknown limit", at(f"{C}.ResourceLimits.MaxCost", 3)),
    ("unknown objective field", at(f"{C}.HyperParameterTuningJobObjective.Goal", 0.9)),
    ("unknown warm-start field", at("WarmStartConfig", {"WarmStartType": "Auto", "Parents": []})),
    ("unknown deploy-best field", at("DeployBest", {"EndpointName": "churn", "Variant": "a"})),
    # wrong types
    ("name a number", at("TuningJobName", 5)),
    ("training data a number", at("TrainingData", 5)),
    ("no channels", at("TrainingData", {})),
    ("blank training data", at("TrainingData", "  ")),
    ("instance count as text", at("InstanceCount", "1")),
    ("instance count zero", at("InstanceCount", 0)),
    ("runtime a boolean", at("MaxRuntimeInSeconds", True)),
    ("instance type a number", at("InstanceType", 5)),
    ("eula as text", at("AcceptEula", "true")),
    ("static hyperparameters a list", at("StaticHyperParameters", ["eta"])),
    ("config a list", at(C, [])),
    ("unknown strategy", at(f"{C}.Strategy", "Fast")),
    ("negative seed", at(f"{C}.RandomSeed", -1)),
    ("seed a boolean", at(f"{C}.RandomSeed", True)),
    ("unknown early stopping", at(f"{C}.TrainingJobEarlyStoppingType", "Sometimes")),
    ("parallel jobs as text", at(f"{C}.ResourceLimits.MaxParallelTrainingJobs", "3")),
    ("tuning runtime under SageMaker's minimum", at(f"{C}.ResourceLimits.MaxRuntimeInSeconds", 60)),
    ("ranges a list", at(f"{C}.ParameterRanges.IntegerParameterRanges", {"Name": "max_depth"})),
    ("bound not a number", at(f"{C}.ParameterRanges.ContinuousParameterRanges.0.MinValue", "low")),
    ("integer bound not whole", at(f"{C}.ParameterRanges.IntegerParameterRanges.0.MaxValue", "10.5")),
    ("unknown scaling", at(f"{C}.ParameterRanges.ContinuousParameterRanges.0.ScalingType", "Cubic")),
    (
        "categorical values not strings",
        at(f"{C}.ParameterRanges.CategoricalParameterRanges", [{"Name": "booster", "Values": [1, 2]}]),
    ),
    ("objective type unknown", at(f"{C}.HyperParameterTuningJobObjective.Type", "Best")),
    (
        "unknown warm-start type",
        at("WarmStartConfig", {"WarmStartType": "Sometimes", "ParentHyperParameterTuningJobs": WARM_PARENT}),
    ),
    (
        "a parent not an object",
        at("WarmStartConfig", {"WarmStartType": "TransferLearning", "ParentHyperParameterTuningJobs": ["p"]}),
    ),
    (
        "a parent listed twice",
        at("WarmStartConfig", {"WarmStartType": "TransferLearning", "ParentHyperParameterTuningJobs": WARM_PARENT * 2}),
    ),
    (
        "auto with parents",
        at("WarmStartConfig", {"WarmStartType": "Auto", "ParentHyperParameterTuningJobs": WARM_PARENT}),
    ),
    ("grid with a numeric range", at(f"{C}.Strategy", "Grid")),
    ("deploy best count zero", at("DeployBest", {"EndpointName": "churn", "InitialInstanceCount": 0})),
    ("deploy best endpoint badly named", at("DeployBest", {"EndpointName": "churn_predictor"})),
    # missing required fields
    ("algorithm missing", at("Algorithm", ...)),
    ("strategy missing", at(f"{C}.Strategy", ...)),
    ("ranges missing", at(f"{C}.ParameterRanges", ...)),
    ("limits missing", at(f"{C}.ResourceLimits", ...)),
    ("parallel jobs missing", at(f"{C}.ResourceLimits.MaxParallelTrainingJobs", ...)),
    ("job count missing without grid", at(f"{C}.ResourceLimits.MaxNumberOfTrainingJobs", ...)),
    ("objective missing", at(f"{C}.HyperParameterTuningJobObjective", ...)),
    ("objective metric missing", at(f"{C}.HyperParameterTuningJobObjective.MetricName", ...)),
    ("range name missing", at(f"{C}.ParameterRanges.IntegerParameterRanges.0.Name", ...)),
    ("range bound missing", at(f"{C}.ParameterRanges.ContinuousParameterRanges.0.MaxValue", ...)),
    ("warm-start type missing", at("WarmStartConfig", {"ParentHyperParameterTuningJobs": WARM_PARENT})),
    ("parents missing", at("WarmStartConfig", {"WarmStartType": "IdenticalDataAndAlgorithm"})),
    ("deploy best endpoint missing", at("DeployBest", {"InstanceType": "ml.m5.large"})),
]


@pytest.mark.parametrize(("case", "payload"), REFUSED_BY_BOTH, ids=[c[0] for c in REFUSED_BY_BOTH])
def test_invalid_inputs_are_refused_by_both(case: str, payload: dict[str, Any]) -> None:
    with pytest.raises(TunestackError) as caught:
        validate_tune_input(payload, POLICY)
    assert isinstance(caught.value, InvalidInput), caught.value
    assert list(VALIDATOR.iter_errors(payload)), f"the schema accepts {case!r}"


@pytest.mark.parametrize(
    "payload",
    [
        {"CopySettingsFrom": "xgb-churn-tune-1"},
        {**at(C, ...), "CopySettingsFrom": "xgb-churn-tune-1"},
        at("WarmStartConfig", {"WarmStartType": "Auto"}),
        at(C, {**SEED_INPUT[C], "StrategyConfig": {"HyperbandStrategyConfig": {"MinResource": 1, "MaxResource": 10}}}),
        at(f"{C}.ResourceLimits.MaxRuntimeInSeconds", 120),
        at(f"{C}.ParameterRanges.IntegerParameterRanges.0.MaxValue", 10),
        at("TrainingData", "s3://nlp-data-bucket/datasets/churn/"),
        at("DeployBest", {"EndpointName": "churn"}),
    ],
    ids=[
        "copy only",
        "copy without config",
        "auto warm start",
        "hyperband config",
        "shortest runtime",
        "bound as number",
        "s3 uri",
        "deploy best defaults",
    ],
)
def test_valid_variants_are_accepted_by_both(payload: dict[str, Any]) -> None:
    validate_tune_input(payload, POLICY)
    assert list(VALIDATOR.iter_errors(payload)) == []
