"""What the registry reads from a tool's code: its argument schema and its identity."""

from __future__ import annotations

import ast
import hashlib
from typing import Any

_JSON_TYPES = {
    "int": "integer",
    "float": "number",
    "complex": "string",
    "str": "string",
    "bool": "boolean",
    "list": "array",
    "tuple": "array",
    "set": "array",
    "dict": "object",
    "List": "array",
    "Tuple": "array",
    "Sequence": "array",
    "Dict": "object",
    "Mapping": "object",
}


def _entry(module: ast.Module, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef:
    for node in module.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            return node
    raise ValueError(f"the code defines no function {name!r}")


def _json_type(annotation: ast.expr | None) -> dict[str, Any]:
    """A JSON-schema type for an annotation; unknown or missing annotations allow anything."""
    if annotation is None:
        return {}
    if isinstance(annotation, ast.Subscript):
        annotation = annotation.value
    if isinstance(annotation, ast.Attribute):
        annotation = ast.Name(id=annotation.attr)
    if isinstance(annotation, ast.Name) and annotation.id in _JSON_TYPES:
        return {"type": _JSON_TYPES[annotation.id]}
    if isinstance(annotation, ast.BinOp):  # int | float and the like
        types = {_json_type(side).get("type") for side in (annotation.left, annotation.right)}
        if types == {"integer", "number"}:
            return {"type": "number"}
    return {}


def argument_schema(code: str, name: str) -> dict[str, Any]:
    """The JSON schema of a function's arguments, read from its signature.

    Parameters without a default are required; literal defaults are kept.

    Raises:
        ValueError: The code defines no function called ``name``.
    """
    function = _entry(ast.parse(code), name)
    arguments = function.args
    positional = [*arguments.posonlyargs, *arguments.args]
    defaults: dict[str, ast.expr] = dict(
        zip(
            [a.arg for a in positional][len(positional) - len(arguments.defaults) :],
            arguments.defaults,
            strict=True,
        )
    )
    defaults.update({a.arg: d for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True) if d})
    properties: dict[str, Any] = {}
    for argument in [*positional, *arguments.kwonlyargs]:
        schema = {**_json_type(argument.annotation), "title": argument.arg}
        if argument.arg in defaults:
            try:
                schema["default"] = ast.literal_eval(defaults[argument.arg])
            except ValueError:
                pass
        properties[argument.arg] = schema
    required = [a.arg for a in [*positional, *arguments.kwonlyargs] if a.arg not in defaults]
    return {"type": "object", "properties": properties, "required": required}


def _strip_docstrings(module: ast.Module) -> ast.Module:
    for node in ast.walk(module):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Module):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                if isinstance(first.value.value, str):
                    node.body = node.body[1:] or [ast.Pass()]
    return module


def normalized_code(code: str) -> str:
    """The code without comments, docstrings or formatting: what makes two tools the same."""
    return ast.unparse(_strip_docstrings(ast.parse(code)))


def content_hash(code: str) -> str:
    """SHA-256 of :func:`normalized_code`."""
    return hashlib.sha256(normalized_code(code).encode()).hexdigest()
