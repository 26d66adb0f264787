"""Registered tools as LangChain tools: schema from the signature, execution in the sandbox."""

from __future__ import annotations

import json
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool, ToolException
from pydantic import BaseModel, Field, create_model

from sandbox import Executor, Limits, configured_executor
from tools_registry.record import ToolRecord
from tools_registry.registry import ToolRegistry

_RESULT_MARK = "__toolmaker_result__:"
_PYTHON_TYPES: dict[str, type[Any]] = {
    "integer": int,
    "number": float,
    "string": str,
    "boolean": bool,
    "array": list,
    "object": dict,
}


def _arguments_model(record: ToolRecord) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    required = set(record.parameters.get("required", []))
    for name, schema in record.parameters.get("properties", {}).items():
        annotation = _PYTHON_TYPES.get(schema.get("type", ""), Any)
        default = ... if name in required else schema.get("default")
        fields[name] = (annotation, Field(default, description=schema.get("description")))
    return create_model(f"{record.name}_arguments", **fields)


def _call_program(name: str, arguments: dict[str, Any]) -> str:
    """A main file that calls the tool and prints its JSON-encoded value after a marker."""
    encoded = json.dumps(json.dumps(arguments))
    return (
        f"import json\nfrom tool import {name}\n"
        f"_value = {name}(**json.loads({encoded}))\n"
        f"print({_RESULT_MARK!r} + json.dumps(_value, default=str))\n"
    )


def run_tool(
    record: ToolRecord,
    arguments: dict[str, Any],
    executor: Executor,
    limits: Limits | None = None,
    registry: ToolRegistry | None = None,
) -> Any:
    """Run a registered tool on ``arguments`` in the sandbox and return its value.

    Raises:
        ToolException: The tool failed, timed out or broke a sandbox rule; the message is
            the sandbox's.
    """
    result = executor.run(
        _call_program(record.name, arguments), modules={"tool.py": record.source}, limits=limits
    )
    marked = [line for line in result["stdout"].splitlines() if line.startswith(_RESULT_MARK)]
    ok = result["status"] == "ok" and bool(marked)
    if registry is not None:
        registry.record_use(record.id, ok=ok)
    if not ok:
        error = result["error"]
        detail = f"{error['type']}: {error['message']}" if error else "the tool returned nothing"
        hint = f" ({error['hint']})" if error and error.get("hint") else ""
        raise ToolException(f"{record.name} failed in the sandbox ({result['status']}): {detail}{hint}")
    return json.loads(marked[-1].removeprefix(_RESULT_MARK))


def as_langchain_tool(
    record: ToolRecord,
    *,
    executor: Executor | None = None,
    limits: Limits | None = None,
    registry: ToolRegistry | None = None,
) -> StructuredTool:
    """One registered tool as a ``StructuredTool`` whose calls run in the sandbox."""
    sandbox = executor or configured_executor()

    def invoke(**arguments: Any) -> Any:
        return run_tool(record, arguments, sandbox, limits, registry)

    return StructuredTool.from_function(
        func=invoke,
        name=record.name,
        description=record.description or f"{record.signature} (no description)",
        args_schema=_arguments_model(record),
    )


def as_langchain_tools(
    registry: ToolRegistry,
    query: str | None = None,
    k: int | None = None,
    *,
    executor: Executor | None = None,
    limits: Limits | None = None,
) -> list[StructuredTool]:
    """The latest version of each reusable registered tool (or the ``k`` best for ``query``)."""
    if query is not None:
        records = [record for record, _ in registry.search(query, k or 5)]
    else:
        latest = {record.name: record for record in registry.tools() if not record.single_use}
        records = list(latest.values())[:k]
    sandbox = executor or configured_executor()
    return [as_langchain_tool(r, executor=sandbox, limits=limits, registry=registry) for r in records]


def tool_library(
    registry: ToolRegistry, *, executor: Executor | None = None, limits: Limits | None = None
) -> list[BaseTool]:
    """Two tools that give an agent the whole, growing registry (the bigtool pattern).

    ``search_tools`` finds tools by description; ``call_tool`` runs one by name. Both
    read the registry at call time, so tools created after the agent was built work.
    """
    sandbox = executor or configured_executor()

    def search_tools(query: str, k: int = 5) -> list[dict[str, Any]]:
        """Find registered tools for a task: their names, signatures, descriptions and scores."""
        return [
            {"name": r.name, "signature": r.signature, "description": r.description, "score": score}
            for r, score in registry.search(query, k)
        ]

    def call_tool(name: str, arguments: dict[str, Any]) -> Any:
        """Call a registered tool by name with a dict of keyword arguments."""
        record = registry.get(name)
        if record is None:
            raise ToolException(f"no registered tool {name!r}: use search_tools to find one")
        return run_tool(record, arguments, sandbox, limits, registry)

    return [
        StructuredTool.from_function(search_tools, handle_tool_error=True),
        StructuredTool.from_function(call_tool, handle_tool_error=True),
    ]
