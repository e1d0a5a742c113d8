"""Twilio's Fallback URL: signed forms spooled durably, forged ones refused, and the spool imported exactly once."""

from __future__ import annotations

import ast
import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest
import redis
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from intake import create_app, spool
from intake.broker import IMPORT_SPOOL
from intake.fallback import FALLBACK_PATH, FallbackConfig, create_fallback_app
from intake.models import InboundMessage
from intake.recovery import import_spool
from intake.runtime import Runtime, runtime, set_runtime
from intake.settings import ROOT, Settings
from stack.processes import fallback_env, free_port, named, system_processes
from tests.env import TEST_REDIS_URL, TWILIO_AUTH_TOKEN, base_env
from tests.intake.assistant_fakes import Scripted
from tests.intake.webhooks import queued_tasks, signed_post, sms, stored

PUBLIC = "https://linea.example.hn"


def setup_function() -> None:
    redis.Redis.from_url(TEST_REDIS_URL).flushdb()


@pytest.fixture
def spool_dir(tmp_path: Path) -> Path:
    return tmp_path / "spool"


@pytest.fixture
def fallback(spool_dir: Path) -> FlaskClient:
    config = FallbackConfig(public_base_url=PUBLIC, auth_token=TWILIO_AUTH_TOKEN, spool_dir=spool_dir)
    return create_fallback_app(config).test_client()


@pytest.fixture
def line(database_url: str, spool_dir: Path) -> Iterator[Runtime]:
    """The web app's runtime, spooling to the same directory as the fallback."""
    runtime = Runtime(Settings.from_env(base_env(DATABASE_URL=database_url, SPOOL_DIR=str(spool_dir))))
    set_runtime(runtime)
    yield runtime
    set_runtime(None)


def spooled_lines(directory: Path) -> list[dict]:
    path = directory / spool.SPOOL_NAME
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def run_import(rt: Runtime):  # type: ignore[no-untyped-def]
    s = rt.settings
    return import_spool(rt.sessions, Path(s.spool_dir), s.pseudonym_key, s.redis_url, rt.now())


def test_it_refuses_a_forged_signature_and_spools_nothing(fallback: FlaskClient, spool_dir: Path) -> None:
    assert signed_post(fallback, sms(), signature="bm90IGEgc2lnbmF0dXJl", path=FALLBACK_PATH).status_code == 403
    assert signed_post(fallback, sms(), signature="", path=FALLBACK_PATH).status_code == 403
    # Signed for the web app's path: Twilio signs each URL on its own, so it is not valid here.
    form = sms()
    sig = RequestValidator(TWILIO_AUTH_TOKEN).compute_signature(PUBLIC + "/twilio/inbound", form)
    assert fallback.post(FALLBACK_PATH, data=form, headers={"X-Twilio-Signature": sig}).status_code == 403
    assert spooled_lines(spool_dir) == []


def test_it_spools_a_signed_form_as_one_line_and_answers_empty_twiml(fallback: FlaskClient, spool_dir: Path) -> None:
    response = signed_post(fallback, sms(body="¿cuándo me toca?"), path=FALLBACK_PATH)
    assert response.status_code == 200
    assert response.mimetype == "text/xml" and b"<Response></Response>" in response.data
    [line] = spooled_lines(spool_dir)
    assert dict(line["form"]) == sms(body="¿cuándo me toca?")
    assert datetime.fromisoformat(line["spooled_at"]).tzinfo is not None


def test_it_keeps_every_value_of_a_repeated_key_as_twilio_signed_it(fallback: FlaskClient, spool_dir: Path) -> None:
    pairs = [*sms().items(), ("Extra", "uno"), ("Extra", "dos")]
    form = MultiDict(pairs)
    sig = RequestValidator(TWILIO_AUTH_TOKEN).compute_signature(PUBLIC + FALLBACK_PATH, form)
    assert fallback.post(FALLBACK_PATH, data=form, headers={"X-Twilio-Signature": sig}).status_code == 200
    [line] = spooled_lines(spool_dir)
    assert [tuple(pair) for pair in line["form"]] == pairs


def test_a_spooled_message_asks_a_worker_to_import_it_at_once(spool_dir: Path) -> None:
    broker = redis.Redis.from_url(TEST_REDIS_URL)

    def imports() -> list[bytes]:
        return [task for task in broker.lrange("celery", 0, -1) if IMPORT_SPOOL.encode() in task]

    before = len(imports())
    config = FallbackConfig(
        public_base_url=PUBLIC, auth_token=TWILIO_AUTH_TOKEN, spool_dir=spool_dir, broker_url=TEST_REDIS_URL
    )
    assert signed_post(create_fallback_app(config).test_client(), sms(), path=FALLBACK_PATH).status_code == 200
    assert len(imports()) == before + 1
    assert sms()["Body"].encode() not in imports()[-1]  # an import request, not the message
    broker.lrem("celery", 1, imports()[-1])


def test_a_spooled_message_is_acknowledged_when_the_broker_is_down_too(spool_dir: Path) -> None:
    config = FallbackConfig(
        public_base_url=PUBLIC, auth_token=TWILIO_AUTH_TOKEN, spool_dir=spool_dir, broker_url="redis://127.0.0.1:1/0"
    )
    assert signed_post(create_fallback_app(config).test_client(), sms(), path=FALLBACK_PATH).status_code == 200
    assert len(list(spool_dir.glob("*.jsonl"))) == 1  # on disk; beat imports it within the minute


def test_it_answers_503_when_the_spool_cannot_be_written(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    config = FallbackConfig(public_base_url=PUBLIC, auth_token=TWILIO_AUTH_TOKEN, spool_dir=blocker / "spool")
    response = signed_post(create_fallback_app(config).test_client(), sms(), path=FALLBACK_PATH)
    assert response.status_code == 503  # never a 200 for a message that is not on disk


def test_a_message_delivered_twice_to_the_fallback_and_once_to_the_webhook_is_stored_once(
    line: Runtime, fallback: FlaskClient, spool_dir: Path
) -> None:
    form = sms(body="quiero poner una queja")
    assert signed_post(fallback, form, path=FALLBACK_PATH).status_code == 200
    assert signed_post(fallback, form, path=FALLBACK_PATH).status_code == 200
    web = create_app(line.settings).test_client()
    assert signed_post(web, form).status_code == 200
    assert len(spooled_lines(spool_dir)) == 2
    report = run_import(line)
    assert (report.stored, report.replays) == (0, 2)
    assert stored(line) == 1
    assert len(queued_tasks(line)) == 1  # the webhook's; the replays are already enqueued
    assert list(spool_dir.glob("*.jsonl")) == []  # imported, so removed


def test_the_import_stores_enqueues_and_removes_what_was_spooled(
    line: Runtime, fallback: FlaskClient, spool_dir: Path
) -> None:
    signed_post(fallback, sms("SM" + "1" * 32, body="primero"), path=FALLBACK_PATH)
    signed_post(fallback, sms("SM" + "2" * 32, body="segundo", sender="+50499887700"), path=FALLBACK_PATH)
    report = run_import(line)
    assert (report.files, report.stored) == (1, 2)
    with line.sessions() as session:
        rows = session.scalars(select(InboundMessage).order_by(InboundMessage.id)).all()
        assert [r.body for r in rows] == ["primero", "segundo"]  # verbatim, in the order Twilio delivered
        assert all(r.enqueued_at is not None for r in rows)
    assert len(queued_tasks(line)) == 2  # one turn per contact, as the webhook enqueues
    assert list(spool_dir.glob("*.jsonl")) == []


def test_importing_twice_stores_once(line: Runtime, fallback: FlaskClient, spool_dir: Path) -> None:
    signed_post(fallback, sms(), path=FALLBACK_PATH)
    assert run_import(line).stored == 1
    assert run_import(line).stored == 0
    signed_post(fallback, sms(), path=FALLBACK_PATH)  # Twilio's fallback called again for the same message
    assert run_import(line).replays == 1
    assert stored(line) == 1
    assert len(queued_tasks(line)) == 1


def test_a_crash_between_storing_and_removing_is_harmless(
    line: Runtime, fallback: FlaskClient, spool_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed_post(fallback, sms(), path=FALLBACK_PATH)

    def crash(path: Path, *, keep: bool) -> None:
        raise SystemExit("killed after the commit, before the file was removed")

    with monkeypatch.context() as patch:
        patch.setattr(spool, "release", crash)
        with pytest.raises(SystemExit):
            run_import(line)
    assert stored(line) == 1
    assert len(list(spool_dir.glob("importing-*.jsonl"))) == 1  # still there: imported again next time
    report = run_import(line)
    assert (report.files, report.stored, report.replays) == (1, 0, 1)
    assert stored(line) == 1
    assert len(queued_tasks(line)) == 1
    assert list(spool_dir.glob("*.jsonl")) == []


def test_the_spool_is_kept_while_the_database_is_still_down(
    line: Runtime, fallback: FlaskClient, spool_dir: Path
) -> None:
    signed_post(fallback, sms(), path=FALLBACK_PATH)
    down = Runtime(replace(line.settings, database_url=f"postgresql://postgres@127.0.0.1:{free_port()}/gone"))
    with pytest.raises(OperationalError):
        run_import(down)
    assert len(list(spool_dir.glob("importing-*.jsonl"))) == 1
    assert run_import(line).stored == 1
    assert stored(line) == 1


def test_a_line_that_cannot_be_read_is_kept_for_a_person_and_the_rest_imported(
    line: Runtime, fallback: FlaskClient, spool_dir: Path
) -> None:
    signed_post(fallback, sms("SM" + "1" * 32), path=FALLBACK_PATH)
    with (spool_dir / spool.SPOOL_NAME).open("a") as handle:
        handle.write('{"spooled_at": "2024-01-0\n')  # torn
    signed_post(fallback, sms("SM" + "2" * 32), path=FALLBACK_PATH)
    report = run_import(line)
    assert (report.stored, report.unreadable) == (2, 1)
    assert [p.name.startswith(spool.DAMAGED_PREFIX) for p in spool_dir.glob("*.jsonl")] == [True]
    assert run_import(line).files == 0  # a damaged file is not imported again and again


def test_concurrent_writers_and_imports_lose_no_line(tmp_path: Path) -> None:
    directory = tmp_path / "spool"
    now = datetime.now(timezone.utc)
    claimed: list[Path] = []

    def write(writer: int) -> None:
        for n in range(40):
            spool.append(directory, [("MessageSid", f"SM{writer:02d}{n:030d}")], now)

    def claim_while_writing() -> None:
        for _ in range(20):
            claimed.extend(spool.claim(directory))

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    threads.append(threading.Thread(target=claim_while_writing))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    files = set(spool.claim(directory))
    sids = [m.form()["MessageSid"] for path in files for m in spool.read(path)[0]]
    assert sorted(sids) == sorted(f"SM{w:02d}{n:030d}" for w in range(4) for n in range(40))
    assert all(spool.read(path)[1] == 0 for path in files)


def test_the_fallback_reads_the_same_settings_as_the_app_and_nothing_else() -> None:
    env = base_env(PORT="9000", PUBLIC_BASE_URL="", DATABASE_URL="postgresql://u:pw@db.example/x", SPOOL_DIR="")
    own = fallback_env({"PATH": "/usr/bin", **env})
    for secret in ("DATABASE_URL", "PSEUDONYM_KEY", "INTERNAL_API_TOKEN", "RASA_API_TOKEN", "COMMITTEE_SAMPLE_KEY"):
        assert secret not in own, secret
    config, settings = FallbackConfig.from_env(own), Settings.from_env(env)
    assert config.public_base_url == settings.public_base_url == "http://127.0.0.1:9000"
    assert str(config.spool_dir) == settings.spool_dir == str(ROOT / "var" / "spool")
    assert config.auth_token == settings.twilio_auth_token


def test_the_fallback_module_imports_nothing_that_opens_the_database() -> None:
    for module in ("fallback", "spool"):
        tree = ast.parse((ROOT / "intake" / f"{module}.py").read_text())
        imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        for forbidden in ("sqlalchemy", "intake.db", "intake.runtime", "intake.models", "intake.inbound"):
            assert forbidden not in imported, (module, forbidden)


def test_it_runs_last_in_the_process_list_on_its_own_port() -> None:
    port = free_port()
    env = {"PATH": "/usr/bin", **base_env(PORT=str(port), RASA_URL="http://127.0.0.1:5005")}
    env["ACTION_SERVER_URL"] = "http://127.0.0.1:5055"
    processes = system_processes(env)
    assert processes[2].name == "web" and processes[-1].name == "fallback"
    [fallback_process] = named(processes, "fallback")
    assert fallback_process.argv[fallback_process.argv.index("--bind") + 1] == f"127.0.0.1:{port + 2}"
    assert fallback_process.argv[-1] == "intake.fallback:create_fallback_app()"
    assert fallback_process.env == fallback_env(env)


def test_beat_imports_the_spool_every_minute_and_reconciles_only_with_a_twilio_account(
    line: Runtime, fallback: FlaskClient
) -> None:
    from worker import tasks  # after the runtime: the Celery app reads the settings on import
    from worker.celery_app import make_celery

    schedule = make_celery().conf.beat_schedule
    assert schedule["import-spool"] == {"task": tasks.import_spool.name, "schedule": 60.0}
    assert schedule["reconcile-inbound"]["task"] == tasks.reconcile_inbound.name
    signed_post(fallback, sms(), path=FALLBACK_PATH)
    assert tasks.import_spool() == {"files": 1, "stored": 1, "replays": 0, "damaged": 0}
    assert stored(line) == 1
    assert not line.settings.twilio_sends_for_real
    assert tasks.reconcile_inbound() is None


def test_an_import_that_finds_another_running_looks_again_a_second_later(
    line: Runtime, fallback: FlaskClient, spool_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The other import may have claimed the spool before this message was written: returning at
    # once would leave the message to beat's next minute, after the person has written again.
    from worker import tasks

    calls = []
    real = tasks.recovery.import_spool

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(tasks.recovery, "import_spool", counted)
    signed_post(fallback, sms(), path=FALLBACK_PATH)
    with spool.import_lock(spool_dir) as mine:
        assert mine
        tasks.import_spool.apply()  # Celery runs the retries at once when applied in-process
    assert len(calls) == tasks.IMPORT_BUSY_RETRIES + 1 and stored(line) == 0
    assert tasks.import_spool.apply().get() == {"files": 1, "stored": 1, "replays": 0, "damaged": 0}
    assert stored(line) == 1


def spooled_then_webhook(line: Runtime, fallback: FlaskClient, later: str) -> tuple[int, Scripted]:
    """A person's "1" spooled by the fallback, then `later` stored by the webhook (the database back):
    the later message's id, and a scripted assistant installed in the app's runtime (the task's)."""
    assert signed_post(fallback, sms("SM" + "1" * 32, "1"), path=FALLBACK_PATH).status_code == 200
    web = create_app(line.settings).test_client()
    assert signed_post(web, sms("SM" + "2" * 32, later)).status_code == 200
    with line.sessions() as session:
        stored_id = session.scalars(select(InboundMessage.id)).one()
    assistant = Scripted()
    runtime().assistant = assistant  # type: ignore[misc]
    return stored_id, assistant


def test_a_spooled_message_is_answered_before_the_persons_next_one_that_the_webhook_took_first(
    line: Runtime, fallback: FlaskClient
) -> None:
    # PostgreSQL came back: the person's next message reaches the webhook and its task runs
    # before any import. The worker imports the spool first, and answers by time of receipt.
    from worker import tasks

    later, assistant = spooled_then_webhook(line, fallback, "si, confirmo")
    tasks.process_inbound.apply(args=[later])
    # What each turn gave Rasa, in that order: the menu number "1" (read without the classifier), then the rest.
    assert [text for _, text in assistant.seen] == ['/choose_option{"option": "1"}', '/chat{"option": "2"}']
    assert assistant.parsed == ["si, confirmo"]
    assert stored(line) == 2 and not spool.waiting(Path(line.settings.spool_dir))


def test_a_spool_that_cannot_be_imported_does_not_stop_the_conversations(
    line: Runtime, fallback: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import IntegrityError

    from worker import tasks

    def refused(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise IntegrityError("INSERT", {}, ValueError("a row the database refuses"))

    message, assistant = spooled_then_webhook(line, fallback, "hola")
    monkeypatch.setattr(tasks.recovery, "import_spool", refused)
    tasks.process_inbound.apply(args=[message])
    assert assistant.parsed == ["hola"]  # answered; the spool stays for beat's import and a person
    assert spool.waiting(Path(line.settings.spool_dir))


def test_the_cli_imports_the_spool_now(line: Runtime, fallback: FlaskClient) -> None:
    signed_post(fallback, sms(), path=FALLBACK_PATH)
    result = create_app(line.settings).test_cli_runner().invoke(args=["spool", "import"])
    assert result.exit_code == 0, result.output
    assert "1 stored" in result.output and "+504" not in result.output
    assert stored(line) == 1
