"""Which dataset layout a model reads, chosen from its spec, and where AWS documents each one.

A JumpStart model's task is the second segment of its id (``huggingface-tc-bert-base-cased`` ->
``tc``), the way the SageMaker Python SDK reads it (``sagemaker/jumpstart/notebook_utils.py``,
``extract_framework_task_model``) and JumpStart's task filters use it. Specs have no task field, but
their hyperparameters say what a text-generation model reads: a model that declares
``instruction_tuned`` or ``chat_dataset`` is a text-generation model whatever its id says, and their
values (the input's, or the spec's defaults) pick instruction tuning, chat or domain adaptation.
A task with no known layout is reported as not checked, never as a pass.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from tunestack_runtime.datasets.domain_text import DomainText
from tunestack_runtime.datasets.images import ImageFolders
from tunestack_runtime.datasets.labelled_csv import LabelledCsv
from tunestack_runtime.datasets.reading import Location, holds_data
from tunestack_runtime.datasets.tabular import TabularCsv
from tunestack_runtime.datasets.text_generation import ChatRecords, InstructionRecords
from tunestack_runtime.errors import InvalidDataset, InvalidInput

_DG = "https://docs.aws.amazon.com/sagemaker/latest/dg"
_EXAMPLES = "https://github.com/aws/amazon-sagemaker-examples/blob/main"


class Layout(Protocol):
    """A dataset layout: its name in the output, the page it follows, and its check."""

    @property
    def name(self) -> str: ...

    @property
    def source(self) -> str: ...

    def check(self, s3: Any, location: Location) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Unchecked:
    """No layout is known: the output says so (``reason``), and the prefix must hold data."""

    reason: str
    name: str = "unknown"
    source: str = ""

    def check(self, s3: Any, location: Location) -> dict[str, Any]:
        if not holds_data(s3, location):
            raise InvalidDataset(f"{location.uri}: no objects under this prefix")
        return {"HoldsData": True}


# Text classification, TensorFlow and Hugging Face alike: "Input and output interface for the Text
# Classification - TensorFlow algorithm" (text-classification-tensorflow-inputoutput.html) and the
# JumpStart notebook "Introduction to JumpStart - Text Classification": a directory holding data.csv,
# no header, an integer class label in column 1, the text in column 2.
TEXT_CLASSIFICATION = LabelledCsv(
    name="text classification",
    source=f"{_DG}/text-classification-tensorflow-inputoutput.html",
    texts=("the text",),
)
# Sentence-pair classification: no Developer Guide page describes the file; the SageMaker Python SDK's
# "Sentence Pair Classification - HuggingFace" page points to AWS's notebook "Introduction to
# JumpStart - Sentence Pair Classification" (introduction_to_amazon_algorithms/
# jumpstart_sentence_pair_classification, since moved to the repository's archived/ folder):
# data.csv, no header, a 0/1 label (the model attaches a binary classification layer), sentence 1,
# sentence 2.
SENTENCE_PAIR_CLASSIFICATION = LabelledCsv(
    name="sentence-pair classification",
    source=f"{_EXAMPLES}/introduction_to_amazon_algorithms/jumpstart_sentence_pair_classification/"
    "Amazon_JumpStart_Sentence_Pair_Classification.ipynb",
    texts=("the first sentence", "the second sentence"),
    labels=(0, 1),
)
# Image classification - TensorFlow: "Input and output interface for the Image Classification -
# TensorFlow algorithm" (IC-TF-inputoutput.html): one subdirectory per class of .jpg, .jpeg or .png.
TENSORFLOW_IMAGES = ImageFolders(
    name="image classification (TensorFlow)",
    source=f"{_DG}/IC-TF-inputoutput.html",
    extensions=frozenset({".jpg", ".jpeg", ".png"}),
)
# Image classification with the other frameworks (PyTorch, MXNet): JumpStart's fine-tuning page
# (jumpstart-fine-tune.html, "For vision models") and the notebook "Introduction to JumpStart - Image
# Classification": one subdirectory per class of images "in .jpg format" (.jpeg is the same format).
JPEG_IMAGES = ImageFolders(
    name="image classification",
    source=f"{_DG}/jumpstart-fine-tune.html",
    extensions=frozenset({".jpg", ".jpeg"}),
)
# Tabular: "Input and Output interface for the LightGBM algorithm" (InputOutput-LightGBM.html) and
# "... for the CatBoost algorithm" (InputOutput-CatBoost.html), and the JumpStart tabular notebooks
# (XGBoost, Linear Learner, TabTransformer, AutoGluon): train/ (CatBoost's page: training/) and an
# optional validation/ of CSV files, no header, the target in column 1; categorical_index.json beside
# them holds {"cat_index_list": [column numbers]}.
_TABULAR_SOURCE = f"{_DG}/InputOutput-LightGBM.html"
TABULAR_CLASSIFICATION = TabularCsv(name="tabular classification", source=_TABULAR_SOURCE)
TABULAR_REGRESSION = TabularCsv(name="tabular regression", source=_TABULAR_SOURCE, regression=True)
# Instruction tuning: "Fine-tune a large language model (LLM) using prompt instructions"
# (jumpstart-foundation-models-fine-tuning-instruction-based.html) and AWS's Llama 3 fine-tuning
# notebook ("Dataset formatting instruction for training"): JSON Lines files (the .jsonl extension is
# mandatory) in one folder and an optional template.json whose "prompt" and "completion" strings name
# record fields in braces. Without it, per AWS's Mistral 7B and Falcon 7B fine-tuning notebooks ("If no
# template file is given, the following default template will be used"), records need "instruction",
# "context" and "response".
_INSTRUCTION_SOURCE = f"{_DG}/jumpstart-foundation-models-fine-tuning-instruction-based.html"
INSTRUCTION_FIELDS = ("instruction", "context", "response")
#: Default templates that differ by task: Flan-T5 (text2text) reads "prompt" and "completion"
#: (AWS notebook "Instruction fine-tuning for FLAN T5 XL with Amazon SageMaker JumpStart").
DEFAULT_TEMPLATE_FIELDS = {"text2text": ("prompt", "completion")}
# Chat: no Developer Guide page; AWS's notebooks "Fine-tune Llama 3.1 405B" and "Fine-tune Gemma"
# (generative_ai/sm-jumpstart_foundation_llama_3_1_405b_finetuning.ipynb, ..._gemma_fine_tuning):
# .jsonl records holding their messages under "dialog", "messages" or "conversations", roles
# "system" (optional, first), then "user" and "assistant" alternating from "user".
CHAT = ChatRecords(
    name="chat (text generation)",
    source=f"{_EXAMPLES}/generative_ai/sm-jumpstart_foundation_llama_3_1_405b_finetuning.ipynb",
)
# Domain adaptation: "Fine-tune a large language model (LLM) using domain adaptation"
# (jumpstart-foundation-models-fine-tuning-domain-adaptation.html) and the notebooks: a train (and
# optional validation) directory holding one CSV, JSON or TXT file; CSV and JSON give the text in a
# column called "text", or the first.
DOMAIN_ADAPTATION = DomainText(
    name="domain adaptation (text generation)",
    source=f"{_DG}/jumpstart-foundation-models-fine-tuning-domain-adaptation.html",
)

#: Task segments of text-generation models (meta-textgeneration-llama-*, huggingface-textgeneration1-
#: gpt-j-6b, meta-textgenerationneuron-*, huggingface-llm-*): prefixes and whole segments.
TEXT_GENERATION_TASKS = ("textgeneration", "llm")
TABULAR_TASKS = {
    "classification": TABULAR_CLASSIFICATION,
    "regression": TABULAR_REGRESSION,
    "tabtransformerclassification": TABULAR_CLASSIFICATION,
    "tabtransformerregression": TABULAR_REGRESSION,
}
MODE_HYPERPARAMETERS = ("instruction_tuned", "chat_dataset")


def _is_text_generation(task: str) -> bool:
    return any(task.startswith(t) for t in TEXT_GENERATION_TASKS)


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def for_jumpstart(
    model_id: str,
    hyperparameters: Mapping[str, str],
    *,
    tuned: Collection[str] = (),
    where: str = "$.HyperParameters",
) -> Layout:
    """The layout ``model_id`` reads with these ``hyperparameters`` (the input's over the spec's
    defaults: every hyperparameter the spec declares is a key)."""
    framework, _, rest = model_id.partition("-")
    task = rest.partition("-")[0].lower() if "-" in rest else ""
    modes = [m for m in MODE_HYPERPARAMETERS if m in hyperparameters]
    if modes:
        return _text_generation(model_id, task, hyperparameters, modes, tuned, where)
    if _is_text_generation(task):
        return DOMAIN_ADAPTATION
    if task == "tc":
        return TEXT_CLASSIFICATION
    if task == "spc":
        return SENTENCE_PAIR_CLASSIFICATION
    if task == "ic":
        return TENSORFLOW_IMAGES if framework.lower() == "tensorflow" else JPEG_IMAGES
    if task in TABULAR_TASKS:
        return TABULAR_TASKS[task]
    return Unchecked(f"dataset not checked: no layout is known for task {task or '(none)'} ({model_id})")


def _text_generation(
    model_id: str,
    task: str,
    hyperparameters: Mapping[str, str],
    modes: list[str],
    tuned: Collection[str],
    where: str,
) -> Layout:
    varying = [m for m in modes if m in tuned]
    if varying:
        return Unchecked(
            f"dataset not checked: {', '.join(varying)} is tuned, so the layout changes from trial to trial"
        )
    chosen = [m for m in modes if _true(hyperparameters.get(m))]
    if len(chosen) > 1:
        # AWS's notebooks: "At most one of instruction_tuned and chat_dataset can be True".
        raise InvalidInput(f"{where}: at most one of instruction_tuned and chat_dataset can be True")
    if chosen == ["instruction_tuned"]:
        fields = DEFAULT_TEMPLATE_FIELDS.get(task, INSTRUCTION_FIELDS)
        return InstructionRecords(
            name="instruction tuning (text generation)", source=_INSTRUCTION_SOURCE, default_fields=fields
        )
    if chosen == ["chat_dataset"]:
        return CHAT
    if _is_text_generation(task):
        return DOMAIN_ADAPTATION
    return Unchecked(
        f"dataset not checked: no layout is known for task {task or '(none)'} ({model_id}) "
        f"with {' and '.join(modes)} False"
    )


def for_builtin(name: str) -> Layout:
    return Unchecked(f"dataset not checked: no layout is known for the built-in {name} algorithm")


CUSTOM_IMAGE = Unchecked("dataset not checked: no layout is known for a custom training image")
