"""Create .env from .env.example on first run, with fresh random secrets where it says "generated"."""

from __future__ import annotations

import secrets

from stack.paths import ROOT


def main() -> None:
    target = ROOT / ".env"
    if target.exists():
        return
    lines = (ROOT / ".env.example").read_text().splitlines()
    out: list[str] = []
    generate_next = False
    for line in lines:
        if line.startswith("# generated"):
            generate_next = True
        elif generate_next and line.endswith("="):
            line += secrets.token_hex(24)
            generate_next = False
        out.append(line)
    target.write_text("\n".join(out) + "\n")
    target.chmod(0o600)
    print("wrote .env with new secrets")


if __name__ == "__main__":
    main()
