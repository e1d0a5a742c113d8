"""The production overlay rendered by kubectl's kustomize, as Kubernetes objects (dicts)."""

from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache
from typing import Any

import yaml

from stack.paths import ROOT

OVERLAY = ROOT / "deploy" / "k8s" / "overlays" / "production"
KUBECTL = ROOT / "var" / "tools" / "bin" / "kubectl"  # scripts/install-kubectl (make test runs it)

Obj = dict[str, Any]


def kubectl() -> str:
    if KUBECTL.exists():
        return str(KUBECTL)
    found = shutil.which("kubectl")
    if found is None:
        raise AssertionError("no kubectl: run scripts/install-kubectl (make test does)")
    return found


@lru_cache(maxsize=1)
def _render() -> str:
    done = subprocess.run([kubectl(), "kustomize", str(OVERLAY)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def objects() -> list[Obj]:
    return [doc for doc in yaml.safe_load_all(_render()) if doc]


def of_kind(kind: str) -> dict[str, Obj]:
    return {o["metadata"]["name"]: o for o in objects() if o["kind"] == kind}


def containers(workload: Obj) -> list[Obj]:
    spec = workload["spec"]["template"]["spec"]
    return list(spec.get("initContainers", [])) + list(spec["containers"])
