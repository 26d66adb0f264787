"""langgraph-toolmaker: language models that make their own tools (CREATOR and LATM on LangGraph)."""

__version__ = "0.1.0"
