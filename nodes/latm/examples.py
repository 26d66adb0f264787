"""What LATM's maker nodes share: showing examples, reading tool and calls, trying them."""

from __future__ import annotations

import ast

from nodes.common.grading import grade_task
from nodes.common.judging import judge, program_files
from nodes.common.parsing import call_from_code, extract_code_blocks
from nodes.latm.state import Example, ExampleResult, Split
from sandbox import Executor, Limits
from tools_registry.source import (
    ToolSourceError,
    ToolSpec,
    defines_function,
    parse_python,
    split_definitions,
    tool_from_source,
    top_level_statements,
)


def render_examples(examples: list[Example], *, answers: bool = True) -> str:
    """Numbered questions (with their answers), as the maker's prompts show them."""
    parts = []
    for number, example in enumerate(examples, start=1):
        text = f"Example {number}\nQuestion: {example['question'].strip()}"
        if answers:
            text += f"\nAnswer: {example['answer']}"
        parts.append(text)
    return "\n\n".join(parts)


DEMOS_PER_SPLIT = 3
"""LATM makes a tool from 3 train and 3 validation examples."""

QUESTION = frozenset({"question"})
"""The variable a LATM call is given: the request's text."""


def read_calls(code: str, tool: ToolSpec, count: int) -> list[str]:
    """One printing call of the tool per example, in order, from the statements of ``code``.

    Statements that set a call up (``question = "List: ..."``) stay with the call after them.

    Raises:
        ToolSourceError: The number of calls is not ``count``, or one does not call the tool.
    """
    calls: list[str] = []
    setup: list[str] = []
    for node, segment in top_level_statements(code, "calls"):
        if isinstance(node, ast.Import | ast.ImportFrom | ast.FunctionDef | ast.ClassDef):
            continue
        called = {
            n.func.id for n in ast.walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
        }
        if tool["name"] in called:
            calls.append(call_from_code("\n".join([*setup, segment]), tool["name"], tool["code"]))
            setup = []
        elif isinstance(node, ast.Expr) and calls and not setup:  # `print(result)` after `result = tool(...)`
            calls[-1] = f"{calls[-1]}\n{segment}"
        else:
            setup.append(segment)
    if len(calls) != count:
        raise ToolSourceError(
            f"expected {count} calls, one line per example in order, each printing the tool's "
            f"answer for that example; found {len(calls)}"
        )
    return calls


def read_tool_and_calls(text: str, count: int, tool: ToolSpec | None = None) -> tuple[ToolSpec, list[str]]:
    """A reply's function (or ``tool`` kept, when it wrote none) and its ``count`` calls.

    Raises:
        ToolSourceError: No function and no tool to keep, or the calls are not usable.
    """
    blocks = extract_code_blocks(text)
    if not blocks:
        raise ToolSourceError("the reply held no Python code: answer with one ```python block")
    code = "\n\n".join(blocks)
    definitions, statements = split_definitions(code, "reply", inputs=QUESTION)
    if defines_function(parse_python(definitions or "pass", "reply")):
        tool = tool_from_source(definitions, preferred_name=tool["name"] if tool else None)
    if tool is None:
        raise ToolSourceError("the reply defines no function: write one `def name(...):` with a docstring")
    return tool, read_calls(statements, tool, count)


def try_example(
    executor: Executor,
    tool: ToolSpec,
    call: str,
    example: Example,
    *,
    split: Split,
    task: str,
    timeout_s: float,
) -> ExampleResult:
    """Run the tool and one call on an example in the sandbox; grade the answer it printed."""
    main, modules = program_files(tool["code"], "", call, question=example["question"])
    verdict = judge(executor.run(main, modules=modules, limits=Limits(wall_seconds=timeout_s)))
    passed = verdict.answer is not None and grade_task(verdict.answer, example["answer"], task)
    failure = verdict.failure
    if verdict.answer is not None and not passed:
        failure = f"The call printed `{verdict.answer}`, but the expected answer is `{example['answer']}`."
    return ExampleResult(
        split=split,
        question=example["question"],
        expected=example["answer"],
        call=call,
        answer=verdict.answer,
        passed=passed,
        failure=None if passed else failure,
    )


def render_usage(examples: list[Example], calls: list[str]) -> str:
    """Question → call demonstrations (the calls that answered them)."""
    return "\n\n".join(
        f"Question: {example['question'].strip()}\nCall:\n{call}"
        for example, call in zip(examples, calls, strict=False)
    )


def render_card(tool: ToolSpec, examples: list[Example], calls: list[str]) -> str:
    """The tool card a light model reads: the function, then question → call demonstrations."""
    return f"```python\n{tool['code'].strip()}\n```\n\nHow to call it:\n\n{render_usage(examples, calls)}"
