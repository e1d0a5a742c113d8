"""deploy/k8s/: the production overlay renders, validates against Kubernetes' schemas, and keeps the
promises docs/scaling.md makes (one beat, no public internal API, probes and limits, deny by default)."""

from __future__ import annotations

import kubernetes_validate
import pytest

from tests.deploy.rendered import Obj, containers, objects, of_kind

# The oldest Kubernetes the manifests are written for (autoscaling/v2 and policy/v1 are GA in 1.23;
# the schemas of 1.27 are the oldest still supported upstream).
VERSIONS = ("1.27.0", "1.32.0")


@pytest.mark.parametrize("version", VERSIONS)
def test_every_rendered_object_is_valid_kubernetes_with_no_unknown_field(version: str) -> None:
    rendered = objects()
    assert len(rendered) > 20
    for obj in rendered:
        kubernetes_validate.validate(obj, version, strict=True)


def test_a_misspelt_field_would_fail_the_validation() -> None:
    # The check above can fail: the same Deployment with one field misspelt does.
    web = of_kind("Deployment")["web"]
    broken = {**web, "spec": {**web["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSIONS[0], strict=True)


def test_beat_is_one_replica_replaced_not_rolled_and_never_autoscaled() -> None:
    beat = of_kind("Deployment")["beat"]
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"] == {"type": "Recreate"}
    targets = {h["spec"]["scaleTargetRef"]["name"] for h in of_kind("HorizontalPodAutoscaler").values()}
    assert "beat" not in targets and targets == {"worker"}


def test_the_internal_api_has_no_external_service_and_no_ingress_route() -> None:
    assert "internal" in of_kind("Service")
    for service in of_kind("Service").values():
        assert service["spec"].get("type", "ClusterIP") == "ClusterIP", service["metadata"]["name"]
    backends = {
        path["backend"]["service"]["name"]
        for ingress in of_kind("Ingress").values()
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    assert backends == {"web", "fallback"}


@pytest.mark.parametrize("name", ["web", "fallback", "internal", "worker", "beat", "rasa", "actions"])
def test_every_deployment_has_probes_requests_and_limits_and_runs_locked_down(name: str) -> None:
    deployment = of_kind("Deployment")[name]
    pod = deployment["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    for container in containers(deployment):
        assert "livenessProbe" in container and "readinessProbe" in container, name
        resources = container["resources"]
        assert set(resources["requests"]) == {"cpu", "memory"} == set(resources["limits"]), name
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}


def test_migrations_run_in_a_job_named_for_the_release_and_in_no_deployment() -> None:
    (job,) = of_kind("Job").values()
    assert job["metadata"]["name"].startswith("migrate-")
    assert containers(job)[0]["command"][-2:] == ["db", "upgrade"]
    for deployment in of_kind("Deployment").values():
        for container in containers(deployment):
            assert "upgrade" not in " ".join(container.get("command", []) + container.get("args", []))


def test_every_app_image_is_pinned_to_the_same_release() -> None:
    images = {c["image"] for d in of_kind("Deployment").values() for c in containers(d)}
    images |= {c["image"] for j in of_kind("Job").values() for c in containers(j)}
    tags = {image.rsplit(":", 1)[1] for image in images}
    assert tags == {"1.0.0"}, images
    assert all(image.startswith("registry.example.hn/lineaciudadana/") for image in images)


def test_several_replicas_of_what_scales_and_a_disruption_budget_for_each() -> None:
    deployments = of_kind("Deployment")
    for name in ("web", "rasa", "actions", "internal", "fallback", "worker"):
        assert deployments[name]["spec"]["replicas"] >= 2, name
    budgets = {
        b["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] for b in of_kind("PodDisruptionBudget").values()
    }
    assert budgets == {"web", "rasa", "actions", "internal", "fallback", "worker"}


def test_secrets_and_site_settings_are_named_never_filled_in() -> None:
    assert of_kind("Secret") == {}
    assert set(of_kind("ConfigMap")) == {"linea-services"}  # structural; linea-site is the operator's
    text = str(objects())
    assert "linea-secrets" in text and "linea-site" in text


def test_rasa_shares_trackers_and_locks_in_redis_databases_apart_from_the_broker() -> None:
    env = {e["name"]: e for e in containers(of_kind("Deployment")["rasa"])[0]["env"]}
    assert env["RASA_TRACKER_REDIS_DB"]["value"] == "1" and env["RASA_LOCK_REDIS_DB"]["value"] == "2"
    assert "value" not in env["RASA_TRACKER_REDIS_PASSWORD"]  # from the Secret


def _admits(policy: Obj) -> set[str]:
    """The app components a policy's ingress rules admit ('*' for any source)."""
    found: set[str] = set()
    for rule in policy["spec"].get("ingress", []):
        if "from" not in rule:
            found.add("*")
        for peer in rule.get("from", []):
            labels = peer.get("podSelector", {}).get("matchLabels", {})
            if "app.kubernetes.io/name" in labels:
                found.add(labels["app.kubernetes.io/name"])
            elif "namespaceSelector" in peer:
                found.add("namespace:" + peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"])
    return found


def test_network_policies_deny_by_default_and_admit_each_hop_of_a_message_only() -> None:
    policies = of_kind("NetworkPolicy")
    default = policies["default-deny"]["spec"]
    assert default["podSelector"] == {} and set(default["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in default and "egress" not in default
    admitted: dict[str, set[str]] = {}
    for policy in policies.values():
        selector = policy["spec"]["podSelector"].get("matchLabels", {})
        if "app.kubernetes.io/name" in selector and "Ingress" in policy["spec"]["policyTypes"]:
            admitted.setdefault(selector["app.kubernetes.io/name"], set()).update(_admits(policy))
    assert admitted == {
        "web": {"*"},
        "fallback": {"*"},  # Twilio's Fallback URL
        "internal": {"actions", "namespace:monitoring"},  # and Prometheus, for /metrics
        "rasa": {"worker", "internal"},  # the internal listener's /readyz asks Rasa's "/"
        "actions": {"rasa", "internal"},  # and the action server's /health
    }
    # Beat, the workers and the migration Job take no connection at all.
    for silent in ("worker", "beat", "migrate"):
        assert silent not in admitted
    # The action server may call intake's internal API, and nothing else (DNS aside).
    egress = policies["actions-egress"]["spec"]["egress"]
    assert egress == [
        {
            "to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "internal"}}}],
            "ports": [{"protocol": "TCP", "port": 8001}],
        }
    ]
