"""Scripted chat models for unit tests of graph logic (never used on the main path)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import PrivateAttr

from toolmaker.models import ModelRequest


class ScriptedChatModel(BaseChatModel):
    """Replies with the given texts (or messages) in order and records every prompt."""

    replies: list[str | AIMessage]
    _prompts: list[list[BaseMessage]] = PrivateAttr(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    @property
    def prompts(self) -> list[list[BaseMessage]]:
        return self._prompts

    def bind_tools(self, tools: Any, **kwargs: Any) -> ScriptedChatModel:  # type: ignore[override]
        return self

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if len(self._prompts) >= len(self.replies):
            raise AssertionError(f"model called {len(self._prompts) + 1} times, scripted {len(self.replies)}")
        reply = self.replies[len(self._prompts)]
        self._prompts.append(list(messages))
        usage = {"input_tokens": 100, "output_tokens": 10, "total_tokens": 110}
        if isinstance(reply, AIMessage):
            message = reply.model_copy(update={"usage_metadata": usage})
        else:
            message = AIMessage(content=reply, usage_metadata=usage)
        return ChatResult(generations=[ChatGeneration(message=message)])


class ScriptedModels:
    """A ``ChatModelFactory`` handing out one scripted model per role."""

    def __init__(self, maker: Iterable[str] = (), user: Iterable[str] = ()) -> None:
        self.maker = ScriptedChatModel(replies=list(maker))
        self.user = ScriptedChatModel(replies=list(user))
        self.requests: list[ModelRequest] = []

    def __call__(self, request: ModelRequest) -> BaseChatModel:
        self.requests.append(request)
        return self.maker if request.role == "maker" else self.user


def fenced(code: str, prose: str = "") -> str:
    """A reply the way models write it: prose, then a fenced block."""
    return f"{prose}\n```python\n{code.strip()}\n```\n"


@dataclass(frozen=True)
class Fault:
    """What a :class:`FakeOpenAIServer` does instead of answering one request.

    ``status``: that HTTP status (with ``headers``, e.g. ``Retry-After``); ``hang``: read
    the request and say nothing for ``seconds``; ``cut``: promise a body and close the
    connection half-way; ``malformed``: a 200 whose body is not JSON; ``no_choices``: a
    200 completion with an empty ``choices`` list.
    """

    kind: Literal["status", "hang", "cut", "malformed", "no_choices"]
    status: int = 500
    headers: tuple[tuple[str, str], ...] = ()
    seconds: float = 5.0


class FakeOpenAIServer:
    """A scripted OpenAI-compatible endpoint on 127.0.0.1, for the real HTTP code path.

    Each request takes the next item of the script: a reply's text, or a :class:`Fault`.
    With a function instead of a script, each reply is what it returns for the request's
    body, so any number of clients may ask in any order.
    """

    def __init__(self, replies: Iterable[str | Fault] | Callable[[dict[str, Any]], str]) -> None:
        import json
        import threading
        import time
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        respond = replies if callable(replies) else None
        self.replies = [] if callable(replies) else list(replies)
        self.requests: list[dict[str, Any]] = []
        lock = threading.Lock()
        server = self

        def completion(model: str, choices: list[dict[str, Any]]) -> bytes:
            return json.dumps(
                {
                    "id": f"chatcmpl-{len(server.requests)}",
                    "object": "chat.completion",
                    "created": 0,
                    "model": model,
                    "choices": choices,
                    "usage": {"prompt_tokens": 50, "completion_tokens": 5, "total_tokens": 55},
                }
            ).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with lock:
                    server.requests.append(body)
                    count = len(server.requests)
                scripted = respond(body) if respond else server.replies[count - 1]
                if isinstance(scripted, Fault):
                    self._fault(scripted, body["model"])
                    return
                message = {"role": "assistant", "content": scripted}
                self._send(
                    200,
                    completion(body["model"], [{"index": 0, "finish_reason": "stop", "message": message}]),
                )

            def _fault(self, fault: Fault, model: str) -> None:
                if fault.kind == "hang":
                    time.sleep(fault.seconds)
                    self.close_connection = True
                elif fault.kind == "status":
                    self._send(fault.status, b'{"error": {"message": "injected fault"}}', fault.headers)
                elif fault.kind == "malformed":
                    self._send(200, b'{"id": "chatcmpl-x", "choices": [')
                elif fault.kind == "no_choices":
                    self._send(200, completion(model, []))
                else:  # cut: a body promised in full, then the connection closes half-way
                    payload = completion(
                        model, [{"index": 0, "message": {"role": "assistant", "content": "x"}}]
                    )
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload[: len(payload) // 2])
                    self.wfile.flush()
                    self.close_connection = True

            def _send(self, status: int, payload: bytes, headers: tuple[tuple[str, str], ...] = ()) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
