"""The HTTP client every chat endpoint is reached through: a completion is checked before it is parsed.

The OpenAI client retries connection failures, timeouts, 429 (honouring ``Retry-After``) and
5xx replies with backoff, a bounded number of times. It does not retry a 200 whose body is
not JSON or holds no choices, and langchain-openai then fails deep in its parsing. This
transport turns such a reply into a 502 that names the fault, so the same bounded retries
apply to it and, once they are spent, the run stops with an error naming the endpoint.
"""

from __future__ import annotations

import json

import httpx

_UNUSABLE = 502


def _fault(body: bytes) -> str | None:
    """What is wrong with a chat completion's body, or None."""
    try:
        completion = json.loads(body)
    except ValueError:
        return f"a 200 reply whose body is not JSON ({len(body)} bytes: {body[:80]!r})"
    if not isinstance(completion, dict):
        return "a 200 reply whose body is not a JSON object"
    choices = completion.get("choices")
    if not isinstance(choices, list) or not choices:
        return "a 200 completion without choices"
    return None


class CheckedTransport(httpx.BaseTransport):
    """Pass requests through; a chat completion that cannot be used comes back as a 502."""

    def __init__(self, inner: httpx.BaseTransport | None = None) -> None:
        """Wrap ``inner`` (a plain ``httpx.HTTPTransport`` by default)."""
        self._inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request``; read and check a completion's body before the client parses it."""
        response = self._inner.handle_request(request)
        if response.status_code != 200 or not request.url.path.endswith("/chat/completions"):
            return response
        try:
            body = response.read()  # a body cut off half-way raises here, and is retried as such
        finally:
            response.close()
        headers = [
            (k, v)
            for k, v in response.headers.items()
            if k.lower() not in ("content-encoding", "content-length")
        ]
        if (fault := _fault(body)) is not None:
            message = json.dumps({"error": {"message": f"the endpoint sent {fault}"}}).encode()
            return httpx.Response(_UNUSABLE, headers=headers, content=message, request=request)
        return httpx.Response(200, headers=headers, content=body, request=request)

    def close(self) -> None:
        """Close the wrapped transport."""
        self._inner.close()


def checked_client(timeout: tuple[float, float, float, float]) -> httpx.Client:
    """An ``httpx.Client`` for ``ChatOpenAI(http_client=...)`` with checked completions.

    ``timeout`` is (connect, read, write, pool) in seconds.
    """
    return httpx.Client(transport=CheckedTransport(), timeout=httpx.Timeout(timeout))
