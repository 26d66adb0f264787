import pytest

from toolmaker.settings import get_settings


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path, monkeypatch):
    """Every test gets its own registry file; the user's is never touched."""
    monkeypatch.setenv("TOOLMAKER_DATA_DIR", str(tmp_path / "toolmaker-data"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
