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


def read_calls(code: str, tool: ToolSpec, count: int) -> list[str]:
    """One printing call of the tool per example, in order, from the statements of ``code``.

    Raises:
        ToolSourceError: The number of calls is not ``count``, or one does not call the tool.
    """
    statements = [
        segment
        for node, segment in top_level_statements(code, "calls")
        if not isinstance(node, ast.Import | ast.ImportFrom | ast.FunctionDef | ast.ClassDef)
    ]
    if len(statements) != count:
        raise ToolSourceError(
            f"expected {count} calls, one line per example in order, each printing the tool's "
            f"answer for that example; found {len(statements)}"
        )
    return [call_from_code(statement, tool["name"], tool["code"]) for statement in statements]


def read_tool_and_calls(text: str, count: int, tool: ToolSpec | None = None) -> tuple[ToolSpec, list[str]]:
    """A reply's function (or ``tool`` kept, when it wrote none) and its ``count`` calls.

    Raises:
        ToolSourceError: No function and no tool to keep, or the calls are not usable.
    """
    blocks = extract_code_blocks(text)
    if not blocks:
        raise ToolSourceError("the reply held no Python code: answer with one ```python block")
    code = "\n\n".join(blocks)
    definitions, statements = split_definitions(code, "reply")
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


def render_card(tool: ToolSpec, demos: list[tuple[str, str]]) -> str:
    """The tool card a light model reads: the function, then question → call demonstrations."""
    shown = "\n\n".join(f"Question: {question.strip()}\nCall:\n{call}" for question, call in demos)
    return f"```python\n{tool['code'].strip()}\n```\n\nHow to call it:\n\n{shown}"
