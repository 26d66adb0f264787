"""Results files: one JSON row per finished item, read back to resume a run."""

from __future__ import annotations

import functools
import json
import logging
import subprocess
from pathlib import Path
from typing import Any

from toolmaker.costs import Budget, Spend

logger = logging.getLogger(__name__)


class BenchError(Exception):
    """A benchmark run cannot go on; rows already written are kept."""


class BudgetReached(BenchError):
    """A benchmark run stopped before its next item could pass its budget; rows written are kept."""


def budget_stop(
    budget: Budget | None, spend: Spend, before: str, resume: Path | None, *, under_way: int = 0
) -> BudgetReached | None:
    """Why a batch stops before ``before`` when one more item like its costliest could pass ``budget``.

    ``under_way`` items already started count as costliest ones too; ``resume`` is where a
    rerun with a larger budget goes on from (None: it starts over).
    """
    if budget is None or spend.leaves_room(budget, under_way=under_way):
        return None
    message = (
        f"stopped before {before}: one more like the costliest so far would pass the budget "
        f"({spend.describe()})"
    )
    return BudgetReached(
        message + (f"; a rerun with a larger --budget goes on from {resume}" if resume else "")
    )


def read_rows(out: Path) -> list[dict[str, Any]]:
    """The rows of a results file (none when it does not exist yet).

    A run killed while writing leaves a torn last line: it is cut off, so that its item is
    run again and the next row starts on a line of its own.

    Raises:
        BenchError: A line before the last is not JSON (the file was damaged otherwise).
    """
    if not out.exists():
        return []
    text = out.read_text()
    lines = text.splitlines()
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except ValueError as exc:
            if number == len(lines) and not text.endswith("\n"):
                out.write_text(text[: len(text) - len(line)])
                logger.warning("%s: cut off a torn last row (a killed run); its item runs again", out)
                break
            raise BenchError(f"{out}:{number}: not a results row ({exc}); remove or mend that line") from exc
    return rows


def append_row(out: Path, row: dict[str, Any]) -> None:
    """Append one finished item's row to ``out``, stamped with the code that made it (``code``)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a") as handle:
        handle.write(json.dumps({**row, "code": code_version()}) + "\n")


@functools.cache
def code_version() -> str | None:
    """The commit this package runs from when first asked (see :func:`code_version_at`).

    Rows say which code made them, so cells grown across commits (a prompt's stop sequences
    added between two steps, say) can be told apart. None outside a git checkout (an install).
    """
    return code_version_at(Path(__file__).resolve().parents[1])


def code_version_at(root: Path) -> str | None:
    """The commit checked out at ``root``, ``+dirty`` if its tracked files differ; None if no checkout.

    Files under ``results/`` do not count: a benchmark writes them as it runs.
    """

    def git(*command: str) -> str:
        done = subprocess.run(["git", "-C", str(root), *command], capture_output=True, text=True, timeout=30)
        done.check_returncode()
        return done.stdout.strip()

    try:
        head = git("rev-parse", "--short=12", "HEAD")
        status = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)results")
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head}+dirty" if status else head


def row_seconds(row: dict[str, Any]) -> float:
    """A row's wall-clock seconds, or its model seconds where those are more.

    A run a kill cut short resumes from its checkpoint, so its row's wall clock counts only
    the last part, while the model seconds add up every part's calls. Where no kill happened
    the two differ by little (the sandbox's share), so the larger is the better measure of
    both. Rows written before model seconds were recorded have only the wall clock.
    """
    return max(float(row["seconds"]), float(row.get("model_seconds") or 0))
