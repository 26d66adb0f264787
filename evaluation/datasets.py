"""Loaders for the benchmark datasets, read through ``toolmaker.datasets`` (checksummed).

Every loader returns :class:`Item` records in file order; :func:`sample` draws a
deterministic subset, so every method is scored on the same items. :func:`load_items`
reads one's own items from a JSONL file.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any, Literal, TypeVar

from typing_extensions import TypedDict

from nodes.common.parsing import extract_code_blocks
from toolmaker.datasets import DatasetError, dataset_file

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


def load_items(path: Path) -> list[Item]:
    """One's own items from a JSONL file, one object per line.

    Each has ``question`` and ``answer`` (text or a number), and may have ``table``, ``level``
    and ``id`` (default ``<file stem>/<line number>``); blank lines are skipped.

    Raises:
        DatasetError: The file cannot be read, a line is not such an object, or two lines share an id.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"cannot read the items file {path}: {exc}") from exc
    items: list[Item] = []
    line_of: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}, line {number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{where}: not JSON ({exc.msg})") from exc
        if not isinstance(row, dict):
            raise DatasetError(f"{where}: expected an object with question and answer")
        answer = row.get("answer")
        if isinstance(answer, bool) or not isinstance(answer, str | int | float):
            raise DatasetError(f"{where}: answer must be text or a number, not {answer!r}")
        defaults = {"question": None, "table": "", "level": "", "id": f"{path.stem}/{number}"}
        texts: dict[str, Any] = {key: row.get(key, default) for key, default in defaults.items()}
        if wrong := [key for key, value in texts.items() if not isinstance(value, str)]:
            raise DatasetError(f"{where}: expected text for {', '.join(wrong)}")
        item_id = texts["id"]
        if item_id in line_of:  # a rerun skips the items whose id has a row, so ids must be unique
            raise DatasetError(f"{where}: the id {item_id!r} is also that of line {line_of[item_id]}")
        line_of[item_id] = number
        items.append(
            Item(
                id=item_id,
                question=texts["question"],
                answer=answer if isinstance(answer, str) else _number(answer),
                table=texts["table"],
                level=texts["level"],
                meta={},
            )
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
