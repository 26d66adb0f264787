"""Created tools: source analysis, a versioned registry on a LangGraph store, and retrieval."""

from tools_registry.record import (
    Demo,
    LatmInfo,
    MakingCost,
    Provenance,
    ToolRecord,
    ToolStats,
    VerifiedExample,
)
from tools_registry.registry import ToolRegistry
from tools_registry.source import ToolSourceError, ToolSpec, render_tool_signature, tool_from_source
from tools_registry.storage import open_registry, postgres_registry, sqlite_registry

__all__ = [
    "Demo",
    "LatmInfo",
    "MakingCost",
    "Provenance",
    "ToolRecord",
    "ToolRegistry",
    "ToolSourceError",
    "ToolSpec",
    "ToolStats",
    "VerifiedExample",
    "open_registry",
    "postgres_registry",
    "render_tool_signature",
    "sqlite_registry",
    "tool_from_source",
]
