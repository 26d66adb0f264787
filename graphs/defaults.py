"""What every graph builder uses when the caller passes no models or executor."""

from __future__ import annotations

from sandbox import Executor, configured_executor
from toolmaker.costs import PriceTable
from toolmaker.models import ChatModelFactory, EndpointModels
from toolmaker.settings import get_settings


def default_models(models: ChatModelFactory | None) -> ChatModelFactory:
    """``models``, or OpenAI-compatible endpoints from settings (the embedded model if none)."""
    return models or EndpointModels()


def default_executor(executor: Executor | None) -> Executor:
    """``executor``, or the sandbox backend named in settings (``auto``: the strongest)."""
    return executor or configured_executor()


def default_prices(prices: PriceTable | None) -> PriceTable:
    """``prices``, or the price table file named in settings (every model free without one)."""
    return prices or PriceTable.from_file(get_settings().prices_file)
