"""The chain of timeouts: each wait outlasts the one inside it, and settings refuse one that does not."""

from __future__ import annotations

import importlib.util

import pytest

from intake.settings import ACTION_LONGEST_RUN_S, ROOT, Settings, SettingsError
from tests.env import base_env

SQLITE_BUSY_TIMEOUT_S = 30  # intake/db.py, PRAGMA busy_timeout and the driver's timeout


def _intake_client() -> object:
    # Loaded by path: the action server's package is not installed in the app's environment.
    spec = importlib.util.spec_from_file_location("intake_client", ROOT / "actions" / "intake_client.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_defaults_make_a_chain_in_which_each_wait_outlasts_the_one_inside_it() -> None:
    client = _intake_client()
    settings = Settings.from_env(base_env())
    assert client.TIMEOUT_S > SQLITE_BUSY_TIMEOUT_S  # type: ignore[attr-defined]
    assert client.FILING_WINDOW_S < client.TIMEOUT_S  # type: ignore[attr-defined]
    assert client.LONGEST_RUN_S == ACTION_LONGEST_RUN_S  # type: ignore[attr-defined]
    assert ACTION_LONGEST_RUN_S < settings.action_timeout_s < settings.rasa_timeout_s


def test_settings_refuse_a_rasa_timeout_not_above_the_action_timeout() -> None:
    with pytest.raises(SettingsError, match="RASA_TIMEOUT_S"):
        Settings.from_env(base_env(RASA_TIMEOUT_S="60", ACTION_TIMEOUT_S="60"))
    with pytest.raises(SettingsError, match="RASA_TIMEOUT_S"):
        Settings.from_env(base_env(RASA_TIMEOUT_S="30"))
    assert Settings.from_env(base_env(RASA_TIMEOUT_S="70", ACTION_TIMEOUT_S="60")).rasa_timeout_s == 70


def test_settings_refuse_an_action_timeout_shorter_than_an_action_may_wait_for_intake() -> None:
    with pytest.raises(SettingsError, match="ACTION_TIMEOUT_S"):
        Settings.from_env(base_env(ACTION_TIMEOUT_S="30", RASA_TIMEOUT_S="75"))
