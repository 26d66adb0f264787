"""Loaders for the benchmark datasets, read through ``toolmaker.datasets`` (checksummed).

Every loader returns :class:`Item` records in file order; :func:`sample` draws a
deterministic subset, so every method is scored on the same items.
"""

from __future__ import annotations

import json
import random
from typing import Any, Literal, TypeVar

from typing_extensions import TypedDict

from nodes.common.parsing import extract_code_blocks
from toolmaker.datasets import dataset_file

MATH_SUBJECTS = (
    "algebra",
    "counting_and_probability",
    "geometry",
    "intermediate_algebra",
    "number_theory",
    "prealgebra",
    "precalculus",
)
BBH_TASKS = (
    "logical_deduction_five_objects",
    "tracking_shuffled_objects_five_objects",
    "dyck_languages",
    "word_sorting",
    "chinese_remainder_theorem",
    "schedule_meeting",
)


class Item(TypedDict):
    """One benchmark problem."""

    id: str
    """Stable within its dataset: ``<dataset>/<part>/<line number>``."""
    question: str
    answer: str
    """The gold answer as text (numbers as written by the dataset)."""
    table: str
    level: str
    """Difficulty (MATH level, TabMWP grade) or subject, for breakdowns; may be empty."""
    meta: dict[str, Any]


def _jsonl(relative: str) -> list[dict[str, Any]]:
    return [
        json.loads(line) for line in dataset_file(relative).read_text(encoding="utf-8").splitlines() if line
    ]


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def load_math(subset: Literal["numeric", "full"] = "numeric") -> list[Item]:
    """MATH test problems: the 3,201 numeric-answer subset, or all 5,000 (LaTeX answers)."""
    folder = "math/numeric_subset_3201" if subset == "numeric" else "math"
    items: list[Item] = []
    for subject in MATH_SUBJECTS:
        for index, row in enumerate(_jsonl(f"{folder}/{subject}.jsonl")):
            answer = _number(row["answer"]) if subset == "numeric" else str(row["answer"])
            items.append(
                Item(
                    id=f"math-{subset}/{subject}/{index}",
                    question=row["question"],
                    answer=answer,
                    table="",
                    level=row.get("level", ""),
                    meta={"subject": subject},
                )
            )
    return items


def load_tabmwp(subset: Literal["creator", "1000"] = "1000") -> list[Item]:
    """TabMWP: CREATOR's numeric test set (5,376) or its 1,000-problem subset."""
    name = "creator_tabmwp_test_numeric.jsonl" if subset == "creator" else "craft_tabmwp_1000.jsonl"
    return [
        Item(
            id=f"tabmwp-{subset}/{index}",
            question=row["question"],
            answer=_number(row["answer"]),
            table=row["table"],
            level=f"grade {row['level']}",
            meta={},
        )
        for index, row in enumerate(_jsonl(f"tabmwp/{name}"))
    ]


def load_creation_challenge(hint: Literal["none", "utility", "all"] = "none") -> list[Item]:
    """CREATOR's Creation Challenge; hints add the utility, or utility, args and return."""
    items: list[Item] = []
    for index, row in enumerate(_jsonl("creation_challenge/CC.jsonl")):
        parts = [row["question"]]
        if row.get("constant", "- None").strip() != "- None":
            parts.append(f"Constants:\n{row['constant']}")
        if hint in ("utility", "all"):
            parts.append(f"Hint (what the tool should do): {row['utility']}")
        if hint == "all":
            parts.append(f"Hint (arguments):\n{row['args']}\nHint (return value):\n{row['return']}")
        items.append(
            Item(
                id=f"creation-challenge/{index}",
                question="\n\n".join(parts),
                answer=_number(row["answer"]),
                table="",
                level="",
                meta={"hint": hint},
            )
        )
    return items


class TransferGroup(TypedDict):
    """A tool-transfer group: three scenarios sharing one reference tool."""

    id: str
    intro: str
    reference_tool: str
    scenarios: list[Item]


def load_tool_transfer() -> list[TransferGroup]:
    """CREATOR's tool-transfer set: 100 groups of 3 scenarios."""
    groups: list[TransferGroup] = []
    for index, row in enumerate(_jsonl("tool_transfer/transfer_300.jsonl")):
        scenarios = [
            Item(
                id=f"transfer/{index}/{n}",
                question=row[f"scn{n}"],
                answer=_number(row[f"ans{n}"]),
                table="",
                level="",
                meta={"group": index},
            )
            for n in (1, 2, 3)
        ]
        blocks = extract_code_blocks(row["tool"])
        groups.append(
            TransferGroup(
                id=f"transfer/{index}",
                intro=row["intro"],
                reference_tool=blocks[0] if blocks else "",
                scenarios=scenarios,
            )
        )
    return groups


def load_bbh(task: str, split: Literal["train", "valid", "test"] = "test") -> list[Item]:
    """A LATM Big-Bench task with LATM's positional split: 5 train, 5 valid, 240 test.

    Dyck-language inputs and targets have their spaces removed, as LATM's notebooks do.
    """
    rows = json.loads(dataset_file(f"latm_bbh/{task}.json").read_text(encoding="utf-8"))["examples"]
    start, stop = {"train": (0, 5), "valid": (5, 10), "test": (10, len(rows))}[split]
    items: list[Item] = []
    for index in range(start, stop):
        question, target = rows[index]["input"], rows[index]["target"]
        if task == "dyck_languages":
            question, target = question.replace(" ", ""), target.replace(" ", "")
        items.append(
            Item(id=f"bbh/{task}/{index}", question=question, answer=target, table="", level=task, meta={})
        )
    return items


Drawn = TypeVar("Drawn")


def sample(items: list[Drawn], n: int | None, seed: int = 0) -> list[Drawn]:
    """``n`` items drawn deterministically by ``seed`` (all of them for ``None``), in file order.

    Growing ``n`` keeps the items already drawn, so a run can be extended without redoing them.
    """
    if n is None or n >= len(items):
        return list(items)
    order = list(range(len(items)))
    random.Random(seed).shuffle(order)
    chosen = set(order[:n])
    return [item for index, item in enumerate(items) if index in chosen]
