"""Kernel-level confinement the child applies to itself before running model code.

Landlock (filesystem allow-list, no TCP, no signals or abstract sockets outside the
sandbox) and seccomp (no sockets, no new processes, no ptrace) are applied where the
kernel and ``libseccomp`` support them; each layer that could be applied is reported.
Only the standard library is needed here, plus ``pyseccomp`` for the seccomp layer.
"""

from __future__ import annotations

import ctypes
import errno
import os
import sys
from types import ModuleType

_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

_EXECUTE, _WRITE_FILE, _READ_FILE, _READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_FILE_RIGHTS_V3 = _EXECUTE | _WRITE_FILE | _READ_FILE | (1 << 14)
_READ_ONLY = _EXECUTE | _READ_FILE | _READ_DIR
_TCP_BIND_AND_CONNECT = 1 | 2
_SCOPE_ABSTRACT_UNIX_AND_SIGNAL = 1 | 2
_CLONE_THREAD = 0x00010000

SYSTEM_READ_ONLY = ("/usr", "/lib", "/lib64", "/bin", "/etc/ld.so.cache", "/etc/localtime", "/dev/urandom")
DEVICES_READ_WRITE = ("/dev/null", "/dev/zero")


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _all_fs_rights(abi: int) -> int:
    rights = (1 << 13) - 1
    for version, bit in ((2, 13), (3, 14), (5, 15)):
        if abi >= version:
            rights |= 1 << bit
    return rights


def landlock(read_write: list[str], read_only: list[str]) -> str | None:
    """Allow only these paths; deny TCP and out-of-sandbox signals. Return the layer's name."""
    libc = ctypes.CDLL(None, use_errno=True)
    abi = libc.syscall(
        _SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION)
    )
    if abi < 1:
        return None
    handled = _all_fs_rights(abi)
    attr = _RulesetAttr(
        fs=handled,
        net=_TCP_BIND_AND_CONNECT if abi >= 4 else 0,
        scoped=_SCOPE_ABSTRACT_UNIX_AND_SIGNAL if abi >= 6 else 0,
    )
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    ruleset = libc.syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        return None
    try:
        for paths, rights in ((read_only, _READ_ONLY), (read_write, handled)):
            for path in paths:
                _allow(libc, ruleset, path, rights & handled)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return None
        if libc.syscall(_SYS_RESTRICT_SELF, ruleset, ctypes.c_uint32(0)) != 0:
            return None
    finally:
        os.close(ruleset)
    return f"landlock-v{abi}"


def _allow(libc: ctypes.CDLL, ruleset: int, path: str, rights: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return
    try:
        if not os.path.isdir(path):
            rights &= _FILE_RIGHTS_V3 | (1 << 15)
        rule = _PathBeneathAttr(allowed_access=rights, parent_fd=fd)
        libc.syscall(_SYS_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), ctypes.c_uint32(0))
    finally:
        os.close(fd)


_SONAMES = {"c": "libc.so.6", "seccomp": "libseccomp.so.2"}


def _import_pyseccomp() -> ModuleType:
    """Import pyseccomp, resolving its two libraries by soname.

    pyseccomp calls ``ctypes.util.find_library``, which runs ``ldconfig`` or a compiler
    in a subprocess: slow, and impossible inside bubblewrap's empty root. ``dlopen`` of
    the soname finds the same file through the loader cache.
    """
    import ctypes.util

    original = ctypes.util.find_library

    def by_soname(name: str) -> str | None:
        soname = _SONAMES.get(name)
        if soname is not None:
            try:
                ctypes.CDLL(soname)
            except OSError:
                pass
            else:
                return soname
        return original(name)

    ctypes.util.find_library = by_soname
    try:
        import pyseccomp  # noqa: F401 - imported for sys.modules
    finally:
        ctypes.util.find_library = original
    return sys.modules["pyseccomp"]


def seccomp() -> str | None:
    """Forbid sockets, new processes (threads stay allowed), ptrace and foreign signals."""
    try:
        sc = _import_pyseccomp()
    except (ImportError, OSError, RuntimeError):
        return None
    try:
        denied = sc.ERRNO(errno.EPERM)
        syscall_filter = sc.SyscallFilter(defaction=sc.ALLOW)
        for name in (
            "socket",
            "socketpair",
            "fork",
            "vfork",
            "ptrace",
            "process_vm_readv",
            "process_vm_writev",
            "mount",
            "umount2",
            "unshare",
            "setns",
            "keyctl",
            "bpf",
            "perf_event_open",
            "userfaultfd",
        ):
            syscall_filter.add_rule(denied, name)
        syscall_filter.add_rule(denied, "clone", sc.Arg(0, sc.MASKED_EQ, _CLONE_THREAD, 0))
        syscall_filter.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
        own_pid = os.getpid()
        for name in ("kill", "tgkill", "tkill"):
            syscall_filter.add_rule(denied, name, sc.Arg(0, sc.NE, own_pid))
        syscall_filter.load()
    except (OSError, RuntimeError, ValueError):
        return None
    return "seccomp"


def confine(scratch: str) -> list[str]:
    """Apply every layer available here; return the names of those applied."""
    interpreter_paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    interpreter_paths.update(p for p in sys.path if p and os.path.isdir(p) and p != scratch)
    applied = [
        layer
        for layer in (
            landlock([scratch, *DEVICES_READ_WRITE], [*SYSTEM_READ_ONLY, *sorted(interpreter_paths)]),
            seccomp(),
        )
        if layer
    ]
    return applied
