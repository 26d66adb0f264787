"""Tool calls that a model wrote as text, turned into real tool calls.

Small local models often answer a tool-binding request with the call as JSON in their
text (a fenced block, Qwen's ``<tool_call>`` tags, or bare) instead of the API's
``tool_calls`` field, so an agent sees a final answer where a call was meant. Wrapping
the chat model in :class:`TextToolCalls` reads such calls back, for the tools that were
bound only, and leaves replies that already carry API tool calls untouched.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, InvalidToolCall, ToolCall
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool

_TAGGED = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.DOTALL)
_FENCED = re.compile(r"```[a-zA-Z]*\s*\n(.*?)```", re.DOTALL)
_JSON_START = ("{", "[")


def _blocks(text: str) -> tuple[list[str], str]:
    """The blocks that may hold a call, and the text outside them."""
    for pattern in (_TAGGED, _FENCED):
        blocks = pattern.findall(text)
        if blocks:
            return blocks, pattern.sub("", text).strip()
    stripped = text.strip()
    return ([stripped], "") if stripped.startswith(_JSON_START) else ([], text)


def _call_parts(entry: Any) -> tuple[Any, Any]:
    """The name and arguments of one JSON call in any of the shapes models write."""
    if not isinstance(entry, dict):
        return None, None
    function = entry.get("function")
    if isinstance(function, dict):
        entry = function
    arguments: Any = next((entry[key] for key in ("arguments", "parameters", "args") if key in entry), {})
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except json.JSONDecodeError:
            pass
    return entry.get("name"), arguments


def read_text_tool_calls(message: AIMessage, tool_names: Sequence[str]) -> AIMessage:
    """``message`` with the calls of known tools written in its text as tool calls.

    A block that names a known tool but cannot be read (not JSON, e.g. ``{"n": 3**50}``)
    becomes an invalid tool call with the reason, and the text is kept as it was, so the
    caller sees both what the model wrote and why it was not run.
    """
    if message.tool_calls or not tool_names:
        return message
    calls: list[ToolCall] = []
    invalid: list[InvalidToolCall] = []
    blocks, outside = _blocks(str(message.text))
    for block in blocks:
        try:
            parsed = json.loads(block)
        except json.JSONDecodeError as exc:
            json_like = block.startswith(_JSON_START)
            named = next((name for name in tool_names if f'"{name}"' in block), None) if json_like else None
            if named is not None:
                invalid.append(
                    InvalidToolCall(
                        type="invalid_tool_call",
                        name=named,
                        args=block,
                        id=new_call_id(),
                        error=f"the call is not JSON: {exc}",
                    )
                )
            continue
        for entry in parsed if isinstance(parsed, list) else [parsed]:
            name, arguments = _call_parts(entry)
            if name in tool_names and isinstance(arguments, dict):
                calls.append(ToolCall(type="tool_call", name=name, args=arguments, id=new_call_id()))
    if not calls and not invalid:
        return message
    content = outside if calls else message.content
    return message.model_copy(update={"content": content, "tool_calls": calls, "invalid_tool_calls": invalid})


def new_call_id() -> str:
    """A fresh id for a tool call that the API did not number."""
    return f"call_{uuid.uuid4().hex[:24]}"


class TextToolCalls(BaseChatModel):
    """Any chat model, with the tool calls it writes as text read back as tool calls.

    Tools are still sent to the endpoint the usual way (an OpenAI-compatible server with
    a tool-aware chat template shows them to the model), so the wrapped model is called
    exactly as before; only its reply is read more leniently. Example::

        agent = create_agent(TextToolCalls(model=ChatOpenAI(base_url=..., model=...)), tools=tools)
    """

    model: BaseChatModel

    @property
    def _llm_type(self) -> str:
        return f"text-tool-calls-{self.model._llm_type}"

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools in the OpenAI format; ``tool_choice`` is passed on when given."""
        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
        return self.bind(tools=[convert_to_openai_tool(tool) for tool in tools], **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return _read_calls(self.model._generate(messages, stop, run_manager, **kwargs), kwargs)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return _read_calls(await self.model._agenerate(messages, stop, run_manager, **kwargs), kwargs)


def _read_calls(result: ChatResult, kwargs: dict[str, Any]) -> ChatResult:
    names = [tool["function"]["name"] for tool in kwargs.get("tools", [])]
    generations = [
        ChatGeneration(message=read_text_tool_calls(g.message, names), generation_info=g.generation_info)
        if isinstance(g.message, AIMessage)
        else g
        for g in result.generations
    ]
    return ChatResult(generations=generations, llm_output=result.llm_output)
