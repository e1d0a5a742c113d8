"""A payment-day campaign with a worker SIGKILLed mid-run: one notice per eligible household, none to
those who said BAJA, at the set pace (real workers, PostgreSQL, Redis, the Twilio stand-in).

The same run over 10,000 households is `make bench` (bench/campaign.py), with its figures in
docs/performance.md; here it is 2,400, so the suite stays short: the promises do not depend on
the size, and the dispatcher makes its rows in three chunks (1,000 rows each at most)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.campaign import run

pytestmark = pytest.mark.stack
CAMPAIGN_REDIS_URL = os.environ.get("TEST_CAMPAIGN_REDIS_URL", "redis://127.0.0.1:6379/6")
HOUSEHOLDS = 2_400
# Well under what one box sends with the chaos suite running beside it: the pace is the
# dispatcher's to keep, not the machine's to reach. 40/s held on an earlier machine; on the one of
# 2026-11-27 the same code reached a median of 28-30/s at 40/s asked, alone or beside the chaos
# suite, and held 25/s exactly (docs/performance.md). 20/s leaves room on a slower box.
RATE = 20.0


def test_a_campaign_sends_once_per_household_at_its_pace_through_a_worker_kill(tmp_path: Path) -> None:
    result = run(HOUSEHOLDS, RATE, CAMPAIGN_REDIS_URL, tmp_path, opt_out_every=50, kill_at=0.4)
    print(result.report())  # in the log of a failed run
    assert result.killed_after > 0, "the worker should have been killed mid-run"
    assert len(result.opted_out) == HOUSEHOLDS // 50 and result.eligible == HOUSEHOLDS - HOUSEHOLDS // 50
    assert result.problems() == []


def test_the_check_can_fail() -> None:
    from bench.campaign import CampaignRun

    twice = CampaignRun(2, {"+50430000000"}, 10.0, campaign_status="completed")
    twice.posts_to.update(["+50430000000", "+50430000001", "+50430000001"])
    twice.rows_per_household.update(["HH0", "HH1"])
    twice.statuses.update({"sent": 2})
    twice.post_times = [100.0 + i * 0.01 for i in range(300)]  # 300 in three seconds: far too fast
    found = twice.problems()
    assert "not exactly one notice per eligible household" in found
    assert "a notice went to a number that said BAJA" in found
    assert any(p.startswith("statuses") for p in found)
    assert any("over 10/s by more than 15 %" in p or "not within 10 %" in p for p in found)
