"""The dialogue's test stories (tests/stories) pass `rasa test core` and cover every intent and rule.

The stories are written as the tracker sees a conversation: intents with only the entities the
worker forwards (`option`, `reference`), and the slot events the custom actions would return.
`rasa test core` runs no custom action: it replays the stories' events and compares the actions
the policies predict with the stories' actions.

The model is the one CI uses: `stack.train.ensure_model()` trains it into models/ only when config,
domain or data changed. To test another model without training (for instance while models/ is
being retrained), set STORIES_MODEL to its path, absolute or relative to the repository:

    STORIES_MODEL=var/stories-model/stories.tar.gz .venv/bin/pytest tests/conversation
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from intake.to_assistant import FORWARDED_ENTITIES
from stack.paths import ROOT, rasa_bin
from stack.rasa_yaml import DOMAIN, domain_intents, read
from stack.train import ensure_model

STORIES = ROOT / "tests" / "stories"
RULES = ROOT / "data" / "rules"
RASA_TEST_TIMEOUT_S = 1800
FALLBACK_INTENT = "nlu_fallback"  # the FallbackClassifier's, not the domain's
ANSI = re.compile(r"\x1b\[[0-9;]*m")
NO_FAILURES = "None of the test stories failed"


@dataclass(frozen=True)
class Step:
    kind: str  # intent | action | active_loop | slot_was_set
    value: Any  # the intent's or action's name, the loop (None: none), or {slot: value}
    loop: str | None  # the loop active when the step happens
    entities: tuple[str, ...] = ()


@dataclass(frozen=True)
class Story:
    source: str
    name: str
    steps: tuple[Step, ...]

    def sequence(self) -> list[tuple[str, Any]]:
        """Intents, actions and loop changes in order (what a rule's steps are matched against)."""
        return [(s.kind, s.value) for s in self.steps if s.kind != "slot_was_set"]

    def loops(self) -> list[str | None]:
        return [s.loop for s in self.steps if s.kind != "slot_was_set"]


@dataclass(frozen=True)
class StoryRun:
    model: Path
    out: Path
    returncode: int
    output: str
    failure: str  # empty when every story passed


def _step(raw: dict[str, Any], loop: str | None) -> Step:
    if "intent" in raw:
        entities = tuple(key for entity in raw.get("entities") or [] for key in entity)
        return Step("intent", raw["intent"], loop, entities)
    if "action" in raw:
        return Step("action", raw["action"], loop)
    if "active_loop" in raw:
        return Step("active_loop", raw["active_loop"], loop)
    if "slot_was_set" in raw:
        return Step("slot_was_set", {k: v for pair in raw["slot_was_set"] for k, v in pair.items()}, loop)
    raise ValueError(f"unexpected step {raw!r}")


def parse_steps(raw_steps: list[dict[str, Any]], loop: str | None = None) -> tuple[Step, ...]:
    steps = []
    for raw in raw_steps:
        step = _step(raw, loop)
        steps.append(step)
        if step.kind == "active_loop":
            loop = step.value
    return tuple(steps)


def rule_condition(rule: dict[str, Any]) -> tuple[bool, str | None]:
    """(whether the rule has an active_loop condition, that loop or None)."""
    for condition in rule.get("condition") or []:
        if "active_loop" in condition:
            return True, condition["active_loop"]
    return False, None


@pytest.fixture(scope="module")
def parsed() -> dict[str, Any]:
    stories = [
        Story(path.name, story["story"], parse_steps(story["steps"]))
        for path in sorted(STORIES.glob("*.yml"))
        for story in read(path).get("stories") or []
    ]
    rules = [rule for path in sorted(RULES.glob("*.yml")) for rule in read(path).get("rules") or []]
    return {"domain": read(DOMAIN), "stories": stories, "rules": rules}


@pytest.fixture(scope="module")
def stories(parsed: dict[str, Any]) -> list[Story]:
    assert parsed["stories"], f"no test stories in {STORIES}"
    return parsed["stories"]


def test_every_domain_intent_is_in_a_story(parsed: dict[str, Any], stories: list[Story]) -> None:
    used = {step.value for story in stories for step in story.steps if step.kind == "intent"}
    missing = [intent for intent in [*domain_intents(parsed["domain"]), FALLBACK_INTENT] if intent not in used]
    assert not missing, f"intents no test story uses: {missing}"


def test_every_rule_first_intent_is_in_a_story(parsed: dict[str, Any], stories: list[Story]) -> None:
    """Each rule's first intent, in the loop state its condition asks for (outside a form if none:
    inside one the form takes the turn unless it rejects it)."""
    seen = {(s.value, s.loop) for story in stories for s in story.steps if s.kind == "intent"}
    missing = []
    for rule in parsed["rules"]:
        first = rule["steps"][0]
        if "intent" not in first:
            continue
        _, loop = rule_condition(rule)
        if (first["intent"], loop) not in seen:
            missing.append(f"{rule['rule']}: {first['intent']} with active_loop {loop}")
    assert not missing, "rules whose first intent no test story has:\n" + "\n".join(missing)


def _plays(story: Story, sequence: list[tuple[str, Any]], has_condition: bool, loop: str | None) -> bool:
    events, loops = story.sequence(), story.loops()
    for start in range(len(events) - len(sequence) + 1):
        if events[start : start + len(sequence)] == sequence and (not has_condition or loops[start] == loop):
            return True
    return False


def test_every_rule_is_played_whole_by_a_story(parsed: dict[str, Any], stories: list[Story]) -> None:
    """Every rule's steps (intents, actions, loop changes; slot events aside) appear in a row in a story."""
    missing = []
    for rule in parsed["rules"]:
        has_condition, loop = rule_condition(rule)
        sequence = [(s.kind, s.value) for s in parse_steps(rule["steps"], loop) if s.kind != "slot_was_set"]
        if not any(_plays(story, sequence, has_condition, loop) for story in stories):
            missing.append(rule["rule"])
    assert not missing, f"rules no test story plays: {missing}"


def test_stories_use_only_the_domain_names(parsed: dict[str, Any], stories: list[Story]) -> None:
    domain = parsed["domain"]
    intents = {*domain_intents(domain), FALLBACK_INTENT}
    actions = {*domain.get("actions", []), *domain.get("responses", {}), *domain.get("forms", {}), "action_listen"}
    slots = {*domain.get("slots", {}), "requested_slot"}
    loops = {*domain.get("forms", {}), None}
    wrong = []
    for story in stories:
        for step in story.steps:
            if step.kind == "intent" and step.value not in intents:
                wrong.append(f"{story.name}: intent {step.value}")
            elif step.kind == "action" and step.value not in actions:
                wrong.append(f"{story.name}: action {step.value}")
            elif step.kind == "active_loop" and step.value not in loops:
                wrong.append(f"{story.name}: loop {step.value}")
            elif step.kind == "slot_was_set":
                wrong += [f"{story.name}: slot {slot}" for slot in step.value if slot not in slots]
    assert not wrong, "\n".join(wrong)


def test_stories_carry_only_the_entities_the_worker_forwards(stories: list[Story]) -> None:
    wrong = [
        f"{story.name}: {entity}"
        for story in stories
        for step in story.steps
        for entity in step.entities
        if entity not in FORWARDED_ENTITIES
    ]
    assert not wrong, f"entities the worker never sends to Rasa ({FORWARDED_ENTITIES}):\n" + "\n".join(wrong)


def test_story_names_are_unique(stories: list[Story]) -> None:
    names = [story.name for story in stories]
    assert len(names) == len(set(names)), sorted({n for n in names if names.count(n) > 1})


def resolve_model() -> Path:
    """STORIES_MODEL if set (no training), else the project's model, trained if its inputs changed."""
    override = os.environ.get("STORIES_MODEL")
    if not override:
        return ensure_model(quiet=True)
    path = Path(override) if Path(override).is_absolute() else ROOT / override
    if not path.is_file():
        pytest.fail(f"STORIES_MODEL={override}: no such model file")
    return path


def run_rasa_test(model: Path, out: Path, fail_on_errors: bool) -> subprocess.CompletedProcess[str]:
    command = [
        rasa_bin(),
        "test",
        "core",
        "--model",
        str(model),
        "--stories",
        str(STORIES),
        "--out",
        str(out),
        "--no-plot",
    ]
    if fail_on_errors:
        command.append("--fail-on-prediction-errors")
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=RASA_TEST_TIMEOUT_S,
        check=False,
    )


def failed_stories(out: Path) -> str:
    """failed_test_stories.yml as Rasa wrote it ('' if there is none or nothing failed)."""
    path = out / "failed_test_stories.yml"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    return "" if NO_FAILURES in text else text


def describe_failure(model: Path, out: Path, output: str, returncode: int) -> str:
    """The first failed story (what --fail-on-prediction-errors stops at), then all of them.

    --fail-on-prediction-errors stops at the first wrong prediction without writing results, so
    the stories are run once more without it to list every failed story.
    """
    parts = [f"rasa test core failed (exit {returncode}) with {model}"]
    first = output.split("WrongPredictionException:", 1)
    parts.append(first[1].strip()[:4000] if len(first) == 2 else output[-4000:])
    everything = out / "all"
    rerun = run_rasa_test(model, everything, fail_on_errors=False)
    listed = failed_stories(everything) or failed_stories(out)
    if listed:
        parts.append(f"every failed story ({everything / 'failed_test_stories.yml'}):\n{listed[:12000]}")
    elif rerun.returncode != 0:
        parts.append(ANSI.sub("", rerun.stdout)[-2000:])
    return "\n\n".join(parts)


@pytest.fixture(scope="module")
def story_run(tmp_path_factory: pytest.TempPathFactory) -> StoryRun:
    model = resolve_model()
    out = tmp_path_factory.mktemp("stories-results")
    result = run_rasa_test(model, out, fail_on_errors=True)
    output = ANSI.sub("", result.stdout)
    failure = ""
    if result.returncode != 0 or failed_stories(out):
        failure = describe_failure(model, out, output, result.returncode)
    return StoryRun(model, out, result.returncode, output, failure)


def test_every_story_passes(story_run: StoryRun, stories: list[Story]) -> None:
    if story_run.failure:
        pytest.fail(story_run.failure, pytrace=False)
    report = json.loads((story_run.out / "story_report.json").read_text(encoding="utf-8"))
    conversations = report["conversation_accuracy"]
    assert conversations["total"] == len(stories), (
        f"rasa test core evaluated {conversations['total']} stories; tests/stories has {len(stories)}. "
        "Rasa drops a story whose dialogue states equal another's (entity values and slots that do not "
        "influence the conversation are not part of a state): make it differ, or remove it."
    )
    assert conversations["correct"] == conversations["total"], story_run.output[-4000:]
