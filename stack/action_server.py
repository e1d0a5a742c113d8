"""The action server: rasa_sdk's app on loopback, refusing every call but /health without Rasa's shared secret.

rasa_sdk 3.6 has no authentication of its own, so this wrapper builds its Sanic app and adds a
request middleware. Run it with .venv-rasa's Python from the repository root (`python
stack/action_server.py --port 5055`); the secret comes from ACTION_SERVER_TOKEN in the
environment, never from the command line. It lives outside actions/ because the action server
imports every module there. rasa_sdk is imported only inside main(), so the app's environment
can import this module (the tests do).
"""

from __future__ import annotations

import argparse
import hmac
import os
import sys
from typing import Any

SECRET_ENV = "ACTION_SERVER_TOKEN"
MIN_SECRET_LENGTH = 16  # as intake.settings requires
# /health: intake checks it before each turn, and it answers only {"status": "ok"}. /health/intake:
# whether this server reaches intake's internal API with its token (intake's /readyz and the
# launcher ask it), answered from a cache so an open path cannot make it call intake often.
OPEN_PATHS = frozenset({"/health", "/health/intake"})
INTAKE_CHECK_CACHE_S = 5.0


def authorized(header: str | None, secret: str) -> bool:
    """True if `header` is `Bearer <secret>`, compared in constant time."""
    presented = (header or "").removeprefix("Bearer ").strip()
    return bool(secret) and hmac.compare_digest(presented.encode(), secret.encode())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5055)
    parser.add_argument("--actions", default="actions")
    args = parser.parse_args(argv)
    # Taken out of the environment so no action (or anything it starts) can read it.
    secret = os.environ.pop(SECRET_ENV, "")
    if len(secret) < MIN_SECRET_LENGTH:
        print(f"{SECRET_ENV} must be set to at least {MIN_SECRET_LENGTH} characters", file=sys.stderr)
        return 2
    # Loopback unless told otherwise (a container on a private network sets SANIC_HOST=0.0.0.0).
    host = os.environ.get("SANIC_HOST", "127.0.0.1")
    sys.path.insert(0, os.getcwd())  # the actions package is at the repository root

    from rasa_sdk import utils
    from rasa_sdk.endpoint import create_app
    from rasa_sdk.plugin import plugin_manager
    from sanic import response

    utils.configure_colored_logging("INFO")
    utils.update_sanic_log_level()
    # No CORS origins: nothing but Rasa, server to server, calls this.
    app = create_app(args.actions, cors_origins=None)

    @app.middleware("request")
    async def require_secret(request: Any) -> Any:
        if request.method == "GET" and request.path in OPEN_PATHS:
            return None
        if not authorized(request.headers.get("Authorization"), secret):
            return response.json({"error": "unauthorized"}, status=401)
        return None

    import asyncio
    import time

    from actions.intake_client import reach_intake

    checked: dict[str, Any] = {"at": float("-inf"), "answer": None}
    asking = asyncio.Lock()  # callers arriving together share one call to intake

    @app.get("/health/intake")
    async def health_intake(request: Any) -> Any:
        async with asking:
            if time.monotonic() - checked["at"] > INTAKE_CHECK_CACHE_S:
                checked["answer"] = await asyncio.to_thread(reach_intake)
                checked["at"] = time.monotonic()
            answer = checked["answer"]
        return response.json(answer, status=200 if answer["intake"] == "ok" else 503)

    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    app.run(host, args.port, workers=1, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
