import logging
import os
from pathlib import Path

import pytest
from langchain_openai import ChatOpenAI

from toolmaker.embedded.catalog import is_embedded
from toolmaker.models import EndpointModels, ModelRequest
from toolmaker.settings import Settings


def test_defaults_are_the_embedded_models():
    settings = Settings.from_env({})
    assert settings.maker.model == "qwen2.5-coder-1.5b" and settings.maker.base_url == ""
    assert settings.user.model == "qwen2.5-coder-0.5b"
    assert is_embedded(settings.maker.model) and is_embedded("/models/mine.gguf")
    assert not is_embedded("gpt-4o-mini")


def test_environment_configures_each_role_and_keys_stay_secret():
    settings = Settings.from_env(
        {
            "TOOLMAKER_MAKER_MODEL": "gpt-4o",
            "OPENAI_API_KEY": "sk-fallback",
            "TOOLMAKER_USER_MODEL": "qwen2.5:0.5b",
            "TOOLMAKER_USER_BASE_URL": "http://localhost:11434/v1",
            "TOOLMAKER_USER_API_KEY": "ollama",
            "TOOLMAKER_CACHE_DIR": "/tmp/cache",
            "TOOLMAKER_EMBEDDED_THREADS": "3",
            "TOOLMAKER_EMBEDDED_SLOTS": "2",
            "TOOLMAKER_EMBEDDED_PROMPT_CACHE": "off",
        }
    )
    assert settings.maker.model == "gpt-4o" and settings.maker.api_key.get_secret_value() == "sk-fallback"
    assert settings.user.base_url == "http://localhost:11434/v1"
    assert settings.user.api_key.get_secret_value() == "ollama"
    assert str(settings.cache_dir) == "/tmp/cache" and settings.embedded_threads == 3
    assert settings.embedded_slots == 2 and Settings().embedded_slots == 1
    assert not settings.embedded_prompt_cache and Settings().embedded_prompt_cache
    assert "sk-fallback" not in repr(settings)


def test_configured_endpoint_builds_chat_openai_without_starting_a_server():
    settings = Settings.from_env(
        {"TOOLMAKER_MAKER_MODEL": "served-model", "TOOLMAKER_MAKER_BASE_URL": "http://127.0.0.1:9/v1"}
    )
    models = EndpointModels(settings)
    model = models(ModelRequest(role="maker", temperature=0.0, seed=7, max_tokens=99))
    assert isinstance(model, ChatOpenAI)
    assert model.model_name == "served-model" and model.openai_api_base == "http://127.0.0.1:9/v1"
    assert model.temperature == 0.0 and model.seed == 7 and model.max_tokens == 99
    assert models(ModelRequest(role="maker", temperature=0.0, seed=7, max_tokens=99)) is model


def test_context_overrides_settings_per_run():
    models = EndpointModels(
        Settings.from_env({"TOOLMAKER_MAKER_MODEL": "a", "TOOLMAKER_MAKER_BASE_URL": "http://x/v1"})
    )
    model = models(ModelRequest(role="maker", model="b", base_url="http://127.0.0.1:8/v1"))
    assert model.model_name == "b" and model.openai_api_base == "http://127.0.0.1:8/v1"


def test_missing_gguf_file_is_a_clear_error(tmp_path):
    from toolmaker.embedded.server import EmbeddedServerError

    settings = Settings.from_env({"TOOLMAKER_MAKER_MODEL": str(tmp_path / "absent.gguf")})
    with pytest.raises(EmbeddedServerError, match="No GGUF file at"):
        EndpointModels(settings)(ModelRequest(role="maker"))


def test_a_busy_or_hiccuping_embedded_server_is_waited_for_not_restarted(tmp_path, monkeypatch):
    import http.server
    import subprocess
    import threading
    import time

    from toolmaker.embedded import server as embedded

    asked = []

    class SlowHealth(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            asked.append(self.path)
            if len(asked) == 1:  # a hiccup, then a slow answer: the cores are busy generating
                self.send_response(503)
                self.end_headers()
                return
            time.sleep(3)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"status": "ok"}')

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SlowHealth)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    process = subprocess.Popen(["sleep", "60"])
    busy = embedded.EmbeddedServer(
        "busy", f"http://127.0.0.1:{httpd.server_address[1]}", process, tmp_path / "x"
    )

    def no_restart(model, settings):
        raise AssertionError("a running server that answers slowly was restarted")

    monkeypatch.setattr(embedded, "_start", no_restart)
    monkeypatch.setitem(embedded._servers, "busy", busy)
    try:
        assert embedded.get_embedded_server("busy", Settings()) is busy and len(asked) == 2
        process.kill()
        process.wait()
        with pytest.raises(AssertionError, match="was restarted"):  # a dead one is restarted at once
            embedded.get_embedded_server("busy", Settings())
    finally:
        process.kill()
        httpd.shutdown()


def test_each_process_logs_its_own_server_and_only_ended_processes_logs_are_pruned(tmp_path):
    import os
    import subprocess
    import sys

    from toolmaker.embedded import server as embedded

    ended_pids = []
    for _ in range(embedded._KEPT_ENDED_PROCESSES + 2):
        child = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True
        )
        ended_pids.append(int(child.stdout))
    for age, pid in enumerate(reversed(ended_pids)):  # the last one ended last
        for log in (tmp_path / f"server-model.{pid}.log", tmp_path / f"server-model.{pid}.previous.log"):
            log.write_text("ended")
            os.utime(log, (1_000_000 - age, 1_000_000 - age))
    live_other = tmp_path / f"server-model.{os.getppid()}.log"
    live_other.write_text("another process's live server")
    other_model = tmp_path / f"server-other.{ended_pids[0]}.log"
    other_model.write_text("another model")

    own = embedded._log_path(tmp_path, "model")

    assert own == tmp_path / f"server-model.{os.getpid()}.log"
    assert live_other.read_text() == "another process's live server" and other_model.exists()
    left = [int(path.name.split(".")[1]) for path in tmp_path.glob("server-model.*.log")]
    kept = ended_pids[-embedded._KEPT_ENDED_PROCESSES :]
    assert sorted(left) == sorted([os.getppid(), *kept, *kept])  # each with its .previous.log


def _fake_proc(root: Path, command_lines: dict[int, list[str]]) -> Path:
    for pid, argv in command_lines.items():
        (root / str(pid)).mkdir(parents=True)
        (root / str(pid) / "cmdline").write_bytes(b"\0".join(arg.encode() for arg in argv))
    return root


def test_embedded_servers_are_told_from_their_command_lines(tmp_path):
    from toolmaker.embedded import server as embedded

    serve = ["/venv/bin/python", "-m", "toolmaker.embedded.serve", "--model", "m.gguf"]
    proc = _fake_proc(
        tmp_path,
        {
            10: [*serve, "--threads", "2"],
            11: [*serve, "--threads=4"],
            12: serve,  # serve's default: 1 thread
            13: [*serve, "--threads"],  # cut short: the default
            14: ["pgrep", "-f", "toolmaker.embedded.serve"],  # names the module, runs no server
            15: ["python", "--threads", "8", "-m", "toolmaker.embedded.serve"],  # not serve's option
            16: [""],  # a kernel thread's empty command line
            17: [*serve, "--threads", "3"],
        },
    )
    (proc / "self").mkdir()
    assert embedded.other_servers(own={17}, proc=proc) == {10: 2, 11: 4, 12: 1, 13: 1, 15: 1}


def test_sharing_cores_with_other_processes_servers_is_warned_of_once_they_outnumber_the_cores(
    tmp_path, caplog, monkeypatch
):
    from toolmaker.embedded import server as embedded

    monkeypatch.setattr(embedded, "usable_cores", lambda: 4)
    serve = ["python", "-m", "toolmaker.embedded.serve"]
    proc = _fake_proc(tmp_path, {41: [*serve, "--threads", "2"], 42: [*serve, "--threads", "1"]})
    with caplog.at_level(logging.WARNING, logger=embedded.__name__):
        embedded._warn_of_shared_cores("qwen", threads=1, own=set(), proc=proc)  # 4 threads, 4 cores
        embedded._warn_of_shared_cores("qwen", threads=2, own={42}, proc=proc)  # 42 is ours: 4 again
        assert caplog.records == []
        embedded._warn_of_shared_cores("qwen", threads=2, own=set(), proc=proc)
    [warning] = caplog.records
    assert warning.args == ("qwen", 2, 3, "41, 42", 4, 4) and "TOOLMAKER_EMBEDDED_THREADS" in warning.message


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="reads Linux's /proc")
def test_a_running_embedded_server_is_found_in_proc():
    import subprocess
    import sys
    import time

    from toolmaker.embedded import server as embedded

    # A process whose command line is an embedded server's: found by what it runs, not its name.
    pretend = [sys.executable, "-c", "import time; time.sleep(60)", "-m", "toolmaker.embedded.serve"]
    other = subprocess.Popen([*pretend, "--model", "x.gguf", "--threads", "2"])
    try:
        # Popen may return (vfork) before the kernel has given the child its new command line.
        deadline = time.monotonic() + 10
        while other.pid not in (found := embedded.other_servers(own=set())) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert found.get(other.pid) == 2
        assert other.pid not in embedded.other_servers(own={other.pid})
        assert os.getpid() not in embedded.other_servers(own=set())  # pytest's command line runs no server
    finally:
        other.kill()
        other.wait()
