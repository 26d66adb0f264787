"""Eight worker processes on one registry, on a real PostgreSQL server and on SQLite files.

The PostgreSQL server is started by the tests from the system's binaries; where they are
not installed these tests are skipped with the line that says what to install (under CI,
where the Makefile installs them, they fail instead).
"""

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from nodes.latm.queue import RequestQueue
from tests.fakes import FakeOpenAIServer
from tests.workers import (
    PRODUCTS,
    QUEUE_THRESHOLD,
    USES_PER_VERSION,
    VERSIONS_PER_WORKER,
    scripted_reply,
    stream,
)
from toolmaker.settings import Settings
from tools_registry import open_registry
from tools_registry.locks import FileLocks, PostgresLocks

WORKERS = 8
ROOT = Path(__file__).resolve().parents[2]


def _database(backend, request, tmp_path):
    """The environment that points every worker at one registry of ``backend``."""
    if backend == "postgres":
        return {"TOOLMAKER_DATABASE_URL": request.getfixturevalue("postgres_url")}
    return {"TOOLMAKER_DATA_DIR": str(tmp_path / "shared-data")}


def _run_workers(env, tmp_path):
    go = tmp_path / "go"
    ready = [tmp_path / f"ready-{worker}" for worker in range(WORKERS)]
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.workers", str(worker), str(ready[worker]), str(go)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for worker in range(WORKERS)
    ]
    try:
        deadline = time.monotonic() + 180
        while not all(path.exists() for path in ready):
            for worker in workers:
                if worker.poll() is not None:
                    pytest.fail(f"a worker died before the start: {worker.communicate()[1][-3000:]}")
            assert time.monotonic() < deadline, "a worker never got ready"
            time.sleep(0.05)
        go.touch()  # all at once: the writes below race for real
        outputs = [worker.communicate(timeout=300) for worker in workers]
    finally:
        for worker in workers:
            worker.kill()
    for worker, (_, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err[-3000:]
    return [json.loads(line) for out, _ in outputs for line in out.splitlines() if line.startswith("{")]


@pytest.mark.parametrize("backend", ["postgres", "sqlite"])
def test_eight_workers_share_one_registry_and_make_each_family_tool_once(backend, request, tmp_path):
    with FakeOpenAIServer(scripted_reply) as endpoint:
        env = {
            **os.environ,
            "TOOLMAKER_MAKER_BASE_URL": endpoint.base_url,
            "TOOLMAKER_USER_BASE_URL": endpoint.base_url,
            "TOOLMAKER_REQUEST_RETRIES": "0",
            **_database(backend, request, tmp_path),
        }
        rows = _run_workers(env, tmp_path)
    by_kind = {kind: [row for row in rows if row["kind"] == kind] for kind in ("version", "creator", "latm")}

    with open_registry(Settings.from_env(env)) as registry:
        # No record lost and no version number given twice, though every worker added at once.
        versions = registry.tools("scale")
        assert sorted(r.version for r in versions) == list(range(1, WORKERS * VERSIONS_PER_WORKER + 1))
        assert sorted(row["version"] for row in by_kind["version"]) == [r.version for r in versions]
        assert [registry.stats(r.id).uses for r in versions] == [USES_PER_VERSION] * len(versions)
        # CREATOR with reuse: every solve is counted once, as a creation or as a use.
        assert len(by_kind["creator"]) == WORKERS * len(PRODUCTS)
        assert all(float(row["answer"]) == eval(row["problem"][8:-1].replace("times", "*"))
                   for row in by_kind["creator"])  # fmt: skip
        counted = [registry.stats(r.id) for r in registry.tools("multiply_numbers")]
        assert sum(s.created + s.uses for s in counted) == WORKERS * len(PRODUCTS)
        # LATM: each family's tool made once, every request answered right.
        made = [r.latm.family for r in registry.tools() if r.latm is not None]
        assert sorted(made) == ["reverse_words", "word_sorting"]
        assert RequestQueue(registry.store).families() == {}
    proposals = [r for r in endpoint.requests if "Here are examples of a task" in str(r["messages"])]
    assert len(proposals) == 2
    latm = by_kind["latm"]
    assert len(latm) == WORKERS * len(stream()) and all(row["error"] is None for row in latm)
    assert [row for row in latm if row["answer"] != row["gold"]] == []
    # Each family's tool was made by one worker, from a full queue whose every request it answered
    # right; the others' requests went in before it was made (queued) or after (cached tool),
    # which is the race's to decide.
    made_now = [row for row in latm if row["route"] == "made now"]
    assert sorted(row["family"] for row in made_now) == ["reverse_words", "word_sorting"]
    golds = dict(stream())
    for row in made_now:
        assert len(row["waiters"]) >= QUEUE_THRESHOLD
        assert [w for w in row["waiters"] if w.get("failed") or w["answer"] != golds[w["request"]]] == []
    assert {row["route"] for row in latm} - {"made now"} <= {"cached tool", "queued"}


HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from tools_registry.locks import FileLocks, PostgresLocks
    backend, where = sys.argv[1], sys.argv[2]
    locks = PostgresLocks(where) if backend == "postgres" else FileLocks(Path(where))
    with locks.hold("toolmaker:latm-family:word_sorting"):
        print("held", flush=True)
        time.sleep(600)
    """
)


@pytest.mark.parametrize("backend", ["postgres", "file"])
def test_a_family_lease_is_exclusive_and_freed_when_its_holder_is_killed(backend, request, tmp_path):
    where = request.getfixturevalue("postgres_url") if backend == "postgres" else str(tmp_path / "locks")
    locks = PostgresLocks(where) if backend == "postgres" else FileLocks(Path(where))
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, backend, where], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        acquired = threading.Event()

        def take() -> None:
            with locks.hold("toolmaker:latm-family:word_sorting"):
                acquired.set()

        threading.Thread(target=take, daemon=True).start()
        assert not acquired.wait(1.0)  # the holder has it
        with locks.hold("toolmaker:latm-family:dyck_languages"):
            pass  # another family's lease is free meanwhile
        holder.kill()
        assert acquired.wait(20)
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("opener", ["registry", "run store"])
def test_a_worker_opening_a_new_sqlite_file_waits_for_the_one_switching_it_to_wal(tmp_path, opener):
    """Switching a new file to WAL does not wait out another's write lock: it needs the setup lock."""
    import sqlite3
    from contextlib import closing

    from graphs.persistence import sqlite_checkpointer
    from tools_registry import sqlite_registry
    from tools_registry.locks import FileLocks
    from tools_registry.storage import SETUP_LOCK

    path = tmp_path / "shared.sqlite"
    outcome: list[object] = []

    def second_worker() -> None:
        try:
            with (sqlite_registry if opener == "registry" else sqlite_checkpointer)(path):
                outcome.append("opened")
        except sqlite3.OperationalError as exc:
            outcome.append(exc)

    locks = FileLocks(path.with_name(f"{path.name}.locks"))
    with closing(sqlite3.connect(path, isolation_level=None)) as first, locks.hold(SETUP_LOCK):
        first.execute("BEGIN IMMEDIATE")  # the first worker, in the middle of its switch
        worker = threading.Thread(target=second_worker)
        worker.start()
        worker.join(1.0)
        assert outcome == []  # waiting for the setup lock, not failed at once
        first.execute("COMMIT")
        first.execute("PRAGMA journal_mode=WAL")
    worker.join(30)
    assert outcome == ["opened"]
