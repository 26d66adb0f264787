"""Dataset files: the manifest, checksums at read time, and `toolmaker data fetch/verify`.

GitHub is out of reach here, so fetching is tested against a local HTTP server laid out
like raw.githubusercontent.com (REPO/COMMIT/PATH) and filled from the datasets folder.
"""

import http.server
import json
import shutil
import threading
from pathlib import Path

import pytest

from cli import main
from tests.conftest import unavailable
from toolmaker import datasets
from toolmaker.datasets import MANIFEST, DatasetError, dataset_file, datasets_dir
from toolmaker.settings import get_settings

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
SMALL = "tool_transfer/transfer_300.jsonl"
BBH = "latm_bbh/"


@pytest.fixture
def datasets_at(monkeypatch):
    def point_to(folder: Path) -> Path:
        monkeypatch.setenv("TOOLMAKER_DATASETS_DIR", str(folder))
        get_settings.cache_clear()
        return folder

    return point_to


@pytest.fixture
def mirror(tmp_path):
    """A raw-file host serving the published files; yields (base URL, its root folder)."""
    root = tmp_path / "mirror"
    for name, published in MANIFEST.items():
        if name == SMALL or name.startswith(BBH):
            target = root / published.upstream.repo / published.upstream.commit / published.path
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(dataset_file(name), target)
    handler = lambda *args: http.server.SimpleHTTPRequestHandler(*args, directory=str(root))  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()
    server.server_close()


@pytest.mark.datasets
def test_manifest_has_the_shared_checksums_and_the_provenance_commits():
    if not SHARED.is_dir():  # a fetched folder has the files, not ../shared's provenance notes
        unavailable(f"compares the manifest with the provenance notes in {SHARED}, which does not exist")
    shared = {
        name.removeprefix("./"): digest
        for digest, name in (line.split() for line in (SHARED / "SHA256SUMS").read_text().splitlines())
    }
    assert {name: published.sha256 for name, published in MANIFEST.items()} == shared
    for name, published in MANIFEST.items():
        provenance = (SHARED / name.split("/")[0] / "PROVENANCE.md").read_text()
        assert published.upstream.commit in provenance, name
        assert published.upstream.repo in provenance, name


def test_default_folder_is_shared_beside_the_clone_if_there_else_under_the_data_dir(
    datasets_at, tmp_path, monkeypatch
):
    assert datasets._BESIDE_THE_CLONE == SHARED
    beside = tmp_path / "shared" / "datasets"
    monkeypatch.setattr(datasets, "_BESIDE_THE_CLONE", beside)
    monkeypatch.delenv("TOOLMAKER_DATASETS_DIR")
    get_settings.cache_clear()
    assert datasets_dir() == get_settings().data_dir / "datasets"
    beside.mkdir(parents=True)
    assert datasets_dir() == beside
    assert datasets_at(tmp_path / "elsewhere") == datasets_dir()


def test_missing_or_altered_file_is_a_clear_error_naming_the_fix(datasets_at, tmp_path):
    datasets_at(tmp_path)
    with pytest.raises(DatasetError, match="missing: run `toolmaker data fetch`"):
        dataset_file(SMALL)
    (tmp_path / "tool_transfer").mkdir()
    (tmp_path / SMALL).write_text("{}\n")
    with pytest.raises(DatasetError, match="expected 3e3461.*toolmaker data fetch"):
        dataset_file(SMALL)
    with pytest.raises(DatasetError, match="not a known dataset file"):
        dataset_file("tool_transfer/other.jsonl")


@pytest.mark.datasets
def test_fetch_downloads_verifies_and_keeps_what_is_already_there(datasets_at, tmp_path, mirror, capsys):
    url, root = mirror
    published = MANIFEST[SMALL]
    target = datasets_at(tmp_path / "data")
    assert main(["data", "fetch", "--mirror", url, "--only", SMALL, "--only", BBH]) == 0
    assert "11 fetched, 0 already present" in capsys.readouterr().err
    served = root / published.upstream.repo / published.upstream.commit / published.path
    assert (target / SMALL).read_bytes() == served.read_bytes()
    assert dataset_file(SMALL) == target / SMALL
    sums = (target / "SHA256SUMS").read_text()
    assert f"{MANIFEST[SMALL].sha256}  ./{SMALL}" in sums
    assert len(sums.splitlines()) == 11  # only what was fetched, so `sha256sum -c` checks clean
    # A second run asks for nothing: the server could be gone.
    assert main(["data", "fetch", "--mirror", "http://127.0.0.1:9", "--only", SMALL]) == 0
    assert "0 fetched, 1 already present" in capsys.readouterr().err


@pytest.mark.datasets
def test_altered_upstream_file_is_refused_and_the_others_still_arrive(datasets_at, tmp_path, mirror, capsys):
    url, root = mirror
    published = MANIFEST[SMALL]
    (root / published.upstream.repo / published.upstream.commit / published.path).write_text("{}\n")
    target = datasets_at(tmp_path / "data")
    (target / "tool_transfer").mkdir(parents=True)
    (target / SMALL).write_text("an older local copy\n")
    assert main(["data", "fetch", "--mirror", url, "--only", SMALL, "--only", BBH]) == 1
    err = " ".join(capsys.readouterr().err.split())  # as one line, wherever rich wrapped it
    assert "10 fetched" in err and f"not fetched {SMALL}" in err and "expected 3e3461" in err
    assert (target / SMALL).read_text() == "an older local copy\n"  # nothing lost, nothing half-written
    assert sorted(path.name for path in (target / "tool_transfer").iterdir()) == ["transfer_300.jsonl"]


def test_dead_mirror_is_a_clear_error(datasets_at, tmp_path, capsys):
    datasets_at(tmp_path)
    assert main(["data", "fetch", "--mirror", "http://127.0.0.1:9", "--only", SMALL]) == 1
    assert "cannot download http://127.0.0.1:9/qiancheng0/CREATOR/" in capsys.readouterr().err.replace(
        "\n", ""
    )


@pytest.mark.datasets
def test_verify_reports_each_file_state(datasets_at, tmp_path, capsys):
    assert main(["data", "verify", "--json"]) == 0
    assert set(json.loads(capsys.readouterr().out)["files"].values()) == {"ok"}
    (tmp_path / "tool_transfer").mkdir()
    (tmp_path / SMALL).write_text("{}\n")
    assert (
        main(
            [
                "data",
                "verify",
                "--dir",
                str(tmp_path),
                "--json",
                "--only",
                "tool_transfer/",
                "--only",
                "math/",
            ]
        )
        == 1
    )
    files = json.loads(capsys.readouterr().out)["files"]
    assert files[SMALL] == "altered" and files["math/algebra.jsonl"] == "missing" and len(files) == 15
