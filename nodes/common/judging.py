"""Assemble the program that runs, and judge its result: an answer, or why not."""

from __future__ import annotations

import ast
import math
import re
from collections import Counter
from dataclasses import dataclass

from nodes.common.checks import explain_asserts
from nodes.common.grading import choice_letter, extract_number
from sandbox.result import ExecutionError, ExecutionResult

TOOL_FILE, CHECKS_FILE, MAIN_FILE, REQUEST_FILE = "tool.py", "checks.py", "main.py", "request.py"
_IMPORT_TOOL = "from tool import *"
_FRAME = re.compile(r'File "(tool|checks|main)\.py", line (\d+)')
_PART_NAMES = {"tool": "tool", "checks": "self-check", "main": "call"}
_ANSWER_PREFIX = re.compile(r"^\s*(final answer|answer|result)\s*[:=]\s*", re.I)
_OBJECT_REPR = re.compile(r"^<[^<>]*\bat 0x[0-9a-fA-F]+>$|^<(class|module|function|built-in) ")
_MAX_ANSWER_CHARS = 300
_ARRAY_ITEM = r"(?:-?[\d.]+(?:e[-+]?\d+)?|nan|-?inf)"
_ARRAY = re.compile(rf"^\[+\s*{_ARRAY_ITEM}(?:\s+\[*{_ARRAY_ITEM}\]*)+\s*\]+$")
"""numpy's way of printing several numbers: ``[2 8]``, ``[[1 2] [3 4]]``."""
_THOUSANDS = re.compile(r"^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
"""One number written with thousands separators (``1,234``), which Python would read as a tuple."""
_ONE_NUMBER = re.compile(r"\$?(?:-?\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?|-?\.\d+)(?:/0*[1-9]\d*)?%?")
_EMPTY_COLLECTIONS = frozenset({"[]", "()", "{}", "set()"})
"""An empty printed collection (a filter that matched nothing, say): no value at all."""


def program_files(
    tool_code: str, checks: str, call: str, question: str | None = None
) -> tuple[str, dict[str, str]]:
    """Return ``(main, modules)`` for the executor: the call imports tool and checks.

    With ``question``, the call also finds the request's text in a variable ``question``
    (LATM's tool user may pass it to a tool that parses it).

    The import is the first line of ``main.py`` and ``checks.py``, so line N of what the
    model wrote is line N+1 there; :func:`_readable_traceback` undoes that.
    """
    modules = {TOOL_FILE: tool_code}
    first_line = _IMPORT_TOOL
    if checks.strip():
        modules[CHECKS_FILE] = f"{_IMPORT_TOOL}\n{explain_asserts(checks)}\n"
        first_line += "; import checks"
    if question is not None:
        modules[REQUEST_FILE] = f"question = {question!r}\n"
        first_line += "; from request import question"
    return f"{first_line}\n{call}\n", modules


def _readable_traceback(traceback: str) -> str:
    """Name frames after what the model wrote (tool, self-check, call), with its line numbers.

    The frame of our own import line is dropped: it is not the model's code.
    """
    kept: list[str] = []
    skipping = False
    for line in traceback.splitlines():
        if line.startswith("  File "):
            match = _FRAME.search(line)
            skipping = bool(match and match.group(1) == "main" and match.group(2) == "1")
        elif not line.startswith("    "):
            skipping = False
        if not skipping:
            kept.append(line)

    def rename(match: re.Match[str]) -> str:
        part, line_number = match.group(1), int(match.group(2))
        offset = 0 if part == "tool" else 1
        return f'File "{_PART_NAMES[part]}", line {line_number - offset}'

    return _FRAME.sub(rename, "\n".join(kept)).strip()


@dataclass(frozen=True)
class Verdict:
    """An accepted answer, or the reason there is none (shown to rectify)."""

    answer: str | None
    failure: str | None
    infrastructure_error: bool = False
    """True when the failure is ours (sandbox), not the model's code."""


def _several_values(answer: str) -> bool:
    """Whether a printed answer is a tuple, list, set or dict of more than one value."""
    if _ARRAY.match(answer):
        return True
    if _THOUSANDS.match(answer):
        return False
    try:
        value = ast.literal_eval(answer)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False
    return isinstance(value, tuple | list | set | dict) and len(value) > 1


def _answer_problem(answer: str, one_value: bool) -> str | None:
    if answer in {"None", ""}:
        return (
            "The code printed `None`: the tool probably does not `return` its result, "
            "or the call prints the wrong thing."
        )
    try:
        if not math.isfinite(float(answer)):
            return f"The code printed `{answer}`, which is not a usable answer."
    except ValueError:
        pass
    if _OBJECT_REPR.match(answer):
        return f"The code printed an object (`{answer[:80]}`), not its value: call it or print the value."
    if len(answer) > _MAX_ANSWER_CHARS:
        return f"The code printed a last line of {len(answer)} characters: print only the final answer."
    if one_value and (answer in _EMPTY_COLLECTIONS or _several_values(answer)):
        printed = "no value" if answer in _EMPTY_COLLECTIONS else "several values"
        return (
            f"The code printed {printed} (`{answer[:80]}`), but the problem asks for one: work out "
            "that one value and print only it."
        )
    return None


def extract_answer(stdout: str) -> str | None:
    """The last non-empty line printed, without an ``Answer:`` style prefix."""
    lines = [line.strip() for line in stdout.splitlines() if line.strip()]
    return _ANSWER_PREFIX.sub("", lines[-1]).strip() if lines else None


def _failed_check(error: ExecutionError, checks: str) -> str:
    """Quote the model's own failed assert as it wrote it, with what the tool returned."""
    frames = [int(m.group(2)) for m in _FRAME.finditer(error["traceback"]) if m.group(1) == "checks"]
    lines = checks.splitlines()
    index = frames[-1] - 2 if frames else -1
    quoted = f"`{lines[index].strip()}`" if 0 <= index < len(lines) else "one of your assert checks"
    detail = f": {error['message']}" if error["message"] else ""
    return (
        f"Your own check {quoted} failed{detail}. Either the tool computes the wrong value "
        "or the expected value in the check is wrong: fix whichever is wrong."
    )


def judge(
    result: ExecutionResult, checks: str = "", *, question: str | None = None, one_value: bool = False
) -> Verdict:
    """Decide whether a run produced an answer; otherwise say why, for the model.

    Args:
        result: The execution's result.
        checks: The model's assert checks as it wrote them, to quote a failed one.
        question: The problem's text: an answer naming one of its options is given as that
            option's letter.
        one_value: The answer is one value: a printed empty collection, or tuple, list or array of
            several, is not one.
    """
    error = result["error"]
    if result["status"] == "sandbox_error":
        message = error["message"] if error else "unknown"
        return Verdict(None, f"The sandbox itself failed: {message}", infrastructure_error=True)
    if result["status"] != "ok" and error is not None:
        where = _PART_NAMES.get(error.get("file", "").removesuffix(".py"), "code")
        if where == "self-check" and error["type"] == "AssertionError":
            lines = [_failed_check(error, checks)]
        else:
            lines = [f"Running the {where} failed with {error['type']}: {error['message']}".rstrip(": ")]
            if error["traceback"]:
                lines.append(_readable_traceback(error["traceback"]))
        if hint := error.get("hint"):
            lines.append(f"Hint: {hint}.")
        if result["stdout"].strip():
            lines.append(f"It printed before failing:\n{result['stdout'][-500:]}")
        return Verdict(None, "\n".join(lines))
    answer = extract_answer(result["stdout"])
    if answer is None:
        return Verdict(
            None, "The code ran without error but printed nothing: the call must print the final answer."
        )
    if problem := _answer_problem(answer, one_value):
        return Verdict(None, problem)
    return Verdict(answer if question is None else choice_letter(answer, question), None)


def answer_key(answer: str) -> str:
    """What answers are compared by when they vote: the same number votes together.

    Read as the graders read a number ("2" and "2.0", "3/4" and "0.75", "$1,200" and "1200"),
    so a vote does not split on how a number was printed. Anything else ("[3, 4]") as text.
    """
    text = answer.strip()
    number = extract_number(text) if _ONE_NUMBER.fullmatch(text) else None
    return repr(round(number, 6)) if number is not None else text.lower()


def most_voted(answers: list[str]) -> tuple[int, int]:
    """Where the most voted answer first stands in ``answers``, and its votes (by :func:`answer_key`)."""
    keys = [answer_key(answer) for answer in answers]
    winner, votes = Counter(keys).most_common(1)[0]
    return keys.index(winner), votes
