"""Child-process entry point: load one GGUF file and serve it until terminated.

Run as ``python -m toolmaker.embedded.serve --model PATH``. It prints one JSON line
``{"address": "http://127.0.0.1:PORT"}`` on stdout once the model is loaded, then
serves until SIGTERM/SIGINT or until its stdin closes: the parent holds the other end of
that pipe, and the kernel closes it however the parent process ends (even SIGKILL).
Linux's PR_SET_PDEATHSIG would fire when the parent *thread* that started the server
ends, which stopped the server whenever a worker thread of a benchmark run finished.
Running the server in its own process keeps a crash or a hang of llama.cpp away from
the caller, and lets the caller stop it for certain.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from typing import NoReturn

DEFAULT_THREADS = 1


def _stop_at_end_of_input(stop: threading.Event) -> None:
    sys.stdin.buffer.read()  # returns only once the parent's end of the pipe is closed
    stop.set()


def main(argv: list[str] | None = None) -> NoReturn:
    """Parse arguments, start the llama.cpp server and end this process at a stop signal."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True, help="path of the GGUF file")
    parser.add_argument("--alias", default="local", help="model name the API reports")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    parser.add_argument("--context-tokens", type=int, default=8192, help="context of each slot")
    parser.add_argument("--slots", type=int, default=1, help="requests decoded together")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--no-prompt-cache", action="store_true", help="decode every prompt afresh (reproducible replies)"
    )
    args = parser.parse_args(argv)

    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = args.model
    params.model_alias = args.alias
    params.hostnames = ["127.0.0.1"]
    params.port = 0
    # llama.cpp splits n_ctx among the slots: each slot keeps the context it would have alone.
    params.n_ctx = args.context_tokens * args.slots
    params.n_parallel = args.slots
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.sampling.seed = args.seed
    params.cache_prompt = not args.no_prompt_cache
    params.ui = False
    params.offline = True
    params.warmup = False

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    threading.Thread(target=_stop_at_end_of_input, args=(stop,), daemon=True).start()
    server = xllamacpp.Server(params)
    sys.stdout.write(json.dumps({"address": server.listening_address}) + "\n")
    sys.stdout.flush()
    # Nobody reads stdout after this line: anything llama.cpp prints goes to the log instead.
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    stop.wait()
    # Not `return`: llama.cpp's ~Server waits for its main loop, and with a request in flight it
    # waited past 120 s after SIGTERM. The server holds nothing that needs a clean shutdown.
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
