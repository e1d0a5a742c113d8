"""The complaint-category classifier: which category a story is about, with a confidence.

A scikit-learn pipeline (word and character n-grams, TF-IDF, logistic regression) trained on the
labelled stories of intake/data/categories/train.yml. Why not a second Rasa model: it trains in
about a second instead of minutes, runs inside intake (the story never leaves it, as Rasa never
sees a complaint's text), and its probabilities are calibrated enough to set thresholds on.

`make train` writes the model to models/categories.joblib with a fingerprint of its data; a
process whose file is missing or stale trains its own copy from the data (about a second) and
says so in its log, so a checkout that was never trained still classifies.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Collection
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from intake.form_answers import plain

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
TRAINING = Path(__file__).with_name("data") / "categories" / "train.yml"
MODEL = ROOT / "models" / "categories.joblib"
# Decisions on the best category's probability among the menu's categories (docs/nlu.md gives
# the held-out figures these were chosen on): taken and said in the summary; proposed with a
# yes/no question; below, the numbered list. Chosen by cross-validation on the training data,
# so that a taken category is right about 97 % of the time.
TAKE_AT = 0.55
CONFIRM_AT = 0.30
TAKE, CONFIRM, LIST = "take", "confirm", "list"
# A story is never silently filed outside a sensitive category (a bribe, mistreatment: they go to
# the integrity unit, away from the office accused) while one of those is this likely: the best
# category is proposed instead of taken, and "2. Ver la lista" is one answer away.
SENSITIVE_DOUBT = 0.15
# Stories longer than this are classified on their beginning: people open with the point and
# then tell the rest (the whole text stays the description).
MAX_CHARS = 1200
SEED = 42


class TrainingDataError(ValueError):
    """The training file is malformed: says which file, which category, which example."""


@dataclass(frozen=True)
class Guess:
    code: str | None
    confidence: float
    decision: str  # TAKE | CONFIRM | LIST


def load_examples(path: Path = TRAINING) -> dict[str, list[str]]:
    """Category code -> example stories, checked: a bad file is refused whole, with where it is wrong."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise TrainingDataError(f"{path}:{where} is not valid YAML ({exc})") from None
    if not isinstance(data, dict) or not data:
        raise TrainingDataError(f"{path}: expected a mapping of category code to a list of examples")
    examples: dict[str, list[str]] = {}
    for code, items in data.items():
        if not isinstance(code, str) or not code.isidentifier():
            raise TrainingDataError(f"{path}: category {code!r} is not a category code")
        if not isinstance(items, list) or len(items) < 5:
            raise TrainingDataError(f"{path}: category {code}: needs a list of at least 5 examples")
        for n, item in enumerate(items, start=1):
            if not isinstance(item, str) or not item.strip():
                raise TrainingDataError(f"{path}: category {code}, example {n}: not a text")
        examples[code] = [str(item) for item in items]
    return examples


def fingerprint(path: Path = TRAINING) -> str:
    import sklearn

    digest = hashlib.sha256(path.read_bytes())
    digest.update(sklearn.__version__.encode())
    digest.update(f"{MAX_CHARS}:{SEED}".encode())
    return digest.hexdigest()


def features(text: str) -> str:
    """What the classifier reads: the beginning of the story, folded like every answer."""
    return plain(text[:MAX_CHARS])


def build() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    return Pipeline(
        [
            (
                "features",
                FeatureUnion(
                    [
                        # Words and pairs carry the meaning ("pidio pisto", "me trataron mal") ...
                        ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)),
                        # ... character n-grams carry the spelling ("cobrarom", "umillo", "kiero").
                        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)),
                    ]
                ),
            ),
            ("classifier", LogisticRegression(C=12.0, max_iter=2000, random_state=SEED)),
        ]
    )


def train(examples: dict[str, list[str]]) -> Any:
    texts = [features(t) for items in examples.values() for t in items]
    labels = [code for code, items in examples.items() for _ in items]
    return build().fit(texts, labels)


def save(path: Path = MODEL, data: Path = TRAINING) -> Path:
    """Train on `data` and write the model with its fingerprint (`make train`)."""
    import joblib

    model = train(load_examples(data))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    joblib.dump({"fingerprint": fingerprint(data), "model": model}, tmp)
    tmp.replace(path)
    return path


def saved_model() -> tuple[Any | None, str]:
    """The model `make train` wrote, if it matches the data; else None and why not."""
    import joblib

    if not MODEL.exists():
        return None, "missing"
    try:
        saved = joblib.load(MODEL)
    except Exception as exc:  # a truncated or foreign file: the data is still here
        return None, f"unreadable ({type(exc).__name__})"
    if not isinstance(saved, dict) or saved.get("fingerprint") != fingerprint(TRAINING):
        return None, "stale (its data changed)"
    return saved["model"], "current"


@lru_cache(maxsize=1)
def model() -> Any:
    """The trained model: the file `make train` wrote if it matches the data, else trained here."""
    saved, why = saved_model()
    if saved is not None:
        return saved
    log.warning("category model %s is %s: training it in memory (make train writes it)", MODEL.name, why)
    started = time.monotonic()
    trained = train(load_examples(TRAINING))
    log.info("category model trained in %.1f s", time.monotonic() - started)
    return trained


def decide(confidence: float) -> str:
    return TAKE if confidence >= TAKE_AT else CONFIRM if confidence >= CONFIRM_AT else LIST


def classify(text: str, allowed: list[str], sensitive: Collection[str] = ()) -> Guess:
    """The best of the `allowed` categories (a menu's codes) for `text`, its probability among them
    and what the form does with it. A code the model was never trained on is never guessed;
    `sensitive` codes are never passed over silently (SENSITIVE_DOUBT)."""
    if not plain(text) or not allowed:
        return Guess(None, 0.0, LIST)
    try:
        clf = model()
    except Exception as exc:  # no model to be had (its data broken in a deployment): the list still works
        log.error("category model unavailable (%s): showing the list", type(exc).__name__)
        return Guess(None, 0.0, LIST)
    known = list(clf.classes_)
    probabilities = dict(zip(known, clf.predict_proba([features(text)])[0], strict=True))
    scores = {code: float(probabilities[code]) for code in allowed if code in probabilities}
    total = sum(scores.values())
    if not scores or total <= 0:
        return Guess(None, 0.0, LIST)
    code = max(scores, key=lambda c: scores[c])
    confidence = scores[code] / total
    decision = decide(confidence)
    doubt = max((scores[c] / total for c in sensitive if c in scores and c != code), default=0.0)
    if decision == TAKE and code not in sensitive and doubt >= SENSITIVE_DOUBT:
        decision = CONFIRM
    return Guess(code, confidence, decision)
