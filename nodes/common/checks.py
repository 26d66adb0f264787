"""The model's own ``assert`` checks of its tool, kept apart from examples and prints."""

from __future__ import annotations

import ast

from tools_registry.source import top_level_statements


def partition_asserts(statements: str) -> tuple[str, str]:
    """Split top-level statements into ``(asserts, others)``, each as source text.

    The model's asserts are a signal beyond exceptions: a tool that fails its own check
    on a case the model could verify by hand goes back to rectify.
    """
    if not statements.strip():
        return "", ""
    asserts: list[str] = []
    others: list[str] = []
    for node, segment in top_level_statements(statements):
        (asserts if isinstance(node, ast.Assert) else others).append(segment)
    return "\n".join(asserts), "\n".join(others)


def explain_asserts(checks: str) -> str:
    """Rewrite ``assert a == b[, msg]`` so that a failure says what the tool returned.

    A bare ``AssertionError`` does not tell the model whether its tool or its expected
    value is wrong; "the tool returned 115, the check expected 77" does. Each rewritten
    assert keeps its line count, so tracebacks still point at the model's lines.
    """
    try:
        module = ast.parse(checks)
    except SyntaxError:
        return checks
    lines = checks.splitlines()
    for node in module.body:
        if not isinstance(node, ast.Assert):
            continue
        test = node.test
        if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
            continue
        actual, expected = ast.unparse(test.left), ast.unparse(test.comparators[0])
        rewritten = (
            f"assert (_actual := {actual}) == (_expected := {expected}), "
            'f"the tool returned {_actual!r}, the check expected {_expected!r}"'
        )
        end = node.end_lineno or node.lineno
        lines[node.lineno - 1 : end] = [rewritten, *[""] * (end - node.lineno)]
    return "\n".join(lines)
