"""Process-wide settings: the one place that reads environment variables.

Everything else receives these values as arguments or through the graph context, so a
library user can configure the project without touching the environment at all.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr

ENV_PREFIX = "TOOLMAKER_"


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "langgraph-toolmaker"


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "langgraph-toolmaker"


class EndpointSettings(BaseModel):
    """Where one model role is served.

    An empty ``base_url`` with an embedded model name (see ``toolmaker.embedded.catalog``)
    or a path to a ``.gguf`` file means: start the embedded local server. Any other
    model name with an empty ``base_url`` goes to OpenAI's default endpoint.
    """

    model: str
    base_url: str = ""
    api_key: SecretStr | None = None


def usable_cores() -> int:
    """The cores this process may run on (a container's CPU set, where the system tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


class Settings(BaseModel):
    """Settings read once from the environment (prefix ``TOOLMAKER_``)."""

    maker: EndpointSettings = Field(default_factory=lambda: EndpointSettings(model="qwen2.5-coder-1.5b"))
    user: EndpointSettings = Field(default_factory=lambda: EndpointSettings(model="qwen2.5-coder-0.5b"))
    cache_dir: Path = Field(default_factory=_default_cache_dir)
    data_dir: Path = Field(default_factory=_default_data_dir)
    """Where the tool registry (``tools.sqlite``) lives."""
    datasets_dir: Path | None = None
    """Benchmark datasets; ``None``: ``../shared/datasets`` beside the clone, else under ``data_dir``."""
    embedded_threads: int = Field(default_factory=usable_cores)
    embedded_context_tokens: int = 8192
    """Context of each of the embedded server's slots."""
    embedded_slots: int = Field(default=1, ge=1, le=8)
    """Requests the embedded server decodes together (a batch); use with ``--concurrency`` as many."""
    embedded_prompt_cache: bool = True
    """Let the embedded server reuse the prefix its last prompt shares with the next: faster, but
    a greedy reply then depends on the request before it (cached and fresh arithmetic differ in
    the last bits), so a run resumed or reordered may decode otherwise. Off: the same request
    always gets the same reply."""
    embedded_start_timeout_s: float = 300.0
    request_timeout_s: float = 600.0
    """How long one model call may take to answer (the read timeout)."""
    connect_timeout_s: float = 10.0
    request_retries: int = Field(default=3, ge=0, le=20)
    """Retries of a failed model call (unreachable, timed out, 429, 5xx, an unusable reply), with backoff."""
    sandbox_backend: str = "auto"
    prices_file: Path | None = None
    """A JSON price table (see ``toolmaker.costs``); ``None``: every model is free."""
    database_url: SecretStr | None = None
    """``postgresql://...``: the registry, the LATM queues and the runs live there, shared by
    many workers; ``None``: SQLite files in ``data_dir``. A secret: it may hold a password."""

    @property
    def registry_path(self) -> Path:
        """The SQLite file of the tool registry."""
        return self.data_dir / "tools.sqlite"

    @property
    def runs_path(self) -> Path:
        """The SQLite file of the command line's checkpointed runs."""
        return self.data_dir / "runs.sqlite"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Build settings from environment variables.

        Recognised variables: ``TOOLMAKER_{MAKER,USER}_{MODEL,BASE_URL,API_KEY}``,
        ``TOOLMAKER_CACHE_DIR``, ``TOOLMAKER_DATA_DIR``, ``TOOLMAKER_DATASETS_DIR``,
        ``TOOLMAKER_EMBEDDED_THREADS``, ``TOOLMAKER_EMBEDDED_SLOTS``, ``TOOLMAKER_EMBEDDED_PROMPT_CACHE``,
        ``TOOLMAKER_EMBEDDED_START_TIMEOUT_S``,
        ``TOOLMAKER_EMBEDDED_CONTEXT_TOKENS``, ``TOOLMAKER_REQUEST_TIMEOUT_S``,
        ``TOOLMAKER_CONNECT_TIMEOUT_S``, ``TOOLMAKER_REQUEST_RETRIES``,
        ``TOOLMAKER_SANDBOX`` (executor backend), ``TOOLMAKER_PRICES`` (a price table file),
        ``TOOLMAKER_DATABASE_URL`` (PostgreSQL for many workers),
        and ``OPENAI_API_KEY`` as the fallback key for both roles.
        """
        env = dict(os.environ if environ is None else environ)
        defaults = cls()
        fallback_key = env.get("OPENAI_API_KEY")

        def endpoint(role: str, default: EndpointSettings) -> EndpointSettings:
            key = env.get(f"{ENV_PREFIX}{role}_API_KEY") or fallback_key
            return EndpointSettings(
                model=env.get(f"{ENV_PREFIX}{role}_MODEL") or default.model,
                base_url=env.get(f"{ENV_PREFIX}{role}_BASE_URL", default.base_url),
                api_key=SecretStr(key) if key else None,
            )

        values: dict[str, object] = {
            "maker": endpoint("MAKER", defaults.maker),
            "user": endpoint("USER", defaults.user),
        }
        scalar_fields = {
            "CACHE_DIR": "cache_dir",
            "DATA_DIR": "data_dir",
            "DATASETS_DIR": "datasets_dir",
            "EMBEDDED_THREADS": "embedded_threads",
            "EMBEDDED_CONTEXT_TOKENS": "embedded_context_tokens",
            "EMBEDDED_SLOTS": "embedded_slots",
            "EMBEDDED_PROMPT_CACHE": "embedded_prompt_cache",
            "EMBEDDED_START_TIMEOUT_S": "embedded_start_timeout_s",
            "REQUEST_TIMEOUT_S": "request_timeout_s",
            "CONNECT_TIMEOUT_S": "connect_timeout_s",
            "REQUEST_RETRIES": "request_retries",
            "SANDBOX": "sandbox_backend",
            "PRICES": "prices_file",
            "DATABASE_URL": "database_url",
        }
        for suffix, field_name in scalar_fields.items():
            if raw := env.get(ENV_PREFIX + suffix):
                values[field_name] = raw
        return cls.model_validate(values)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read from the environment on first use."""
    return Settings.from_env()
