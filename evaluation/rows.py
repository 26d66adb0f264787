"""Results files: one JSON row per finished item, read back to resume a run."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


class BenchError(Exception):
    """A benchmark run cannot go on; rows already written are kept."""


class BudgetReached(BenchError):
    """A benchmark run stopped before its next item could pass its budget; rows written are kept."""


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
