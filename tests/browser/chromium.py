"""Debian's Chromium as the browser tests launch it (CHROMIUM, LAUNCH_ARGS) and where their screenshots go (SHOTS)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# Screenshots go under var/ so the suite never changes a tracked file; `make screenshots` points
# SCREENSHOTS_DIR at docs/screenshots to refresh the ones the docs show.
_ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("SCREENSHOTS_DIR") or _ROOT / "var" / "screenshots")
if not SHOTS.is_absolute():
    SHOTS = _ROOT / SHOTS
SHOTS.mkdir(parents=True, exist_ok=True)
