"""The bot's YAML files read with PyYAML, in the app's environment: the domain's names and texts, NLU examples.

The one reader of each for stack/ and the tests: bot/domain.yml's intents, entities and response
texts, and the examples of a Rasa 3 NLU file (data/nlu/*.yml, tests/nlu/heldout.yml). Stories and
rules are plain data once read (`read`). PyYAML's safe loader gives plain data only; it reads YAML
1.1, where Rasa's reader (ruamel) reads 1.2, which matters only for unquoted yes/no/on/off values.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from stack.paths import ROOT

DOMAIN = ROOT / "bot" / "domain.yml"
NLU_KINDS = ("intent", "synonym", "regex", "lookup")


def parse(text: str, source: str = "YAML text") -> dict[str, Any]:
    """A YAML document whose top level is a mapping, as each of the bot's files is (empty: {})."""
    document = yaml.safe_load(text)
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ValueError(f"{source}: expected a mapping at the top, got {type(document).__name__}")
    return document


def read(path: Path) -> dict[str, Any]:
    return parse(path.read_text(encoding="utf-8"), str(path))


def _name(item: object, source: str) -> str:
    """A name as a domain list or an NLU block gives it: `- greet`, or `- greet: {use_entities: []}`."""
    name = next(iter(item), None) if isinstance(item, dict) else item
    if not isinstance(name, str):
        raise ValueError(f"{source}: {item!r} is not a name (quote a name YAML reads as another type)")
    return name


def _domain(domain: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return domain if domain is not None else read(DOMAIN)


def domain_intents(domain: Mapping[str, Any] | None = None) -> list[str]:
    """The intents bot/domain.yml lists (or `domain`, already read), in its order."""
    return [_name(item, "intents") for item in _domain(domain).get("intents") or []]


def domain_entities(domain: Mapping[str, Any] | None = None) -> list[str]:
    """The entities bot/domain.yml lists (or `domain`, already read), in its order."""
    return [_name(item, "entities") for item in _domain(domain).get("entities") or []]


def domain_responses(domain: Mapping[str, Any] | None = None) -> dict[str, list[str]]:
    """Response name -> the texts of its variants; a variant without text (buttons or an image only) has none."""
    responses: Mapping[str, list[dict[str, Any]]] = _domain(domain).get("responses") or {}
    return {name: [str(v["text"]) for v in variants if v.get("text")] for name, variants in responses.items()}


def read_nlu_examples(yaml_text: str, kind: str = "intent") -> dict[str, list[str]]:
    """Name -> its examples, annotations kept, for each `kind` block (intent, synonym, regex, lookup) of a Rasa 3
    NLU file's text. A name given twice has the examples of both blocks.

    Split as Rasa splits an `examples: |` block: one example per line that starts with "-", the
    dash and surrounding spaces taken off."""
    if kind not in NLU_KINDS:
        raise ValueError(f"unknown NLU block kind {kind!r} (one of {', '.join(NLU_KINDS)})")
    merged: dict[str, list[str]] = {}
    for block in parse(yaml_text).get("nlu") or []:
        if not isinstance(block, dict) or kind not in block:
            continue
        name = _name(block[kind], kind)
        examples = block.get("examples") or ""
        if not isinstance(examples, str):
            raise ValueError(f"{kind} {name}: examples must be a block of '- ' lines (examples: |)")
        lines = examples.splitlines()
        merged.setdefault(name, []).extend(line[1:].strip(" \r\n") for line in lines if line.startswith("-"))
    return merged
