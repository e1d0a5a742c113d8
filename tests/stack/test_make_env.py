"""An existing .env keeps the operator's values, but old defaults that settings now refuse are updated."""

from __future__ import annotations

from pathlib import Path

from stack.make_env import _forget_old_defaults


def test_old_defaults_are_replaced_and_chosen_values_kept(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("PORT=8080\nINTERNAL_API_URL=http://127.0.0.1:8080\nRASA_TIMEOUT_S=30\nLOG_LEVEL=DEBUG\n")
    _forget_old_defaults(env)
    assert env.read_text() == "PORT=8080\nINTERNAL_API_URL=\nRASA_TIMEOUT_S=75\nLOG_LEVEL=DEBUG\n"


def test_values_the_operator_chose_are_left_for_settings_to_judge(tmp_path: Path) -> None:
    text = "INTERNAL_API_URL=http://10.0.0.4:9001\nRASA_TIMEOUT_S=90\n"
    env = tmp_path / ".env"
    env.write_text(text)
    _forget_old_defaults(env)
    assert env.read_text() == text


def test_the_old_public_address_on_this_port_now_follows_port(tmp_path: Path) -> None:
    # Written by an older .env.example: with it, `PORT=8080 make run` kept telling Twilio and the
    # staff app about port 8000. Empty follows PORT; an address the operator chose stays.
    env = tmp_path / ".env"
    env.write_text("PORT=8000\nPUBLIC_BASE_URL=http://127.0.0.1:8000\n")
    _forget_old_defaults(env)
    assert env.read_text() == "PORT=8000\nPUBLIC_BASE_URL=\n"
    env.write_text("PORT=8000\nPUBLIC_BASE_URL=https://linea.sedesol.gob.hn\n")
    _forget_old_defaults(env)
    assert env.read_text() == "PORT=8000\nPUBLIC_BASE_URL=https://linea.sedesol.gob.hn\n"
