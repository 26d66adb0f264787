"""Created tools: their source analysis now; storage, retrieval and LangChain conversion next."""

from tools_registry.source import ToolSourceError, ToolSpec, render_tool_signature, tool_from_source

__all__ = ["ToolSourceError", "ToolSpec", "render_tool_signature", "tool_from_source"]
