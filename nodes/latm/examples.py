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
    rewritten_tool,
    split_definitions,
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


def _names(node: ast.AST, context: type[ast.expr_context]) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, context)}


def read_calls(code: str, tool: ToolSpec, count: int) -> list[str]:
    """One printing call of the tool per example, in order, from the statements of ``code``.

    A call is the statement that calls the tool, with the lines before it that set it up
    (``question = "List: ..."``) and the lines after it that use its results
    (``answer = answer.strip()``, ``print(answer)``).

    Raises:
        ToolSourceError: The number of calls is not ``count``, or one does not call the tool.
    """
    groups: list[list[str]] = []
    setup: list[str] = []
    assigned: set[str] = set()
    for node, segment in top_level_statements(code, "calls"):
        if isinstance(node, ast.Import | ast.ImportFrom | ast.FunctionDef | ast.ClassDef):
            continue
        called = {
            n.func.id for n in ast.walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
        }
        if tool["name"] in called:
            groups.append([*setup, segment])
            setup, assigned = [], _names(node, ast.Store)
        elif groups and not setup and _names(node, ast.Load) & assigned:
            groups[-1].append(segment)
            assigned |= _names(node, ast.Store)
        else:
            setup.append(segment)
    if len(groups) != count:
        raise ToolSourceError(
            f"expected {count} calls, one line per example in order, each printing the tool's "
            f"answer for that example; found {len(groups)}"
        )
    return [call_from_code("\n".join(group), tool["name"], tool["code"]) for group in groups]


def read_tool_and_calls(text: str, count: int, tool: ToolSpec | None = None) -> tuple[ToolSpec, list[str]]:
    """A reply's function (or ``tool`` kept, when it wrote none) and its ``count`` calls.

    Raises:
        ToolSourceError: No function and no tool to keep, or the calls are not usable.
    """
    blocks = extract_code_blocks(text)
    if not blocks:
        raise ToolSourceError("the reply held no Python code: answer with one ```python block")
    segments = top_level_statements("\n\n".join(blocks), "reply")
    # What follows the last definition sets up and makes the calls (`WORDS = "..."` included).
    last = max(
        (i for i, (node, _) in enumerate(segments) if isinstance(node, ast.FunctionDef | ast.ClassDef)),
        default=-1,
    )
    definitions, set_up = split_definitions(
        "\n\n".join(s for _, s in segments[: last + 1]), "reply", QUESTION
    )
    statements = "\n".join([set_up, *(segment for _, segment in segments[last + 1 :])])
    if defines_function(parse_python(definitions or "pass", "reply")):
        tool = rewritten_tool(definitions, tool)
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
    result = executor.run(main, modules=modules, limits=Limits(wall_seconds=timeout_s))
    verdict = judge(result, question=example["question"])
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


def render_card(tool: ToolSpec, results: list[ExampleResult]) -> str:
    """The tool card a light model reads: the function, then the question → call demos that passed."""
    examples = [Example(question=result["question"], answer=result["expected"]) for result in results]
    usage = render_usage(examples, [result["call"] for result in results])
    return f"```python\n{tool['code'].strip()}\n```\n\nHow to call it:\n\n{usage}"
