"""Benchmark datasets: located through one setting, fetched from upstream, verified by checksum.

The data is never copied into the repository. :data:`MANIFEST` (``dataset_sources.txt``)
names, for every file the loaders read, the upstream repository, commit and path it was
published at and its SHA-256 (the same sums as ``SHA256SUMS`` in ``../shared/datasets``). Files are read from
:func:`datasets_dir`; :func:`fetch` downloads the same bytes for a user who has no
``../shared``, and every read checks the checksum, so a missing or altered file is a
clear error naming the fix instead of a silently different benchmark.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

from toolmaker.settings import get_settings

GITHUB_RAW = "https://raw.githubusercontent.com"
FETCH_COMMAND = "toolmaker data fetch"
_BESIDE_THE_CLONE = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


class DatasetError(RuntimeError):
    """A dataset file is missing or not the published bytes, or a file of one's own items is malformed."""


@dataclass(frozen=True)
class Upstream:
    """A public repository at the commit the files were taken from."""

    repo: str
    commit: str


@dataclass(frozen=True)
class Published:
    """Where one dataset file was published, and its SHA-256."""

    upstream: Upstream
    path: str
    sha256: str

    def url(self, mirror: str = GITHUB_RAW) -> str:
        """The file's address under a raw-file host laid out as ``REPO/COMMIT/PATH``."""
        return f"{mirror.rstrip('/')}/{self.upstream.repo}/{self.upstream.commit}/{self.path}"


def _read_manifest() -> dict[str, Published]:
    text = resources.files("toolmaker").joinpath("dataset_sources.txt").read_text(encoding="utf-8")
    manifest: dict[str, Published] = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            sha256, relative, source = line.split()
            repo_at_commit, _, path = source.partition(":")
            repo, _, commit = repo_at_commit.partition("@")
            manifest[relative] = Published(Upstream(repo, commit), path, sha256)
    return manifest


MANIFEST = _read_manifest()
"""Every file the loaders read, by its path under :func:`datasets_dir`."""

FileState = Literal["ok", "missing", "altered"]


def datasets_dir() -> Path:
    """The folder the datasets are read from and fetched into.

    ``TOOLMAKER_DATASETS_DIR`` if set; else ``../shared/datasets`` beside the clone when it
    exists (CI and the developers' machines); else ``datasets`` under the data directory.
    """
    settings = get_settings()
    if settings.datasets_dir is not None:
        return settings.datasets_dir
    return _BESIDE_THE_CLONE if _BESIDE_THE_CLONE.is_dir() else settings.data_dir / "datasets"


def _sha256(path: Path) -> str:
    stat = path.stat()
    return _cached_sha256(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=256)
def _cached_sha256(path: str, _mtime_ns: int, _size: int) -> str:
    # Keyed on mtime and size too, so a rewritten file is hashed again.
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def file_state(relative: str, root: Path | None = None) -> FileState:
    """Whether a manifest file under ``root`` is present with its published bytes."""
    path = (root or datasets_dir()) / relative
    if not path.is_file():
        return "missing"
    return "ok" if _sha256(path) == MANIFEST[relative].sha256 else "altered"


def dataset_file(relative: str) -> Path:
    """The verified path of a dataset file, e.g. ``tool_transfer/transfer_300.jsonl``.

    Raises:
        DatasetError: The file is not in the manifest, is missing, or its SHA-256 differs.
    """
    if relative not in MANIFEST:
        raise DatasetError(f"{relative} is not a known dataset file")
    root = datasets_dir()
    path = root / relative
    state = file_state(relative, root)
    if state == "missing":
        raise DatasetError(
            f"dataset file {path} is missing: run `{FETCH_COMMAND}` to download it from its upstream "
            "repository, or set TOOLMAKER_DATASETS_DIR to a folder that has it"
        )
    if state == "altered":
        raise DatasetError(
            f"{path} has sha256 {_sha256(path)}, expected {MANIFEST[relative].sha256}: "
            f"run `{FETCH_COMMAND}` to replace it with the published bytes"
        )
    return path


def selected(prefixes: Iterable[str] = ()) -> list[str]:
    """Manifest files whose relative path starts with one of ``prefixes`` (all for none)."""
    wanted = tuple(prefixes)
    return [name for name in MANIFEST if not wanted or name.startswith(wanted)]


def fetch(
    names: Iterable[str],
    root: Path,
    *,
    mirror: str = GITHUB_RAW,
    timeout_s: float = 60.0,
    on_file: Callable[[str, str], None] = lambda name, outcome: None,
) -> dict[str, str]:
    """Download manifest files into ``root``, each checked before it takes its place.

    A file already present with the right bytes is kept. A download that fails or has
    other bytes leaves the old file (if any) untouched and does not stop the others.

    Returns:
        Per file: ``"present"``, ``"fetched"``, or the reason it could not be fetched.
    """
    outcomes: dict[str, str] = {}
    for name in names:
        published = MANIFEST[name]
        if file_state(name, root) == "ok":
            outcome = "present"
        else:
            outcome = _download(published, root / name, mirror, timeout_s)
        outcomes[name] = outcome
        on_file(name, outcome)
    _write_sums(root)
    return outcomes


def _download(published: Published, target: Path, mirror: str, timeout_s: float) -> str:
    url = published.url(mirror)
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        digest = hashlib.sha256()
        with os.fdopen(descriptor, "wb") as stream, urllib.request.urlopen(url, timeout=timeout_s) as reply:
            while chunk := reply.read(1 << 20):
                digest.update(chunk)
                stream.write(chunk)
        if digest.hexdigest() != published.sha256:
            return f"{url} has sha256 {digest.hexdigest()}, expected {published.sha256}; kept nothing"
        os.replace(partial, target)
        return "fetched"
    except OSError as exc:  # URLError and HTTPError are OSErrors
        return f"cannot download {url}: {exc}"
    finally:
        Path(partial).unlink(missing_ok=True)


def _write_sums(root: Path) -> None:
    # The folder then describes itself: `sha256sum -c SHA256SUMS` works in it, as in ../shared.
    # Only files that are there with their published bytes are listed, so a partial fetch
    # (`--only`) checks clean instead of listing every file not asked for as missing.
    sums = "".join(
        f"{published.sha256}  ./{name}\n"
        for name, published in sorted(MANIFEST.items())
        if file_state(name, root) == "ok"
    )
    target = root / "SHA256SUMS"
    if not target.is_file() or target.read_text(encoding="utf-8") != sums:
        target.write_text(sums, encoding="utf-8")
