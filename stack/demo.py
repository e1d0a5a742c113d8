"""First-start helpers for `make run`: is the registry still empty?"""

from __future__ import annotations

from dotenv import load_dotenv

from stack.paths import ROOT


def registry_is_empty() -> bool:
    load_dotenv(ROOT / ".env")
    from intake.registry import counts
    from intake.runtime import runtime

    return counts(runtime().engine).households == 0
