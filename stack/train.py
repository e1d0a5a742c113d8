"""Train the Rasa model only when its inputs changed, and the complaint-category model (`make train`)."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

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


@contextmanager
def _training_lock() -> Iterator[None]:
    """One trainer at a time: the suite and the chaos suite (and `make run`) may all ask at once.

    The second caller waits, then finds the model up to date instead of training it again over
    the first one's file while a Rasa server is loading it."""
    MODELS.mkdir(exist_ok=True)
    with (MODELS / ".train.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_model(quiet: bool = False) -> Path:
    """Return the Rasa model's path, training it first if config, domain or data changed; the
    category model is brought up to date first (a second, not minutes)."""
    with _training_lock():
        ensure_category_model(quiet)
        return _ensure_rasa_model(quiet)


def train_command(out: Path) -> list[str]:
    """`rasa train` of the bot's domain, data and config into `out` (make train; bench times it)."""
    inputs = ["--domain", "bot/domain.yml", "--data", "data", "--config", "config.yml"]
    return [rasa_bin(), "train", *inputs, "--out", str(out)]


def _ensure_rasa_model(quiet: bool) -> Path:
    stamp = MODELS / ".fingerprint"
    current = fingerprint()
    if MODEL.exists() and stamp.exists() and stamp.read_text().strip() == current:
        if not quiet:
            print(f"model is up to date: {MODEL.relative_to(ROOT)}")
        return MODEL
    print(
        "training the Rasa model (its inputs changed): about 1.5 minutes on 2 cores, once; "
        f"the model is kept in {MODEL.relative_to(ROOT)} until bot/, data/ or config.yml change",
        flush=True,
    )
    # Trained beside the model, then moved over it in one step: a Rasa server that loads the
    # model meanwhile reads the old file or the new one, never half of one.
    staging = Path(tempfile.mkdtemp(prefix=".training-", dir=MODELS))
    command = [*train_command(staging), "--fixed-model-name", MODEL_NAME]
    log = ROOT / "var" / "rasa-train.log"
    log.parent.mkdir(exist_ok=True)
    try:
        with log.open("w") as handle:
            returncode = _run_telling(command, handle, log)
        trained = staging / MODEL.name
        if returncode != 0 or not trained.exists():
            sys.exit(f"rasa train failed (exit {returncode}); see {log}")
        os.replace(trained, MODEL)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    stamp.write_text(current)
    return MODEL


TELL_EVERY_S = 20.0


def _run_telling(command: list[str], handle: IO[str], log: Path) -> int:
    """Run `rasa train` into its log, saying every TELL_EVERY_S that it is still at it (a new user
    otherwise sees nothing move for a minute and a half)."""
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT)
    while True:
        try:
            return process.wait(timeout=TELL_EVERY_S)
        except subprocess.TimeoutExpired:
            print(f"  still training ({time.monotonic() - started:.0f} s so far); its log: {log}", flush=True)


def ensure_category_model(quiet: bool = False) -> Path:
    """Write models/categories.joblib unless it already matches its data (intake.categories)."""
    from intake import categories

    if categories.saved_model()[0] is not None:
        if not quiet:
            print(f"category model is up to date: {categories.MODEL.relative_to(ROOT)}")
        return categories.MODEL
    print("training the category model…", flush=True)
    return categories.save()


if __name__ == "__main__":
    ensure_model()
