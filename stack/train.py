"""Train the Rasa model only when its inputs changed, and the complaint-category model (`make train`)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from stack.paths import MODEL, MODEL_NAME, MODELS, ROOT, rasa_bin

INPUTS = ["config.yml", "bot/domain.yml", "data", "requirements/rasa.txt"]


def fingerprint() -> str:
    digest = hashlib.sha256()
    for name in INPUTS:
        path = ROOT / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(ROOT)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def ensure_model(quiet: bool = False) -> Path:
    """Return the Rasa model's path, training it first if config, domain or data changed; the
    category model is brought up to date first (a second, not minutes)."""
    ensure_category_model(quiet)
    stamp = MODELS / ".fingerprint"
    current = fingerprint()
    if MODEL.exists() and stamp.exists() and stamp.read_text().strip() == current:
        if not quiet:
            print(f"model is up to date: {MODEL.relative_to(ROOT)}")
        return MODEL
    print("training the Rasa model (its inputs changed)…", flush=True)
    MODELS.mkdir(exist_ok=True)
    command = [
        rasa_bin(),
        "train",
        "--domain",
        "bot/domain.yml",
        "--data",
        "data",
        "--config",
        "config.yml",
        "--out",
        str(MODELS),
        "--fixed-model-name",
        MODEL_NAME,
    ]
    log = ROOT / "var" / "rasa-train.log"
    log.parent.mkdir(exist_ok=True)
    with log.open("w") as handle:
        result = subprocess.run(command, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0 or not MODEL.exists():
        sys.exit(f"rasa train failed (exit {result.returncode}); see {log}")
    stamp.write_text(current)
    return MODEL


def ensure_category_model(quiet: bool = False) -> Path:
    """Write models/categories.joblib unless it already matches its data (intake.categories)."""
    from intake import categories

    if categories.MODEL.exists():
        try:
            import joblib

            if joblib.load(categories.MODEL).get("fingerprint") == categories.fingerprint():
                if not quiet:
                    print(f"category model is up to date: {categories.MODEL.relative_to(ROOT)}")
                return categories.MODEL
        except Exception:  # unreadable: written again below
            pass
    print("training the category model…", flush=True)
    return categories.save()


if __name__ == "__main__":
    ensure_model()
