"""One of many worker processes on one shared registry (``python -m tests.workers WORKER READY GO``).

It opens the registry, the queues and the run store the way the command line does (from
``TOOLMAKER_DATABASE_URL`` or the data directory), says it is ready, waits for the go,
then at once with the others: adds its own versions of one tool name and counts uses of
them, solves a stream of problems with CREATOR with reuse on, and sends a stream of
requests through the LATM dispatcher. Models are the scripted endpoint of
:func:`scripted_reply`. It prints one JSON line per answer.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path
from typing import Any

VERSIONS_PER_WORKER = 5
USES_PER_VERSION = 3
QUEUE_THRESHOLD = 2
PRODUCTS = [(17, 23), (6, 7), (12, 12)]
SORTS = ["pear apple fig", "kiwi date", "zeta eta beta"]
REVERSALS = ["one two three", "a b", "x y z w"]

MULTIPLY = '''def multiply_numbers(a: float, b: float) -> float:
    """Return the product of the two numbers a and b."""
    return a * b
'''
SORT = '''def sort_words(question: str) -> str:
    """Sort the words after 'List:' in a request alphabetically, joined by single spaces."""
    return " ".join(sorted(question.split("List:")[1].split()))
'''
REVERSE = '''def reverse_words(question: str) -> str:
    """Give the words after 'List:' in a request in reverse order, joined by single spaces."""
    return " ".join(reversed(question.split("List:")[1].split()))
'''


def product(a: int, b: int) -> str:
    return f"What is {a} times {b}?"


def sort_request(words: str) -> str:
    return f"Sort the following words alphabetically: List: {words}"


def reverse_request(words: str) -> str:
    return f"Reverse the order of the following words: List: {words}"


def stream() -> list[tuple[str, str]]:
    """The dispatcher's requests with their right answers, the same for every worker."""
    sorts = [(sort_request(w), " ".join(sorted(w.split()))) for w in SORTS]
    reversals = [(reverse_request(w), " ".join(reversed(w.split()))) for w in REVERSALS]
    return [pair for pairs in zip(sorts, reversals, strict=True) for pair in pairs]


def _family(text: str) -> str:
    return "word_sorting" if "Sort the following words" in text else "reverse_words"


def _block(code: str) -> str:
    return f"```python\n{code}\n```"


def _calls(tool: str, text: str, marker: str) -> str:
    count = len(re.findall(r"^Example \d+$", text.split(marker)[-1], re.M))
    return "\n".join([f"print({tool}(question))"] * count)


def scripted_reply(body: dict[str, Any]) -> str:
    """What the scripted endpoint answers to each of the prompts a worker's graphs send."""
    text = "\n".join(str(message["content"]) for message in body["messages"])
    if "Known task families:" in text:
        options, request = text.split("Known task families:")[1].split("\nRequest:\n")
        family = _family(request)
        return json.dumps({"choice": family if f"- {family}:" in options else "none", "family": family})
    tool, name = (SORT, "sort_words") if "Sort the following" in text else (REVERSE, "reverse_words")
    if "Here are examples of a task" in text:  # LATM propose
        return _block(tool + "\n" + _calls(name, text, "Here are examples"))
    if "and answered these questions with it" in text:  # LATM verify
        return _block(_calls(name, text, "Write one line per question below"))
    if "Write the one line of Python that calls the tool" in text:  # LATM tool user
        return _block(f"print({name}(question))")
    problem = text.split("Problem:\n")[-1].split("\n")[0].strip()
    if "Do not solve this particular problem" in text:  # CREATOR create
        return _block(MULTIPLY if "times" in problem else tool)
    if "You have this tool" in text:  # CREATOR decide
        if numbers := re.findall(r"\d+", problem):
            return _block(f"print(multiply_numbers({numbers[0]}, {numbers[1]}))")
        return _block(f"print({name}({problem!r}))")
    return "an unexpected prompt: " + text[:200]


def scale_source(worker: int, index: int) -> str:
    """This worker's ``index``-th implementation of ``scale``: each worker's are its own."""
    factor = 10 * worker + index + 2
    docstring = '"""Scale a length by a fixed factor."""'
    return f"def scale(x: float) -> float:\n    {docstring}\n    return x * {factor}\n"


def _report(kind: str, **values: Any) -> None:
    print(json.dumps({"kind": kind, **values}), flush=True)


def main(worker: int, ready: Path, go: Path) -> None:
    from graphs.creator import build_creator_graph
    from graphs.latm import build_dispatcher_graph
    from graphs.running import dispatch_request, solve
    from nodes import CreatorContext
    from nodes.latm import LatmContext
    from toolmaker.settings import get_settings
    from tools_registry import open_registry, tool_from_source

    with open_registry(get_settings()) as registry:
        creator = build_creator_graph().compile(store=registry.store)
        dispatcher = build_dispatcher_graph().compile(store=registry.store)
        ready.touch()
        while not go.exists():
            time.sleep(0.02)
        for index in range(VERSIONS_PER_WORKER):
            record = registry.add(tool_from_source(scale_source(worker, index)))
            for _ in range(USES_PER_VERSION):
                registry.record_use(record.id, ok=True)
            _report("version", id=record.id, version=record.version)
        for a, b in PRODUCTS:
            report = solve(creator, {"problem": product(a, b)}, CreatorContext(reuse_tools=True))
            _report("creator", problem=product(a, b), answer=report["answer"], error=report["error"])
        for request, answer in stream():
            done = dispatch_request(dispatcher, request, LatmContext(queue_threshold=QUEUE_THRESHOLD))
            _report("latm", request=request, answer=done["answer"], gold=answer, route=done["route"],
                    family=done["family"], error=done["error"], waiters=done["waiters"])  # fmt: skip


if __name__ == "__main__":
    main(int(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
