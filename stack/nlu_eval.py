"""Parse every example of a Rasa NLU YAML file with a trained model and write the predictions as JSON.

Runs in the Rasa environment (Python 3.10, stdlib and rasa only):

    .venv-rasa/bin/python -m stack.nlu_eval --model models/lineaciudadana.tar.gz \
        --data tests/nlu/heldout.yml --out var/nlu/results.json

The model is loaded once; each example is parsed as Rasa's /model/parse would (no tracker).
The metrics are computed elsewhere (stack/nlu_metrics.py, in the app environment).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")


def _entity(entity: dict[str, Any]) -> dict[str, Any]:
    return {
        "entity": entity["entity"],
        "start": int(entity["start"]),
        "end": int(entity["end"]),
        "value": str(entity.get("value", "")),
        "extractor": entity.get("extractor"),
    }


def gold_examples(data: Path) -> list[dict[str, Any]]:
    """The annotated examples of a Rasa NLU YAML file: text, intent and entities."""
    from rasa.shared.nlu.training_data.loading import load_data

    examples = []
    for message in load_data(str(data)).intent_examples:
        examples.append(
            {
                "text": message.get("text"),
                "intent": message.get("intent"),
                "entities": [_entity(e) for e in message.get("entities") or []],
            }
        )
    return examples


async def _parse_all(model: Path, texts: list[str]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    metadata = agent.processor.model_metadata if agent.processor else None
    info = {
        "model_id": getattr(metadata, "model_id", None),
        "trained_at": str(getattr(metadata, "trained_at", "")),
        "rasa_version": getattr(metadata, "rasa_open_source_version", None),
    }
    parses = []
    for text in texts:
        parsed = await agent.parse_message(text)
        ranking = parsed.get("intent_ranking") or []
        intent = parsed.get("intent") or {}
        parses.append(
            {
                "intent": intent.get("name"),
                "confidence": float(intent.get("confidence") or 0.0),
                "ranking": [{"name": r["name"], "confidence": float(r["confidence"])} for r in ranking[:2]],
                "entities": [_entity(e) for e in parsed.get("entities") or []],
            }
        )
    return info, parses


def evaluate(model: Path, data: Path) -> dict[str, Any]:
    """Predictions of `model` for every example of `data`, next to the annotations."""
    examples = gold_examples(data)
    started = time.monotonic()
    info, parses = asyncio.run(_parse_all(model, [e["text"] for e in examples]))
    elapsed = time.monotonic() - started
    for example, parse in zip(examples, parses, strict=True):
        example["predicted"] = parse
    return {
        "model": str(model),
        "data": str(data),
        **info,
        "seconds": round(elapsed, 1),
        "examples": examples,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, type=Path, help="a trained model (.tar.gz)")
    parser.add_argument("--data", required=True, type=Path, help="Rasa NLU YAML with the examples to parse")
    parser.add_argument("--out", required=True, type=Path, help="where to write the JSON results")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    from rasa.utils.log_utils import configure_structlog

    # Rasa logs every parse at debug level (with its text); only errors here.
    configure_structlog(logging.ERROR)
    if not args.model.exists():
        print(f"nlu_eval: no model at {args.model}", file=sys.stderr)
        return 2
    results = evaluate(args.model, args.data)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    wrong = sum(1 for e in results["examples"] if e["predicted"]["intent"] != e["intent"])
    print(f"nlu_eval: {len(results['examples'])} examples parsed in {results['seconds']} s, {wrong} misclassified")
    return 0


if __name__ == "__main__":
    sys.exit(main())
