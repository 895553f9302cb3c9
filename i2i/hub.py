"""The Hugging Face hub's model layout: export to it, and load from its local cache.

A hub model folder (``PyTorchModelHubMixin``'s layout) holds ``model.safetensors``,
``config.json`` and ``README.md``. i2i writes ``model.safetensors`` as an i2i checkpoint that
holds the translating network(s) alone, with the same metadata header every i2i checkpoint
has, so every command that takes ``-c`` takes the folder; ``config.json`` repeats that
metadata as plain JSON (enough to rebuild the generator without i2i's reader), and
``README.md`` is the model card with the hub's YAML front matter.

Names: ``-c hf://ORG/NAME[@REVISION]`` (and ``i2i.load("ORG/NAME")``) resolve through
``huggingface_hub`` from its local cache (``$HF_HUB_CACHE``, ``$HF_HOME``) and download only
when the user allows it (``--download``, ``i2i.load(..., download=True)``);
``HF_HUB_OFFLINE=1`` forbids downloads whatever is asked. Only safetensors are read.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from i2i.errors import CheckpointError, I2IError, quoted

WEIGHTS, CONFIG, CARD = "model.safetensors", "config.json", "README.md"
HUB_NAME = re.compile(
    r"^(?:hf://)?(?P<repo>[A-Za-z0-9][\w.-]*/[\w.-]+)(?:@(?P<revision>[\w./-]+))?$"
)

_downloads = {"allowed": False}


class HubError(I2IError):
    """A hub model that cannot be found, fetched or read."""


def allow_downloads(allowed: bool) -> None:
    """Let ``hf://`` names be downloaded when they are not in the local cache."""
    _downloads["allowed"] = bool(allowed)


def is_hub_name(text: str, bare: bool = False) -> bool:
    """True for ``hf://ORG/NAME[@REV]``; with ``bare``, also ``ORG/NAME`` that is no path here."""
    if text.startswith("hf://"):
        return True
    return bare and bool(HUB_NAME.match(text)) and not Path(text).exists()


def hub_folder(name: str, download: bool | None = None, kind: str = "model") -> Path:
    """The local snapshot folder of hub model (or dataset) ``name``, from the cache (or, if
    allowed, fetched)."""
    match = HUB_NAME.match(name.replace("hf://datasets/", "hf://"))
    if not match:
        raise HubError(f"{quoted(name)} is not a hub model name; use hf://ORG/NAME[@REVISION]")
    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import LocalEntryNotFoundError
    except ImportError:
        raise HubError(
            f"loading {quoted(name)} needs huggingface_hub: pip install 'i2i[hub]'"
        ) from None
    repo, revision = match["repo"], match["revision"]
    allowed = _downloads["allowed"] if download is None else download
    patterns = ["*.parquet", "*.md"] if kind == "dataset" else [
        WEIGHTS, CONFIG, CARD, "*.safetensors", "*.bin", "*.json",
    ]  # fmt: skip
    try:
        folder = snapshot_download(
            repo,
            repo_type=kind,
            revision=revision,
            local_files_only=not allowed,
            allow_patterns=patterns,
        )
    except LocalEntryNotFoundError:
        how = (
            "allow a download with --download (i2i.load(..., download=True))"
            if not allowed
            else "HF_HUB_OFFLINE is set or the hub cannot be reached; unset it or fetch it "
            "elsewhere into $HF_HUB_CACHE"
        )
        raise HubError(
            f"hub {kind} {repo}{'@' + revision if revision else ''} is not in the local Hugging "
            f"Face cache; {how}"
        ) from None
    except Exception as error:  # the library's own errors: repository or revision not found
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise HubError(f"hub {kind} {repo}: {first}") from None
    return Path(folder)


def weights_of(folder: Path) -> Path:
    """The safetensors file of a hub-layout folder; a pickle-only folder is refused."""
    weights = folder / WEIGHTS
    if weights.is_file():
        return weights
    found = sorted(folder.glob("*.safetensors"))
    if found:
        return found[0]
    pickles = sorted(p.name for p in folder.glob("*.bin")) + sorted(
        p.name for p in folder.glob("*.pth")
    )
    if pickles:
        raise CheckpointError(
            f"{quoted(folder)} holds only pickled weights ({', '.join(pickles)}); i2i reads "
            "safetensors only from the hub: ask for model.safetensors, or convert a trusted "
            "copy with i2i convert"
        )
    raise CheckpointError(f"{quoted(folder)} holds no {WEIGHTS}")


def is_hub_folder(folder: Path) -> bool:
    """True for a folder in the hub's model layout (``config.json`` beside safetensors/pickles)."""
    return folder.is_dir() and (folder / CONFIG).is_file()


def hub_files(folder: Path) -> list[Path]:
    """The files an export writes into ``folder``."""
    return [folder / CARD, folder / CONFIG, folder / WEIGHTS]


def export_hub_folder(
    source: Path,
    outputs: Any,
    card: str,
    license: str | None = None,
    metrics: dict[str, float] | None = None,
) -> list[Path]:
    """Write ``source``'s translating network(s) into ``outputs.folder`` in the hub's layout.

    ``outputs`` is the command's :class:`~i2i.outputs.OutputFolder` (its checks and ledger).
    """
    from i2i.checkpoint import load_checkpoint, write_weights
    from i2i.evaluation.report import text_writer

    _, meta = load_checkpoint(source, prefix="\0")
    roles = {entry["role"] for entry in (meta.get("translators") or {}).values()} or {"generator"}
    tensors: dict[str, Any] = {}
    for role in sorted(roles):
        tensors.update(load_checkpoint(source, prefix=f"{role}.")[0])
    if not tensors:
        raise CheckpointError(f"{quoted(source)} holds no translating network to export")
    kept = {k: v for k, v in meta.items() if k in CONFIG_KEYS}
    recipe = meta.get("recipe") or {}
    kept["recipe"] = {
        key: recipe[key] for key in ("model", "data", "method", "provenance") if key in recipe
    }
    kept["test_mode"] = (recipe.get("log") or {}).get("sample_mode", "paper")
    kept["exported_from"] = source.name
    folder = Path(outputs.folder)
    outputs.check(hub_files(folder))
    weights = write_weights(folder / WEIGHTS, tensors, kept, outputs)
    outputs.write(folder / CONFIG, text_writer(json.dumps(kept, indent=2) + "\n"))
    outputs.write(folder / CARD, text_writer(front_matter(kept, license, metrics or {}) + card))
    return [folder / CARD, folder / CONFIG, weights]


CONFIG_KEYS = ("i2i_version", "step", "translators", "data_depth")
"""Checkpoint metadata a hub export keeps (the recipe cut to model, data, method, provenance)."""


def front_matter(meta: dict[str, Any], license: str | None, metrics: dict[str, float]) -> str:
    """The hub's YAML header of a model card: library, task, tags, dataset, metrics, license."""
    import yaml

    recipe = meta.get("recipe") or {}
    method = (recipe.get("method") or {}).get("name") or "pix2pix"
    dataset = ((recipe.get("data") or {}).get("dataset") or {}).get("name")
    header: dict[str, Any] = {
        "library_name": "i2i",
        "pipeline_tag": "image-to-image",
        "tags": ["image-to-image", method, "i2i"],
    }
    if dataset:
        header["datasets"] = [dataset]
    if metrics:
        names = [key.removeprefix("val/") for key in metrics]
        header["metrics"] = names
        header["model-index"] = [
            {
                "name": meta.get("exported_from", "i2i model"),
                "results": [
                    {
                        "task": {"type": "image-to-image"},
                        "metrics": [
                            {
                                "type": name,
                                "value": round(float(value), 6),
                                "name": f"held-out {name}",
                            }
                            for name, value in zip(names, metrics.values())
                        ],
                    }
                ],
            }
        ]
    if license:
        header["license"] = license
    return "---\n" + yaml.safe_dump(header, sort_keys=False, allow_unicode=True) + "---\n\n"


def upload_folder(folder: Path, repo: str, private: bool, message: str) -> str:
    """Create ``repo`` if needed and upload the export in ``folder``; its URL."""
    try:
        from huggingface_hub import HfApi
    except ImportError:
        raise HubError("pushing needs huggingface_hub: pip install 'i2i[hub]'") from None
    api = HfApi()
    try:
        url = api.create_repo(repo, private=private, exist_ok=True)
        api.upload_folder(
            folder_path=str(folder),
            repo_id=repo,
            commit_message=message,
            allow_patterns=[WEIGHTS, CONFIG, CARD],
        )
    except Exception as error:  # the library's own: no token, no network, no permission
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise HubError(f"upload to {repo} failed: {first}") from None
    return str(url)
