"""Where the project keeps its environments, model and runtime files."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
APP_VENV = Path(os.environ.get("LC_APP_VENV", ROOT / ".venv"))
RASA_VENV = Path(os.environ.get("LC_RASA_VENV", ROOT / ".venv-rasa"))
MODELS = ROOT / "models"
MODEL_NAME = "lineaciudadana"
MODEL = MODELS / f"{MODEL_NAME}.tar.gz"


def app_bin(name: str) -> str:
    return str(APP_VENV / "bin" / name)


def rasa_bin(name: str = "rasa") -> str:
    return str(RASA_VENV / "bin" / name)
