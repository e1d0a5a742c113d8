"""Rasa's server with its HTTP API behind JWTs whose secret comes from the environment, never the command line.

`rasa run --auth-token X` or `--jwt-secret X` would put the secret in /proc/<pid>/cmdline, which
every local user can read. This wrapper runs Rasa's own CLI (`rasa run` and its arguments, as
given here) after setting the secret on the parsed arguments. Run it with .venv-rasa's Python:
`python stack/rasa_server.py --model … --endpoints … --port …`. The worker signs its JWTs with the
same secret (intake/assistant.py). Turns fail loudly (stack/rasa_strict.py). rasa is imported only
inside main().
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

SECRET_ENV = "RASA_API_TOKEN"
MIN_SECRET_LENGTH = 32  # an HS256 key at least as long as the hash (RFC 7518 3.2); as intake.settings
REFUSED_ARGUMENTS = ("--auth-token", "--jwt-secret", "--jwt-private-key")


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if any(a.split("=", 1)[0] in REFUSED_ARGUMENTS for a in args):
        print(f"secrets are read from {SECRET_ENV}, never from the command line", file=sys.stderr)
        return 2
    # Taken out of the environment so nothing Rasa starts inherits it.
    secret = os.environ.pop(SECRET_ENV, "")
    if len(secret) < MIN_SECRET_LENGTH:
        print(f"{SECRET_ENV} must be set to at least {MIN_SECRET_LENGTH} characters", file=sys.stderr)
        return 2

    import rasa.__main__
    import rasa.cli.run

    run = rasa.cli.run.run

    def run_with_jwt(parsed: argparse.Namespace) -> None:
        _apply_action_timeout(parsed.endpoints)
        _install_strict_turns()
        # The HTTP API is on (the worker's stateless /model/parse) and only a signed JWT opens it.
        parsed.enable_api = True
        parsed.auth_token = None
        parsed.jwt_secret = secret
        parsed.jwt_method = "HS256"
        run(parsed)

    # `rasa run` looks this function up when Rasa's CLI builds its parser, inside main().
    rasa.cli.run.run = run_with_jwt
    sys.argv = ["rasa", "run", *args]
    rasa.__main__.main()
    return 0


def _install_strict_turns() -> None:
    """A turn whose tracker cannot be read or saved answers 503, never a blank tracker (stack/rasa_strict.py)."""
    # Run as a script, this file's folder is on sys.path, not the repository holding the package.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from stack import rasa_strict

    rasa_strict.install()


def _apply_action_timeout(endpoints_path: str | None) -> None:
    """Wait `timeout` seconds for an action (bot/endpoints.yml, action_endpoint), not Rasa's fixed 300.

    Rasa 3.6 keeps unknown keys of an endpoint and ignores them; RemoteAction reads this module
    constant on every call, so setting it here bounds each action's run."""
    import rasa.core.actions.action
    from rasa.core.utils import AvailableEndpoints

    action = AvailableEndpoints.read_endpoints(endpoints_path).action if endpoints_path else None
    timeout = action.kwargs.get("timeout") if action is not None else None
    if timeout is None:
        return
    try:
        seconds = float(timeout)
    except ValueError:
        raise SystemExit(f"action_endpoint timeout must be a number of seconds, got {timeout!r}") from None
    if seconds <= 0:
        raise SystemExit("action_endpoint timeout must be more than 0 seconds")
    rasa.core.actions.action.DEFAULT_REQUEST_TIMEOUT = seconds


if __name__ == "__main__":
    sys.exit(main())
