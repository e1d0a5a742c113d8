"""docker-compose.yml: valid against the Compose Specification's schema, and replica-safe."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import pytest
import yaml

from stack.paths import ROOT

COMPOSE = ROOT / "docker-compose.yml"
SCHEMA = ROOT / "deploy" / "compose" / "compose-spec.json"  # vendored: deploy/compose/NOTICE.md


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def validator() -> jsonschema.Draft201909Validator:
    return jsonschema.Draft201909Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))


def test_the_compose_file_is_valid_against_the_compose_specification() -> None:
    errors = [f"{e.json_path}: {e.message}" for e in validator().iter_errors(compose())]
    assert errors == []


def test_a_wrong_field_would_fail_the_validation() -> None:
    doc = compose()
    doc["services"]["web"]["deploy"] = {"replicas": "two"}
    doc["services"]["worker"]["restart_policy"] = "always"
    assert len(list(validator().iter_errors(doc))) == 2


def test_replicas_of_web_worker_rasa_and_actions_behind_the_one_published_port() -> None:
    services = compose()["services"]
    for name in ("web", "worker", "rasa", "actions"):
        assert services[name]["deploy"]["replicas"] >= 2, name
    published = {name for name, s in services.items() if s.get("ports")}
    assert published == {"proxy"}
    assert services["beat"]["deploy"]["replicas"] == 1


def test_migrations_run_once_before_anything_that_uses_the_database() -> None:
    services = compose()["services"]
    assert services["migrate"]["command"][-2:] == ["db", "upgrade"] and services["migrate"]["restart"] == "no"
    for name in ("web", "internal", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}, name
        assert "upgrade" not in str(services[name]["command"])


def test_broker_trackers_and_rasa_locks_use_three_redis_databases() -> None:
    doc = compose()
    env = doc["x-app-env"]
    rasa = doc["services"]["rasa"]["environment"]
    databases = {env["REDIS_URL"][-1], env["TRACKER_REDIS_URL"][-1], rasa["RASA_LOCK_REDIS_DB"]}
    assert databases == {"0", "1", "2"} and rasa["RASA_TRACKER_REDIS_DB"] == env["TRACKER_REDIS_URL"][-1]


def test_every_image_is_pinned_to_a_version() -> None:
    for name, service in compose()["services"].items():
        image = service["image"]
        pinned = r"[\w./-]+:(\d+(\.\d+)*(-[a-z]+)?|\$\{LINEA_VERSION:-\d+\.\d+\.\d+\})"
        assert re.fullmatch(pinned, image), (name, image)


def test_the_workers_are_distinct_celery_nodes() -> None:
    command = compose()["services"]["worker"]["command"]
    assert command[command.index("--hostname") + 1] == "worker@%h"  # %h: each container's own name


@pytest.mark.parametrize("dockerfile", ["Dockerfile.app", "Dockerfile.rasa", "Dockerfile.actions"])
def test_every_dockerfile_copies_only_what_is_in_the_repository_or_built_by_make(dockerfile: str) -> None:
    text = (ROOT / dockerfile).read_text(encoding="utf-8")
    assert re.search(r"^FROM \S+:\d+(\.\d+)*(-slim)?$", text, re.M), "base image pinned"
    for line in re.findall(r"^COPY (.+)$", text, re.M):
        *sources, _ = line.split()
        for source in sources:
            if source.startswith("models/"):
                continue  # the trained model: `make train` writes it (Dockerfile.rasa's header)
            assert (ROOT / source).exists(), (dockerfile, source)


def test_the_proxy_fronts_services_that_exist_on_the_ports_they_listen_on() -> None:
    doc = compose()
    conf = (ROOT / "deploy" / "compose" / "nginx.conf").read_text(encoding="utf-8")
    upstreams = dict(re.findall(r"server (\w+):(\d+) resolve;", conf))
    assert upstreams == {"web": "8000", "fallback": "8002", "rasa": "5005", "actions": "5055"}
    assert set(upstreams) <= set(doc["services"])
    assert "8000" in doc["services"]["web"]["command"][-1]  # gunicorn --bind 0.0.0.0:8000
    # Everything reaches Rasa and the action server through the proxy's round robin.
    assert doc["x-app-env"]["RASA_URL"] == "http://proxy:5005"
    assert doc["services"]["rasa"]["environment"]["ACTION_ENDPOINT_URL"] == "http://proxy:5055/webhook"


def test_the_build_context_leaves_out_the_virtual_environments_and_keeps_what_the_images_copy() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".venv", ".venv-rasa", "var", ".env"} <= ignored  # GBs of wheels; and never the secrets
    for dockerfile in ("Dockerfile.app", "Dockerfile.rasa", "Dockerfile.actions"):
        for line in re.findall(r"^COPY (.+)$", (ROOT / dockerfile).read_text(encoding="utf-8"), re.M):
            *sources, _ = line.split()
            for source in sources:
                assert source.split("/")[0] not in ignored, (dockerfile, source)
