"""Create .env from .env.example on first run, with fresh random secrets where it says "generated";
on later runs, add the settings a newer .env.example introduced (existing values are kept, except
old defaults that are refused now: see _forget_old_defaults)."""

from __future__ import annotations

import secrets
from pathlib import Path

from stack.paths import ROOT


def _example_lines() -> list[str]:
    """The example's lines, with generated secrets filled in."""
    out: list[str] = []
    generate_next = False
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.startswith("# generated"):
            generate_next = True
        elif generate_next and line.endswith("="):
            line += secrets.token_hex(24)
            generate_next = False
        out.append(line)
    return out


def main() -> None:
    target = ROOT / ".env"
    lines = _example_lines()
    if not target.exists():
        target.write_text("\n".join(lines) + "\n")
        target.chmod(0o600)
        print("wrote .env with new secrets")
        return
    _forget_old_defaults(target)
    present = {line.split("=", 1)[0] for line in target.read_text().splitlines() if "=" in line}
    missing = [
        line for line in lines if "=" in line and not line.startswith("#") and line.split("=", 1)[0] not in present
    ]
    if missing:
        with target.open("a") as handle:
            handle.write("\n".join(missing) + "\n")
        print("added to .env: " + ", ".join(line.split("=", 1)[0] for line in missing))


def _forget_old_defaults(target: Path) -> None:
    """Replace values that were the defaults of an older .env.example and are refused now; a value
    the operator chose is kept (settings then say what to change)."""
    lines = target.read_text().splitlines()
    values = dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))
    port = values.get("PORT", "").strip() or "8000"
    # name: (old default, new value). INTERNAL_API_URL on the public port: the internal API has its
    # own listener now (empty means that one). RASA_TIMEOUT_S 30: the worker must outwait Rasa's
    # action timeout (ACTION_TIMEOUT_S, 60) by 10 s.
    # PUBLIC_BASE_URL on 127.0.0.1:PORT: empty now means that, and follows PORT when it changes.
    old_defaults = {
        "INTERNAL_API_URL": (f"http://127.0.0.1:{port}", ""),
        "RASA_TIMEOUT_S": ("30", "75"),
        "PUBLIC_BASE_URL": (f"http://127.0.0.1:{port}", ""),
    }
    stale = {
        name: new
        for name, (old, new) in old_defaults.items()
        if name in values and values[name].strip().rstrip("/") == old
    }
    if not stale:
        return
    target.write_text(
        "\n".join(
            f"{line.split('=', 1)[0]}={stale[line.split('=', 1)[0]]}"
            if "=" in line and not line.startswith("#") and line.split("=", 1)[0] in stale
            else line
            for line in lines
        )
        + "\n"
    )
    print("updated old defaults in .env: " + ", ".join(f"{name}={new or '(empty)'}" for name, new in stale.items()))


if __name__ == "__main__":
    main()
