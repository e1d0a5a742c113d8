"""Training: one trainer at a time, and the model file replaced whole, never seen half-written."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from stack import train


def test_two_callers_train_once_and_the_model_appears_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    models = tmp_path / "models"
    models.mkdir()
    model = models / "lineaciudadana.tar.gz"
    model.write_bytes(b"old model")
    calls = tmp_path / "calls"
    # A stand-in for `rasa train`: slow, writing its output in two parts, as a real one does.
    fake = tmp_path / "rasa"
    fake.write_text(
        "#!/bin/sh\n"
        f'echo x >> "{calls}"\n'
        'out=$(echo "$@" | sed -E "s/.*--out ([^ ]+).*/\\1/")\n'
        'printf "new " > "$out/lineaciudadana.tar.gz"; sleep 1; printf "model" >> "$out/lineaciudadana.tar.gz"\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr(train, "MODELS", models)
    monkeypatch.setattr(train, "MODEL", model)
    monkeypatch.setattr(train, "ROOT", tmp_path)
    monkeypatch.setattr(train, "rasa_bin", lambda name="rasa": str(fake))
    monkeypatch.setattr(train, "fingerprint", lambda: "inputs-1")
    monkeypatch.setattr(train, "ensure_category_model", lambda quiet=False: models / "categories.joblib")

    seen: set[bytes] = set()
    done = threading.Event()

    def watch() -> None:  # what a Rasa server loading the model meanwhile would read
        while not done.is_set():
            seen.add(model.read_bytes())

    watcher = threading.Thread(target=watch)
    watcher.start()
    callers = [threading.Thread(target=train.ensure_model, kwargs={"quiet": True}) for _ in range(2)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    done.set()
    watcher.join()

    assert calls.read_text().count("x") == 1  # the second caller found it trained
    assert model.read_bytes() == b"new model" and seen <= {b"old model", b"new model"}
    assert (models / ".fingerprint").read_text() == "inputs-1"
    assert not list(models.glob(".training-*"))  # the staging directory is gone
