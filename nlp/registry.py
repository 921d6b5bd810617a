"""Model versions under models/: where files live, checksums, the production pointer.

Layout: ``models/<task>/<version>/{model.skops, manifest.json, metrics.json,
MODEL_CARD.md}`` and ``models/registry.json`` naming the production version of each
task. A model is loaded only if its SHA-256 matches the manifest, and skops is told to
trust only the scikit-learn, NumPy and SciPy types the manifest lists.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import skops.io as sio

MODEL_FILE = "model.skops"
TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.")


class ModelError(Exception):
    """A model is missing or cannot be trusted; the message says which and why."""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_registry(models_dir: str | Path) -> dict:
    path = Path(models_dir) / "registry.json"
    if not path.exists():
        raise ModelError(f"{path} does not exist: train a model first with `tsur train`")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ModelError(f"{path} is not valid JSON: {error}") from None


def write_registry(models_dir: str | Path, registry: dict) -> None:
    path = Path(models_dir) / "registry.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(registry, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def production_versions(models_dir: str | Path) -> dict[str, str]:
    return dict(read_registry(models_dir).get("production", {}))


def versions(models_dir: str | Path, task: str) -> list[str]:
    folder = Path(models_dir) / task
    if not folder.exists():
        return []
    return sorted((p.name for p in folder.iterdir() if (p / "manifest.json").exists()), key=_version_order)


def _version_order(version: str) -> tuple:
    """«20261123.10» after «20261123.9»: numbers compare as numbers."""
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


def new_version(models_dir: str | Path, task: str, now: datetime) -> str:
    """«<UTC date>.<n>», n one more than the highest of that day: a newer version
    always sorts after the older ones, even when some in between were deleted."""
    stem = now.astimezone(UTC).strftime("%Y%m%d")
    taken = [v for v in versions(models_dir, task) if v.startswith(f"{stem}.")]
    return f"{stem}.{max((_version_order(v)[1] for v in taken), default=0) + 1}"


def save_model(folder: Path, obj, manifest: dict) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / MODEL_FILE
    sio.dump(obj, path, compression=zipfile.ZIP_DEFLATED, compresslevel=6)
    untrusted = sio.get_untrusted_types(file=path)
    manifest = {**manifest, "sha256": sha256(path), "trusted_types": sorted(untrusted)}
    (folder / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return manifest


def load_model(folder: Path):
    """Load a model after checking its checksum and the types it asks to trust."""
    manifest_path = folder / "manifest.json"
    path = folder / MODEL_FILE
    if not manifest_path.exists() or not path.exists():
        raise ModelError(f"model {folder} is incomplete: expected {MODEL_FILE} and manifest.json")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    actual = sha256(path)
    if actual != manifest.get("sha256"):
        raise ModelError(
            f"checksum mismatch for {path}: manifest says {manifest.get('sha256')}, file has "
            f"{actual}. The file was changed or damaged; retrain or restore it."
        )
    trusted = manifest.get("trusted_types", [])
    foreign = [t for t in trusted if not t.startswith(TRUSTED_PREFIXES)]
    if foreign:
        raise ModelError(f"{path} asks to trust unexpected types {foreign}; refusing to load")
    unexpected = set(sio.get_untrusted_types(file=path)) - set(trusted)
    if unexpected:
        raise ModelError(f"{path} holds types not listed in its manifest: {sorted(unexpected)}")
    return sio.load(path, trusted=trusted), manifest


# --- the production pointer: promote, roll back, read what a version is ----------


def read_manifest(models_dir: str | Path, task: str, version: str) -> dict:
    path = Path(models_dir) / task / version / "manifest.json"
    if not path.exists():
        raise ModelError(f"no model {task} {version} in {models_dir} (expected {path})")
    return json.loads(path.read_text(encoding="utf-8"))


def read_metrics(models_dir: str | Path, task: str, version: str) -> dict:
    """The figures `tsur train` wrote for a version ({} if none)."""
    path = Path(models_dir) / task / version / "metrics.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def production_stack(registry: dict) -> list[dict]:
    """Earlier production pointers, oldest first, as rollbacks would restore them.

    Every history entry holds the pointer that was replaced; a rollback entry undoes
    the entry before it, so rolling back twice goes back two steps.
    """
    stack: list[dict] = []
    for entry in registry.get("history", []):
        if entry.get("action") == "rollback":
            if stack:
                stack.pop()
        else:
            stack.append(dict(entry.get("production", {})))
    return stack


def promote(models_dir: str | Path, chosen: dict[str, str], now: datetime,
            by: str | None = None) -> dict[str, str]:
    """Point production at the `chosen` version of each named task; keep the old pointer
    in history. The file is replaced atomically (a reader sees the old or the new one)."""
    registry = read_registry(models_dir)
    for task, version in chosen.items():
        read_manifest(models_dir, task, version)
    old = dict(registry.get("production", {}))
    new = {**old, **chosen}
    if new == old:
        return new
    registry.setdefault("history", []).append(
        {"at": now.isoformat(), "production": old, "action": "promote", "to": new, "by": by})
    registry["production"] = new
    write_registry(models_dir, registry)
    return new


def rollback(models_dir: str | Path, now: datetime, by: str | None = None) -> dict[str, str]:
    """Put back the production pointer that the latest promotion replaced."""
    registry = read_registry(models_dir)
    stack = production_stack(registry)
    if not stack or not stack[-1]:
        raise ModelError("no earlier production version to roll back to")
    old = dict(registry.get("production", {}))
    registry.setdefault("history", []).append(
        {"at": now.isoformat(), "production": old, "action": "rollback", "to": stack[-1], "by": by})
    registry["production"] = stack[-1]
    write_registry(models_dir, registry)
    return stack[-1]
