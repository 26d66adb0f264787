"""Turn what small models really write into code: fenced blocks, prose, truncation."""

from __future__ import annotations

import ast
import re

from tools_registry.source import ToolSourceError, parse_python, split_definitions, top_level_statements

_FENCE = re.compile(r"^[ \t]*(```|~~~)[ \t]*([\w+-]*)[^\n]*\n(.*?)(?:^[ \t]*\1[ \t]*$|\Z)", re.M | re.S)
_NOT_PYTHON = {"text", "json", "bash", "sh", "shell", "console", "output", "plaintext", "markdown"}


def extract_code_blocks(text: str) -> list[str]:
    """Return the Python code blocks in a model reply, in order.

    Fenced blocks tagged as another language are skipped; an unclosed fence (a reply cut
    off by the token limit) runs to the end. A reply with no fences that parses as
    Python as a whole counts as one block.
    """
    blocks = [
        body.strip("\n")
        for _, language, body in _FENCE.findall(text)
        if language.lower() not in _NOT_PYTHON and body.strip()
    ]
    if blocks:
        return blocks
    stripped = text.strip()
    if stripped:
        try:
            ast.parse(stripped)
        except SyntaxError:
            return []
        return [stripped]
    return []


def require_code(text: str, what: str) -> str:
    """Join the reply's code blocks, or raise with a message the model can act on."""
    blocks = extract_code_blocks(text)
    if not blocks:
        raise ToolSourceError(
            f"the reply to the {what} step held no Python code: answer with a ```python block"
        )
    return "\n\n".join(blocks)


def call_from_code(code: str, tool_name: str, tool_code: str) -> str:
    """Make call code from a decision reply: drop repeated definitions, print the result.

    Models often paste the tool again above the call, or end with ``result = tool(...)``
    and never print it. The first is removed (the tool is supplied separately) and the
    second gets a ``print``, so the answer reaches stdout.

    Raises:
        ToolSourceError: The code does not parse or never calls the tool.
    """
    tool_module = parse_python(tool_code, "tool")
    known = {
        node.name
        for node in tool_module.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    }
    call = "\n".join(
        segment
        for node, segment in top_level_statements(code, "call")
        if not (
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.name in known
        )
    ).strip()
    kept_module = ast.parse(call)
    if tool_name not in {
        node.func.id
        for node in ast.walk(kept_module)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }:
        raise ToolSourceError(
            f"the call code never calls the tool `{tool_name}`: call it with this "
            "problem's values and print the result"
        )
    return _ensure_printed(call, kept_module)


def _prints(module: ast.Module) -> bool:
    return any(
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"
        for node in ast.walk(module)
    )


def _ensure_printed(call: str, module: ast.Module) -> str:
    if _prints(module) or not module.body:
        return call
    last = module.body[-1]
    if isinstance(last, ast.Expr):
        return "\n".join([*call.splitlines()[: last.lineno - 1], f"print({ast.unparse(last.value)})"])
    if isinstance(last, ast.Assign) and len(last.targets) == 1:
        return f"{call}\nprint({ast.unparse(last.targets[0])})"
    return call


def split_reply(text: str, what: str) -> tuple[str, str]:
    """Split a reply's code into definitions and statements (see ``split_definitions``)."""
    return split_definitions(require_code(text, what), what)
