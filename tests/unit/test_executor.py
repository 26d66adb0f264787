import time
from pathlib import Path

import pytest

from sandbox import Limits, SubprocessExecutor


@pytest.fixture
def executor():
    return SubprocessExecutor()


def test_prints_are_captured_and_modules_importable(executor):
    result = executor.run(
        "from tool import double\nprint(double(21))",
        modules={"tool.py": "def double(x):\n    return 2 * x\n"},
    )
    assert result["status"] == "ok" and result["stdout"] == "42\n" and result["error"] is None
    assert result["backend"] == "subprocess"


def test_exception_reports_type_message_file_and_trimmed_traceback(executor):
    result = executor.run(
        "from tool import f\nf()", modules={"tool.py": "def f():\n    return {}['missing']\n"}
    )
    error = result["error"]
    assert result["status"] == "error"
    assert (error["type"], error["message"], error["file"]) == ("KeyError", "'missing'", "tool.py")
    assert 'File "tool.py", line 2, in f' in error["traceback"]
    assert "_runner.py" not in error["traceback"] and "runpy" not in error["traceback"]


def test_host_secrets_never_reach_the_code(executor, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret")
    monkeypatch.setenv("TOOLMAKER_DATABASE_URL", "postgresql://worker:db-password@db/toolmaker")
    result = executor.run("import os\nprint(sorted(os.environ))\nprint(os.environ.get('OPENAI_API_KEY'))")
    assert "sk-test-secret" not in result["stdout"] and "db-password" not in result["stdout"]
    assert result["stdout"].splitlines()[-1] == "None"


def test_wall_clock_timeout_kills_the_process_group():
    """Without seccomp (an old kernel) children can be made; the timeout still ends them all."""
    started = time.monotonic()
    result = SubprocessExecutor(confine=False).run(
        "import subprocess, sys, time\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "time.sleep(60)",
        limits=Limits(wall_seconds=1),
    )
    assert result["status"] == "timeout" and result["error"]["limit"] == "wall_seconds"
    assert "brute force" in result["error"]["hint"]
    assert time.monotonic() - started < 10


def test_cpu_bound_loop_times_out(executor):
    result = executor.run("while True:\n    pass", limits=Limits(wall_seconds=1.5))
    assert result["status"] == "timeout"


def test_output_flood_stops_at_the_cap(executor):
    result = executor.run("while True:\n    print('x' * 1000)", limits=Limits(output_bytes=10_000))
    assert result["status"] == "output_limit"
    assert len(result["stdout"]) == 10_000


def test_memory_bomb_is_a_resource_limit(executor):
    result = executor.run("x = bytearray(4 * 1024 ** 3)", limits=Limits(memory_mb=512))
    assert result["status"] == "resource_limit" and result["error"]["limit"] == "memory_mb"


def test_stdin_is_closed(executor):
    result = executor.run("import sys\nprint(repr(sys.stdin.read()))", limits=Limits(wall_seconds=3))
    assert result["status"] == "ok" and result["stdout"] == "''\n"


def test_scratch_directory_is_private_and_removed(executor):
    result = executor.run("import os\nopen('scratch.txt', 'w').write('x')\nprint(os.getcwd())")
    scratch = Path(result["stdout"].strip())
    assert scratch.name == "scratch" and not scratch.exists()


def test_syntax_error_names_the_file(executor):
    result = executor.run("def f(:\n    pass")
    assert result["status"] == "error" and result["error"]["type"] == "SyntaxError"
    assert result["error"]["file"] == "main.py"


def test_nonzero_exit_is_an_error(executor):
    result = executor.run("import sys\nsys.exit(3)")
    assert result["status"] == "error" and result["error"]["message"] == "exit status 3"


def test_hard_crash_is_reported_as_crashed(executor):
    result = executor.run("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)")
    assert result["status"] == "crashed" and result["error"]["signal"] == 11


def test_module_names_cannot_escape_the_scratch_directory(executor, tmp_path):
    target = tmp_path / "evil.py"
    result = executor.run("print(1)", modules={f"../../../../{target}": "x = 1"})
    assert result["status"] == "sandbox_error" and not target.exists()


def test_no_child_survives_a_run_even_without_confinement():
    result = SubprocessExecutor(confine=False).run(
        "import os, subprocess, sys\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)'])\n"
        "print(p.pid)"
    )
    pid = int(result["stdout"])
    time.sleep(0.2)
    stat = Path(f"/proc/{pid}/stat")
    # Gone, or a zombie waiting for init to reap it: either way it no longer runs.
    assert not stat.exists() or stat.read_text().split(") ")[1].startswith("Z")


def test_confined_code_can_start_no_process(executor):
    result = executor.run("import subprocess, sys\nsubprocess.run([sys.executable, '-c', 'print(1)'])")
    if "seccomp" not in result["confinement"]:
        pytest.skip("seccomp is not available here")
    assert result["status"] == "policy_violation" and "no new processes" in result["error"]["hint"]


def test_bubblewrap_sees_a_venv_linked_into_a_project_that_is_on_the_path(tmp_path, monkeypatch):
    """As `python -m` from a project whose .venv is a symlink: the project and the link are on sys.path."""
    import os
    import sys

    from sandbox.bubblewrap import BubblewrapExecutor, bubblewrap_problem

    if problem := bubblewrap_problem():
        pytest.fail(problem) if os.environ.get("CI") else pytest.skip(problem)
    real = tmp_path / "elsewhere" / "venv"
    real.mkdir(parents=True)
    project = tmp_path / "project"
    project.mkdir()
    (project / ".venv").symlink_to(real)
    monkeypatch.setattr(sys, "path", [*sys.path, str(project), str(project / ".venv")])
    result = BubblewrapExecutor().run("print(42)")
    assert result["status"] == "ok", result["stderr"]  # it was: bwrap: Can't bind mount ... .venv
    assert result["stdout"] == "42\n"


def test_limits_the_sandbox_cannot_set_are_its_own_error_and_the_code_never_runs(tmp_path):
    marker = tmp_path / "ran"
    impossible = Limits(open_files=2**31 - 1)  # above the kernel's ceiling, even for root
    result = SubprocessExecutor(confine=False).run(f"open({str(marker)!r}, 'w')", limits=impossible)
    assert result["status"] == "sandbox_error" and "could not set up the run" in result["error"]["message"]
    assert not marker.exists()
