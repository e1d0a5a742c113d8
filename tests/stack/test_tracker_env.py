"""Rasa's tracker store settings: their own Redis database, its password, and a short expiry."""

from __future__ import annotations

import pytest

from intake.settings import SettingsError
from stack.tracker_env import tracker_env


def test_trackers_default_to_the_brokers_server_one_database_up_for_a_day() -> None:
    env = tracker_env({"REDIS_URL": "redis://10.0.0.5:6380/3"})
    assert env == {
        "RASA_TRACKER_REDIS_HOST": "10.0.0.5",
        "RASA_TRACKER_REDIS_PORT": "6380",
        "RASA_TRACKER_REDIS_DB": "4",
        "RASA_TRACKER_REDIS_USERNAME": "",
        "RASA_TRACKER_REDIS_PASSWORD": "",
        "RASA_TRACKER_RECORD_EXP": "86400",
        "RASA_LOCK_REDIS_DB": "4",  # Rasa's locks beside the trackers unless given their own
    }


def test_rasas_locks_may_have_their_own_database() -> None:
    env = tracker_env({"REDIS_URL": "redis://redis:6379/0", "RASA_LOCK_REDIS_DB": "2"})
    assert (env["RASA_TRACKER_REDIS_DB"], env["RASA_LOCK_REDIS_DB"]) == ("1", "2")


def test_tracker_redis_url_brings_its_own_database_user_and_password() -> None:
    env = tracker_env(
        {"REDIS_URL": "redis://127.0.0.1:6379/0", "TRACKER_REDIS_URL": "redis://rasa:s%40cr3t@cache:6379/9"}
    )
    assert env["RASA_TRACKER_REDIS_HOST"] == "cache" and env["RASA_TRACKER_REDIS_DB"] == "9"
    assert (env["RASA_TRACKER_REDIS_USERNAME"], env["RASA_TRACKER_REDIS_PASSWORD"]) == ("rasa", "s@cr3t")


def test_the_expiry_comes_from_tracker_expiry_s_or_the_retention_period() -> None:
    assert tracker_env({"TRACKER_EXPIRY_S": "3600"})["RASA_TRACKER_RECORD_EXP"] == "3600"
    assert tracker_env({"RETENTION_TRACKERS_DAYS": "2"})["RASA_TRACKER_RECORD_EXP"] == "172800"


@pytest.mark.parametrize(
    "env",
    [
        {"TRACKER_EXPIRY_S": "0"},
        {"TRACKER_EXPIRY_S": "un dia"},
        {"RETENTION_TRACKERS_DAYS": "uno"},
        {"TRACKER_REDIS_URL": "http://cache:6379/1"},
        {"TRACKER_REDIS_URL": "redis://cache:6379/trackers"},
        {"RASA_LOCK_REDIS_DB": "locks"},
    ],
)
def test_it_refuses_trackers_that_never_expire_or_a_url_that_is_not_redis(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError):
        tracker_env(env)
