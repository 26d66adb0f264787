"""Bounded attacks on the sandbox: each asserts the reported status and an untouched host.

Every attack runs on the bubblewrap backend and on the confined subprocess backend;
those that process limits alone must stop run on the unconfined fallback as well.
"""

import functools
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sandbox import Limits, SubprocessExecutor
from sandbox import executor as executor_module
from sandbox.bubblewrap import BubblewrapExecutor, bubblewrap_problem

BUBBLEWRAP = BubblewrapExecutor()
CONFINED = SubprocessExecutor()
UNCONFINED = SubprocessExecutor(confine=False)
ALL = pytest.mark.parametrize(
    "executor", [BUBBLEWRAP, CONFINED, UNCONFINED], ids=["bubblewrap", "subprocess", "fallback"]
)
STRONG = pytest.mark.parametrize("executor", [BUBBLEWRAP, CONFINED], ids=["bubblewrap", "subprocess"])
FAST = Limits(wall_seconds=2, memory_mb=512, output_bytes=20_000, file_size_mb=4, open_files=32, disk_mb=16)


@functools.cache
def _kernel_layers() -> frozenset[str]:
    return frozenset(layer.split("-")[0] for layer in CONFINED.run("pass")["confinement"])


def _missing(reason: str) -> None:
    # CI installs bubblewrap and has a kernel with both layers: there, absence is a regression.
    pytest.fail(reason) if os.environ.get("CI") else pytest.skip(reason)


def refused(result, executor) -> bool:
    """Refused by policy; inside bubblewrap a host path may simply not exist."""
    if result["status"] == "policy_violation":
        return True
    hidden = result["status"] == "error" and result["error"]["type"] == "FileNotFoundError"
    return executor is BUBBLEWRAP and hidden


def attack(executor, code, **limits):
    if executor is BUBBLEWRAP and (problem := bubblewrap_problem()):
        _missing(problem)
    if executor is not UNCONFINED and _kernel_layers() != {"landlock", "seccomp"}:
        _missing(f"Landlock and seccomp are needed here; this kernel gave {set(_kernel_layers())}")
    return executor.run(code, limits=Limits(**{**FAST.__dict__, **limits}))


# --- limits (both executors) ---------------------------------------------------------


@ALL
def test_cpu_loop(executor):
    assert attack(executor, "while True:\n    pass")["status"] == "timeout"


@ALL
def test_sleep_forever(executor):
    started = time.monotonic()
    assert attack(executor, "import time\ntime.sleep(3600)")["status"] == "timeout"
    assert time.monotonic() - started < 6


@ALL
def test_memory_bomb(executor):
    result = attack(executor, "blocks = []\nwhile True:\n    blocks.append(bytearray(50 * 1024 * 1024))")
    assert result["status"] == "resource_limit" and result["error"]["limit"] == "memory_mb"


@ALL
def test_thread_bomb(executor):
    code = "import threading, time\nwhile True:\n    threading.Thread(target=time.sleep, args=(60,)).start()"
    result = attack(executor, code)
    assert result["status"] == "resource_limit", result["stderr"][-2000:]


# The runner must describe what was raised with the code's threads still running and its
# memory used up; failing to, it would wait for those threads at exit and report a timeout.
LEFT_RUNNING = "import threading, time\nthreading.Thread(target=time.sleep, args=(60,)).start()\n"


@ALL
def test_exception_raised_with_memory_used_up_and_a_thread_left_running(executor):
    fill = (
        "held = []\nfor size in (1 << 20, 1 << 12, 1 << 6):\n    try:\n        while True:\n"
        "            held.append(bytearray(size))\n    except MemoryError:\n        pass\n"
    )
    result = attack(executor, LEFT_RUNNING + fill + "raise ValueError('raised after filling memory')")
    assert result["status"] == "error", result["stderr"][-2000:]
    assert result["error"]["message"] == "raised after filling memory"


@ALL
@pytest.mark.parametrize("detach", ["sys.stdout.close()", "sys.stdout = io.StringIO()", "sys.stdout = None"])
def test_what_was_printed_is_kept_when_the_code_closes_or_replaces_stdout(executor, detach):
    result = attack(executor, f"import io, sys\nprint('kept')\n{detach}")
    assert result["status"] == "ok" and result["stdout"] == "kept\n", result


@ALL
def test_a_small_memory_limit_still_leaves_room_to_run(executor):
    result = attack(executor, "print(sum(range(10)))", memory_mb=20)
    assert result["status"] == "ok" and result["stdout"] == "45\n", result


@ALL
def test_exception_that_fails_to_print_with_a_thread_left_running(executor):
    unprintable = "class Unprintable(Exception):\n    def __str__(self):\n        raise MemoryError\n"
    result = attack(executor, LEFT_RUNNING + unprintable + "raise Unprintable()")
    assert result["status"] == "error" and result["error"]["type"] == "Unprintable"
    assert "could not be described" in result["error"]["message"]


@ALL
def test_huge_stdout(executor):
    result = attack(executor, "while True:\n    print('A' * 4096)")
    assert result["status"] == "output_limit" and len(result["stdout"]) == FAST.output_bytes


@ALL
def test_one_huge_file(executor):
    result = attack(
        executor, "with open('big.bin', 'wb') as f:\n    while True:\n        f.write(b'0' * 1048576)"
    )
    assert result["status"] == "resource_limit" and result["error"]["limit"] == "file_size_mb"


@ALL
def test_many_medium_files(executor):
    code = "i = 0\nwhile True:\n    open(f'f{i}.bin', 'wb').write(b'0' * 1048576)\n    i += 1"
    result = attack(executor, code, wall_seconds=10)
    assert result["status"] == "resource_limit" and result["error"]["limit"] == "disk_mb"


@ALL
def test_fd_exhaustion(executor):
    result = attack(executor, "files = [open('x', 'w') for _ in range(100000)]")
    assert result["status"] == "resource_limit" and result["error"]["limit"] == "open_files"


@ALL
def test_secrets_in_environment(executor, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-attack-target")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-attack-target")
    result = attack(executor, "import os\nprint(dict(os.environ))")
    assert result["status"] == "ok" and "attack-target" not in result["stdout"]


@ALL
def test_ignoring_signals(executor):
    code = "import signal, time\nfor s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):\n"
    code += "    signal.signal(s, signal.SIG_IGN)\nwhile True:\n    time.sleep(0.01)"
    assert attack(executor, code)["status"] == "timeout"


@ALL
def test_deep_recursion(executor):
    result = attack(executor, "def f(n):\n    return f(n + 1)\nf(0)")
    assert result["status"] == "error" and result["error"]["type"] == "RecursionError"
    assert "loop" in result["error"]["hint"]


@ALL
def test_unbounded_recursion_limit_is_still_bounded(executor):
    code = "import sys\nsys.setrecursionlimit(10**9)\ndef f(n):\n    return [f(n + 1)]\nf(0)"
    assert attack(executor, code)["status"] in {"timeout", "crashed", "resource_limit"}


@ALL
def test_waiting_on_stdin(executor):
    result = attack(executor, "import sys\nprint(len(sys.stdin.read()))")
    assert result["status"] == "ok" and result["stdout"] == "0\n"


# --- what only namespaces and the kernel layers stop ----------------------------------


@STRONG
def test_fork_bomb(executor):
    result = attack(executor, "import os\nwhile True:\n    os.fork()")
    assert refused(result, executor)


@STRONG
def test_double_fork_daemon_that_outlives_the_run(executor, tmp_path):
    marker = tmp_path / "daemon-was-here"
    code = (
        "import os, time\n"
        "if os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
        f"        time.sleep(1)\n        open({str(marker)!r}, 'w').write('x')\n"
    )
    result = attack(executor, code)
    time.sleep(1.5)
    assert refused(result, executor) and not marker.exists()


@STRONG
def test_reading_a_secret_file_in_the_home_directory(executor, tmp_path):
    secret = tmp_path / ".env"
    secret.write_text("OPENAI_API_KEY=sk-from-file")
    result = attack(executor, f"print(open({str(secret)!r}).read())")
    assert refused(result, executor) and "sk-from-file" not in result["stdout"]


@STRONG
def test_reading_the_real_home_directory(executor):
    result = attack(executor, f"import os\nprint(os.listdir({str(Path.home())!r}))")
    assert refused(result, executor)


@STRONG
def test_writing_a_file_in_the_home_directory(executor, tmp_path):
    target = tmp_path / "planted.sh"
    result = attack(executor, f"open({str(target)!r}, 'w').write('rm -rf ~')")
    assert refused(result, executor) and not target.exists()


@STRONG
def test_deleting_a_host_file(executor, tmp_path):
    victim = tmp_path / "precious.txt"
    victim.write_text("keep me")
    result = attack(executor, f"import os\nos.remove({str(victim)!r})")
    assert refused(result, executor) and victim.read_text() == "keep me"


@STRONG
def test_escaping_through_a_symlink(executor, tmp_path):
    victim = tmp_path / "precious.txt"
    victim.write_text("keep me")
    code = f"import os\nos.symlink({str(victim)!r}, 'link')\nopen('link', 'w').write('gone')"
    result = attack(executor, code)
    assert refused(result, executor) and victim.read_text() == "keep me"


@STRONG
def test_dev_shm(executor):
    name = f"/dev/shm/toolmaker-attack-{os.getpid()}"
    result = attack(executor, f"open({name!r}, 'w').write('x')")
    assert refused(result, executor) and not os.path.exists(name)


@STRONG
def test_environment_of_other_processes(executor):
    result = attack(executor, f"print(open('/proc/{os.getpid()}/environ', 'rb').read())")
    assert refused(result, executor)


@STRONG
def test_memory_of_other_processes(executor):
    code = f"f = open('/proc/{os.getpid()}/mem', 'rb')\nprint(f.read(16))"
    assert refused(attack(executor, code), executor)


@STRONG
def test_ptrace_of_the_parent(executor):
    code = "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
    code += "if libc.ptrace(16, os.getppid(), 0, 0) != 0:\n"
    code += "    raise PermissionError(ctypes.get_errno(), 'ptrace')"
    assert refused(attack(executor, code), executor)


@STRONG
def test_tcp_connection_to_a_host_listener(executor):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        port = listener.getsockname()[1]
        result = attack(
            CONFINED, f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=1)"
        )
        assert refused(result, executor)
        with pytest.raises(BlockingIOError):
            listener.accept()


@STRONG
def test_udp_datagram_to_a_host_socket(executor):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver:
        receiver.bind(("127.0.0.1", 0))
        receiver.setblocking(False)
        port = receiver.getsockname()[1]
        code = "import socket\nudp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        code += f"udp.sendto(b'x', ('127.0.0.1', {port}))"
        assert refused(attack(executor, code), executor)
        with pytest.raises(BlockingIOError):
            receiver.recv(1)


@STRONG
def test_unix_socket_to_a_host_listener(executor, tmp_path):
    path = str(tmp_path / "host.sock")
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(path)
        listener.listen()
        listener.setblocking(False)
        code = f"import socket\ns = socket.socket(socket.AF_UNIX)\ns.connect({path!r})"
        assert refused(attack(executor, code), executor)
        with pytest.raises(BlockingIOError):
            listener.accept()


@STRONG
def test_killing_a_host_process(executor):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        result = attack(executor, f"import os, signal\nos.kill({sleeper.pid}, signal.SIGKILL)")
        assert refused(result, executor)
        assert sleeper.poll() is None
    finally:
        sleeper.kill()
        sleeper.wait()


@STRONG
def test_killing_every_process(executor):
    result = attack(executor, "import os, signal\nos.kill(-1, signal.SIGKILL)")
    assert refused(result, executor)
    os.kill(os.getpid(), 0)


@STRONG
def test_escape_through_subclasses(executor, tmp_path):
    marker = tmp_path / "escaped"
    code = (
        "wrap = [c for c in ().__class__.__base__.__subclasses__() if c.__name__ == '_wrap_close'][0]\n"
        f"status = wrap.__init__.__globals__['system']('touch {marker}')\n"
        "if status != 0:\n    raise PermissionError(status, 'system() failed')"
    )
    result = attack(executor, code)
    assert refused(result, executor) and not marker.exists()


@STRONG
def test_raw_syscall_through_ctypes(executor):
    code = "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nfd = libc.socket(2, 1, 0)\n"
    code += "if fd < 0:\n    raise PermissionError(ctypes.get_errno(), 'socket')\nprint(fd)"
    assert refused(attack(executor, code), executor)


@STRONG
def test_raising_its_own_limits(executor):
    code = "import resource\nunlimited = (resource.RLIM_INFINITY, resource.RLIM_INFINITY)\n"
    code += "resource.setrlimit(resource.RLIMIT_AS, unlimited)"
    result = attack(executor, code)
    assert result["status"] == "error" and result["error"]["type"] == "ValueError"


@STRONG
def test_signal_scope_leaves_the_runner_able_to_report(executor):
    result = attack(executor, "import os, signal\nos.kill(os.getpid(), signal.SIGTERM)")
    assert result["status"] == "crashed" and result["error"]["signal"] == signal.SIGTERM


# --- as root, the child runs as an unprivileged uid of its own -------------------------

SYSTEM_PYTHON = "/usr/bin/python3"


@pytest.fixture
def dropped():
    """The unconfined fallback as root, with an interpreter an unprivileged uid can run."""
    if os.geteuid() != 0 or not os.access(SYSTEM_PYTHON, os.X_OK):
        pytest.skip("the uid drop applies to root with a system-wide Python")
    executor = SubprocessExecutor(python=SYSTEM_PYTHON, confine=False)
    uid = int(executor.run("import os\nprint(os.getuid())")["stdout"])
    assert uid != 0
    return executor


def test_fork_bomb_as_dropped_uid_hits_the_process_limit(dropped):
    result = attack(dropped, "import os\nwhile True:\n    os.fork()")
    assert result["status"] == "resource_limit" and result["error"]["limit"] == "processes"


def test_setsid_daemon_as_dropped_uid_is_ended_with_the_run(dropped, tmp_path):
    marker = tmp_path / "daemon-was-here"
    tmp_path.chmod(0o777)
    code = (
        "import os, time\n"
        f"if os.fork() == 0:\n    os.setsid()\n    time.sleep(1)\n    open({str(marker)!r}, 'w').write('x')\n"
        "print('parent done')"
    )
    result = attack(dropped, code)
    time.sleep(1.5)
    assert result["status"] == "ok" and result["stdout"] == "parent done\n"
    assert not marker.exists()


def test_bubblewrap_as_root_runs_another_interpreter_as_a_dropped_uid_and_its_fork_bomb_is_bounded():
    if os.geteuid() != 0 or not os.access(SYSTEM_PYTHON, os.X_OK):
        pytest.skip("the uid drop applies to root with a system-wide Python")
    if problem := bubblewrap_problem():
        _missing(problem)
    executor = BubblewrapExecutor(python=SYSTEM_PYTHON)  # its install is mounted, not ours
    who = executor.run("import os, sys\nprint(os.getuid(), os.getgroups(), sys.executable)")
    uid, groups, python = who["stdout"].split(maxsplit=2)
    if int(uid) == 0:  # the clone sits in a folder an unprivileged uid cannot read: bwrap stays root
        _missing("the uid drop needs this clone's folders readable by other users")
    assert who["status"] == "ok" and int(uid) != 0 and groups == "[]" and python.strip() == SYSTEM_PYTHON
    result = executor.run("import os\nwhile True:\n    os.fork()", limits=FAST)
    assert result["status"] == "resource_limit" and result["error"]["limit"] == "processes"


def test_confined_run_as_dropped_uid_reads_its_confinement_before_the_drop(tmp_path, monkeypatch):
    """The runner in a folder only root may read (a private clone) still confines the dropped uid."""
    if os.geteuid() != 0 or not os.access(SYSTEM_PYTHON, os.X_OK):
        pytest.skip("the uid drop applies to root with a system-wide Python")
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    for name in ("_runner.py", "_confine.py"):
        shutil.copy(executor_module.RUNNER.with_name(name), private / name)
    monkeypatch.setattr(executor_module, "RUNNER", private / "_runner.py")
    confined = SubprocessExecutor(python=SYSTEM_PYTHON, confine=True)
    result = confined.run("import os\nprint(os.getuid())")
    assert result["status"] == "ok" and int(result["stdout"]) != 0, result
    assert result["confinement"]
