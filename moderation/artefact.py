"""Saving and loading a trained model: ``models/<version>/`` with a manifest.

The manifest records library versions, data sources, metrics, thresholds and
the sha256 of ``model.joblib``; loading checks that hash before unpickling, so
a tampered or truncated artefact is refused instead of executed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import re
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import sklearn
from sklearn.exceptions import InconsistentVersionWarning

from .errors import ModelError, ModelIntegrityError
from .model import ModerationModel

__all__ = ["LoadedModel", "save_model", "load_model", "sha256_file", "read_current",
           "write_current", "sha256_bytes", "FORMAT", "MODEL_FILE", "MANIFEST_FILE", "CURRENT_FILE"]

log = logging.getLogger(__name__)
MODEL_FILE = "model.joblib"
MANIFEST_FILE = "manifest.json"
CURRENT_FILE = "CURRENT"
# How ``model.joblib`` is serialised. "pickle" (plain pickle protocol 5) loads
# through the C unpickler, several times faster than joblib's pure-Python one;
# manifests without a format are older joblib-compressed artefacts.
FORMAT = "pickle"
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class LoadedModel:
    """A model together with its manifest."""

    model: ModerationModel
    manifest: dict[str, Any]

    @property
    def version(self) -> str:
        """The model version, as named by its folder."""
        return str(self.manifest["version"])

    def thresholds(self) -> dict[str, dict[str, float]]:
        """Per-category ``flag_at`` / ``reject_at`` chosen at training time."""
        return {c: dict(t) for c, t in self.manifest["thresholds"].items()}


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of bytes."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_version(version: str) -> str:
    if not _VERSION.match(version):
        raise ModelError(f"invalid model version {version!r}: use letters, digits, '.', '_', '-'")
    return version


def save_model(model: ModerationModel, manifest: dict[str, Any], models_dir: Path,
               version: str) -> Path:
    """Write ``models_dir/version`` atomically: a crash leaves no partial folder."""
    target = Path(models_dir) / _check_version(version)
    if target.exists():
        raise ModelError(f"model version {version} already exists in {models_dir}")
    Path(models_dir).mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{version}.", dir=models_dir))
    staging.chmod(0o755)  # mkdtemp makes it private; a model folder is readable by all
    try:
        data = pickle.dumps(model, protocol=5)
        (staging / MODEL_FILE).write_bytes(data)
        full = dict(manifest, version=version, format=FORMAT, sha256=sha256_bytes(data),
                    size_bytes=len(data))
        (staging / MANIFEST_FILE).write_text(json.dumps(full, indent=2, sort_keys=True) + "\n")
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def write_current(models_dir: Path, version: str) -> None:
    """Point ``CURRENT`` at ``version`` (atomic rename)."""
    _check_version(version)
    tmp = Path(models_dir) / f".{CURRENT_FILE}.tmp"
    tmp.write_text(version + "\n")
    os.replace(tmp, Path(models_dir) / CURRENT_FILE)


def read_current(models_dir: Path) -> str:
    """The version named by ``CURRENT``."""
    path = Path(models_dir) / CURRENT_FILE
    try:
        return _check_version(path.read_text().strip())
    except FileNotFoundError:
        raise ModelError(f"no {CURRENT_FILE} file in {models_dir}: train a model with "
                         "'moderation train' or set MODERATION_MODELS_DIR") from None


def load_model(models_dir: Path, version: str | None = None) -> LoadedModel:
    """Load a version (default: ``CURRENT``) after verifying its sha256."""
    version = _check_version(version) if version else read_current(models_dir)
    folder = Path(models_dir) / version
    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_text())
    except FileNotFoundError:
        raise ModelError(f"model {version} not found in {models_dir}") from None
    except json.JSONDecodeError as exc:
        raise ModelError(f"model {version}: manifest is not valid JSON: {exc}") from None
    artefact = folder / MODEL_FILE
    if not artefact.is_file():
        raise ModelError(f"model {version}: {MODEL_FILE} is missing")
    data = artefact.read_bytes()  # read once: hashed, then unpickled from memory
    actual = sha256_bytes(data)
    if actual != manifest.get("sha256"):
        raise ModelIntegrityError(
            f"model {version}: sha256 of {MODEL_FILE} is {actual}, manifest says "
            f"{manifest.get('sha256')}; refusing to load it")
    with warnings.catch_warnings(record=True) as caught:
        # Unpickling across scikit-learn releases warns; say it once, plainly.
        warnings.simplefilter("always", InconsistentVersionWarning)
        model = pickle.loads(data) if manifest.get("format") == FORMAT else joblib.load(artefact)
    if any(issubclass(w.category, InconsistentVersionWarning) for w in caught):
        log.warning("model %s was trained with scikit-learn %s but %s is installed; "
                    "retrain it if scores look wrong", version,
                    manifest.get("libraries", {}).get("scikit-learn"), sklearn.__version__)
    if not isinstance(model, ModerationModel):
        raise ModelError(f"model {version}: {MODEL_FILE} does not hold a ModerationModel")
    return LoadedModel(model=model, manifest=manifest)
