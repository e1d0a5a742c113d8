"""A scripted stand-in for Rasa (Scripted) and the identity policy the conversation tests use (POLICY)."""

from __future__ import annotations

from intake.assistant import AssistantUnavailable, Parse
from intake.identity import Policy

POLICY = Policy(3, 30, 30)


class Scripted:
    """Parses every text as `intent` and replies from a script (or echoes what Rasa would get)."""

    def __init__(
        self,
        replies: list[list[str]] | None = None,
        fail: int = 0,
        intent: str = "chat",
        ranking: list[tuple[str, float]] | None = None,
    ) -> None:
        self.seen: list[tuple[str, str]] = []
        self.parsed: list[str] = []
        self.inbound_ids: list[int | None] = []  # the metadata each turn carried
        self.replies = replies or []
        self.fail = fail
        self.intent = intent
        self.ranking = ranking or []
        self.undone: list[str] = []  # the senders whose last turn was undone
        self.open_form = False  # what form_open answers

    def parse(self, text: str) -> Parse:
        self.parsed.append(text)
        return Parse(self.intent, 0.99, {"option": "2", "municipality": "secreto"}, self.ranking)

    def reply(self, sender: str, text: str, inbound_id: int | None = None) -> list[str]:
        if self.fail:
            self.fail -= 1
            raise AssistantUnavailable("down")
        self.seen.append((sender, text))
        self.inbound_ids.append(inbound_id)
        return self.replies.pop(0) if self.replies else [f"eco: {text}"]

    def undo(self, sender: str, inbound_id: int) -> None:
        self.undone.append(sender)

    def form_open(self, sender: str) -> bool:
        return self.open_form
