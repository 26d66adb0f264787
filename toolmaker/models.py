"""Chat models for each role, all through langchain-openai's ``ChatOpenAI``.

OpenAI, vLLM, Ollama, llama.cpp and the embedded server are reached by the same code;
only the base URL, key and model name differ.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from langchain_core.language_models import BaseChatModel
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from toolmaker.embedded.catalog import is_embedded
from toolmaker.settings import Settings, get_settings


@dataclass(frozen=True)
class ModelRequest:
    """Which chat model a node needs; empty model/base_url fall back to settings."""

    role: Literal["maker", "user"]
    model: str = ""
    base_url: str = ""
    temperature: float = 0.0
    seed: int = 0
    max_tokens: int = 1024


ChatModelFactory = Callable[[ModelRequest], BaseChatModel]
"""What nodes call to get a chat model; tests pass one that returns fake models."""


class EndpointModels:
    """The default :data:`ChatModelFactory`: settings + request → a cached ``ChatOpenAI``.

    Starts the embedded server when the resolved endpoint has no base URL and names an
    embedded model or a GGUF file.
    """

    def __init__(self, settings: Settings | None = None) -> None:
        """Create the factory; settings are read from the environment when omitted."""
        self._settings = settings
        self._cache: dict[ModelRequest, BaseChatModel] = {}
        self._lock = threading.Lock()

    @property
    def settings(self) -> Settings:
        """The settings in use (read lazily, so importing a graph reads no environment)."""
        if self._settings is None:
            self._settings = get_settings()
        return self._settings

    def __call__(self, request: ModelRequest) -> BaseChatModel:
        """Return the chat model for ``request``, creating it on first use."""
        with self._lock:
            if request not in self._cache:
                self._cache[request] = self._create(request)
            return self._cache[request]

    def _create(self, request: ModelRequest) -> BaseChatModel:
        endpoint = self.settings.maker if request.role == "maker" else self.settings.user
        model = request.model or endpoint.model
        base_url = request.base_url or endpoint.base_url
        api_key: SecretStr | None = endpoint.api_key
        if not base_url and is_embedded(model):
            from toolmaker.embedded.server import get_embedded_server

            base_url = get_embedded_server(model, self.settings).base_url
            api_key = SecretStr("embedded")
        return ChatOpenAI(
            model=model,
            base_url=base_url or None,
            api_key=api_key or SecretStr("not-set"),
            temperature=request.temperature,
            seed=request.seed,
            max_completion_tokens=request.max_tokens,
            timeout=self.settings.request_timeout_s,
            max_retries=1,
        )
