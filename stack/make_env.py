"""Create .env from .env.example on first run, with fresh random secrets where it says "generated";
on later runs, add the settings a newer .env.example introduced (existing values are kept, except
an INTERNAL_API_URL that points at the public port, which the internal API has left)."""

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
    _forget_public_internal_url(target)
    present = {line.split("=", 1)[0] for line in target.read_text().splitlines() if "=" in line}
    missing = [
        line for line in lines if "=" in line and not line.startswith("#") and line.split("=", 1)[0] not in present
    ]
    if missing:
        with target.open("a") as handle:
            handle.write("\n".join(missing) + "\n")
        print("added to .env: " + ", ".join(line.split("=", 1)[0] for line in missing))


def _forget_public_internal_url(target: Path) -> None:
    """Empty INTERNAL_API_URL if it is the old default (the public port): it now means "the internal listener"."""
    lines = target.read_text().splitlines()
    values = dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))
    stale = f"http://127.0.0.1:{values.get('PORT', '').strip() or '8000'}"
    if values.get("INTERNAL_API_URL", "").strip().rstrip("/") != stale:
        return
    target.write_text(
        "\n".join("INTERNAL_API_URL=" if line.startswith("INTERNAL_API_URL=") else line for line in lines) + "\n"
    )
    print("INTERNAL_API_URL in .env pointed at the public port; emptied (the internal API has its own port)")


if __name__ == "__main__":
    main()
