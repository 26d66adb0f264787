"""The model's own ``assert`` checks of its tool, kept apart from examples and prints."""

from __future__ import annotations

import ast


def partition_asserts(statements: str) -> tuple[str, str]:
    """Split top-level statements into ``(asserts, others)``, each as source text.

    The model's asserts are a signal beyond exceptions: a tool that fails its own check
    on a case the model could verify by hand goes back to rectify.
    """
    if not statements.strip():
        return "", ""
    module = ast.parse(statements)
    lines = statements.splitlines()
    asserts: list[str] = []
    others: list[str] = []
    for node in module.body:
        segment = "\n".join(lines[node.lineno - 1 : node.end_lineno])
        (asserts if isinstance(node, ast.Assert) else others).append(segment)
    return "\n".join(asserts), "\n".join(others)
