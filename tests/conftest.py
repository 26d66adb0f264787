import os
from pathlib import Path
from typing import NoReturn

import pytest

from toolmaker.datasets import FETCH_COMMAND, MANIFEST, datasets_dir
from toolmaker.settings import get_settings

DATASETS = pytest.StashKey[Path]()
ABSENT = pytest.StashKey[list[str]]()


def pytest_sessionstart(session):
    # Decided once, in the environment as the user has it: the fixture below moves the data
    # directory, and with it the default datasets folder, for every test.
    root = datasets_dir()
    session.config.stash[DATASETS] = root
    session.config.stash[ABSENT] = [name for name in MANIFEST if not (root / name).is_file()]
    get_settings.cache_clear()


def unavailable(reason: str) -> NoReturn:
    """Skip a test whose data is absent; under CI, where the data must be there, fail it."""
    if os.environ.get("CI"):
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def pytest_runtest_setup(item):
    # Raised from this one place, so the skips share one line of pytest's summary.
    if item.get_closest_marker("datasets") and (absent := item.config.stash[ABSENT]):
        unavailable(
            f"needs the benchmark dataset files; {len(absent)} of {len(MANIFEST)} are missing from "
            f"{item.config.stash[DATASETS]}: run `{FETCH_COMMAND}` to download them "
            "(or set TOOLMAKER_DATASETS_DIR to a folder that has them)"
        )


@pytest.fixture(autouse=True)
def _private_data_dir(request, tmp_path, monkeypatch):
    """Every test gets its own registry file; the user's is never touched.

    Tests marked ``datasets`` read the benchmark files where the session found them; the
    others see an empty folder, so one that reads them unmarked fails everywhere, not only
    in a clone without them.
    """
    monkeypatch.setenv("TOOLMAKER_DATA_DIR", str(tmp_path / "toolmaker-data"))
    # Empty reads as unset; set through monkeypatch, a benchmark command's default is undone after.
    monkeypatch.setenv("TOOLMAKER_EMBEDDED_PROMPT_CACHE", "")
    monkeypatch.delenv("TOOLMAKER_SANDBOX", raising=False)  # tests choose their backend themselves
    marked = request.node.get_closest_marker("datasets")
    datasets = request.config.stash[DATASETS] if marked else tmp_path / "no-datasets"
    monkeypatch.setenv("TOOLMAKER_DATASETS_DIR", str(datasets))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def _unwrapped_console(monkeypatch):
    """Messages on one line: rich would wrap them wherever a temporary path's length puts the edge."""
    monkeypatch.setenv("COLUMNS", "1000")


@pytest.fixture(scope="session")
def postgres_server_url():
    """A PostgreSQL server of the tests' own, started once; skipped where its binaries are absent."""
    from tests.postgres import missing, postgres_server

    if reason := missing():
        unavailable(reason)
    with postgres_server() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_server_url):
    """The URL of an empty database of its own on the tests' PostgreSQL server."""
    from tests.postgres import new_database

    return new_database(postgres_server_url)
