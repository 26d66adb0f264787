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
from toolmaker.replies import checked_client
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


def configured_endpoint(request: ModelRequest, settings: Settings) -> tuple[str, str, SecretStr | None]:
    """The model, base URL and key ``request`` goes to, its empty fields filled from its role's settings."""
    endpoint = settings.maker if request.role == "maker" else settings.user
    return request.model or endpoint.model, request.base_url or endpoint.base_url, endpoint.api_key


def served_embedded(request: ModelRequest, settings: Settings) -> bool:
    """Whether ``request`` is answered by the embedded server: no base URL, and an embedded model."""
    model, base_url, _ = configured_endpoint(request, settings)
    return _names_embedded_server(model, base_url)


def _names_embedded_server(model: str, base_url: str) -> bool:
    return not base_url and is_embedded(model)


class EndpointModels:
    """The default :data:`ChatModelFactory`: settings + request → a cached ``ChatOpenAI``.

    Starts the embedded server when the resolved endpoint has no base URL and names an
    embedded model or a GGUF file.
    """

    def __init__(self, settings: Settings | None = None) -> None:
        """Create the factory; settings are read from the environment when omitted."""
        self._settings = settings
        self._cache: dict[tuple[ModelRequest, str, str], BaseChatModel] = {}
        self._lock = threading.Lock()

    @property
    def settings(self) -> Settings:
        """The settings in use (read lazily, so importing a graph reads no environment)."""
        if self._settings is None:
            self._settings = get_settings()
        return self._settings

    def __call__(self, request: ModelRequest) -> BaseChatModel:
        """Return the chat model for ``request``, creating it on first use.

        An embedded server is health-checked on every call and restarted if it died, so a
        cached client never points at a dead port.
        """
        model, base_url, api_key = self._endpoint(request)
        key = (request, model, base_url)
        settings = self.settings
        with self._lock:
            if key not in self._cache:
                # A plain (connect, read, write, pool) tuple: httpx.Timeout is not accepted by the
                # httpx2 clients that langchain-openai builds with openai >= 3.
                read = settings.request_timeout_s
                timeout = (settings.connect_timeout_s, read, read, read)
                self._cache[key] = ChatOpenAI(
                    model=model,
                    base_url=base_url or None,
                    api_key=api_key or SecretStr("not-set"),
                    temperature=request.temperature,
                    seed=request.seed,
                    max_completion_tokens=request.max_tokens,
                    timeout=timeout,
                    max_retries=settings.request_retries,
                    http_client=checked_client(timeout),
                )
            return self._cache[key]

    def _endpoint(self, request: ModelRequest) -> tuple[str, str, SecretStr | None]:
        model, base_url, api_key = configured_endpoint(request, self.settings)
        if _names_embedded_server(model, base_url):
            from toolmaker.embedded.server import get_embedded_server

            return model, get_embedded_server(model, self.settings).base_url, SecretStr("embedded")
        return model, base_url, api_key
