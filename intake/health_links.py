"""What an operator reads when a link of a beneficiary's path is broken: the setting, and the fix.

Plain functions, no framework: intake's /readyz and the launcher (`make run`) both say it."""

from __future__ import annotations


def explain_intake_link(reason: str, looked_at: str, own_url: str) -> str:
    """What an operator reads when the action server cannot use intake's internal API, naming the
    setting to change."""
    if reason.startswith("HTTP 401"):
        return (
            "intake refused the action server's INTERNAL_API_TOKEN: give intake and the action server "
            "the same INTERNAL_API_TOKEN (.env)"
        )
    if reason.startswith("HTTP 403"):
        return (
            f"intake refused the action server's address at {looked_at}: the internal API answers only "
            "loopback and private networks (INTERNAL_BIND)"
        )
    if reason.startswith("HTTP"):
        return (
            f"{looked_at} answered {reason}: it is not intake's internal listener. Set INTERNAL_API_URL "
            f"to it ({own_url} here), or leave INTERNAL_API_URL empty so it follows PORT"
        )
    return (
        f"the action server cannot reach INTERNAL_API_URL={looked_at} ({reason}). Set INTERNAL_API_URL "
        f"to intake's internal listener ({own_url} here), or leave it empty so it follows PORT"
    )
