"""The pure parts of alerting: schedules, rate limits, exodus crossings, follow-ups, retry delays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from config.cron import digest_trigger
from config.schema import AlertSettings, ExodusSettings, WebhookChannel
from monitor.deliver import Batch, within_limits
from monitor.digest import digest_id, period_ended
from monitor.exodus import exodus_plans, is_crossing
from monitor.records import Event
from monitor.rules import AlertPlan, alert_id, follow_up_plans
from monitor.schedule import RETRY_BASE_VARIABLE, alert_retry_at

NOW = datetime(2025, 8, 10, 9, 0, tzinfo=UTC)  # a Sunday


@pytest.mark.parametrize(("expression", "expected"), [
    ("daily 09:00", datetime(2025, 8, 11, 9, 0, tzinfo=UTC)),
    ("hourly", datetime(2025, 8, 10, 10, 0, tzinfo=UTC)),
    ("weekly fri 17:30", datetime(2025, 8, 15, 17, 30, tzinfo=UTC)),
    ("0 9 * * 1-5", datetime(2025, 8, 11, 9, 0, tzinfo=UTC)),  # crontab weekdays: 1 is Monday
    ("0 8 * * 0", datetime(2025, 8, 17, 8, 0, tzinfo=UTC)),  # 0 is Sunday, as in crontab
    ("30 */5 * * * *", datetime(2025, 8, 10, 9, 0, 30, tzinfo=UTC)),  # seconds first
])
def test_digest_schedules(expression: str, expected: datetime) -> None:
    assert digest_trigger(expression).get_next_fire_time(None, NOW + timedelta(microseconds=1)) == expected


def test_a_digest_schedule_reads_its_time_zone() -> None:
    fire = digest_trigger("daily 09:00", "Asia/Shanghai").get_next_fire_time(None, NOW)
    assert fire is not None and fire.astimezone(UTC).hour == 1


@pytest.mark.parametrize("bad", ["daily", "daily 9", "weekly someday 09:00", "61 * * * *", "0 9 * * 8", "soon"])
def test_a_bad_digest_schedule_is_refused_by_the_config(bad: str) -> None:
    with pytest.raises(ValidationError, match="digest"):
        WebhookChannel(url="https://hooks.example.com/x", digest=bad)


def test_a_period_ends_when_the_schedule_fires_after_the_last_close() -> None:
    daily = digest_trigger("daily 18:00")
    assert not period_ended(daily, NOW, NOW + timedelta(hours=8))
    assert period_ended(daily, NOW, NOW + timedelta(hours=9))
    assert not period_ended(daily, NOW.replace(hour=18), NOW.replace(hour=18)), "a close is not its own next"
    assert digest_id("hook", NOW) == digest_id("hook", NOW) != digest_id("hook", NOW + timedelta(days=1))


@pytest.mark.parametrize(("text", "expected"), [("20/h", (20, 3600.0)), ("5/10m", (5, 600.0)), ("1/d", (1, 86400.0)),
                                                ("off", None)])
def test_rate_limits(text: str, expected: tuple[int, float] | None) -> None:
    assert WebhookChannel(url="https://hooks.example.com/x", rate_limit=text).rate_limit == expected


def test_chat_channels_are_rate_limited_by_default_and_json_ones_are_not() -> None:
    assert WebhookChannel(url="https://hooks.slack.com/x", format="slack").rate_limit == (20, 3600.0)
    assert WebhookChannel(url="https://discord.com/api/webhooks/x", format="discord").rate_limit == (20, 3600.0)
    assert WebhookChannel(url="https://hooks.example.com/x").rate_limit is None


@pytest.mark.parametrize("bad", ["20", "0/h", "x/h", "20/fortnight", "-1/h"])
def test_a_bad_rate_limit_is_refused(bad: str) -> None:
    with pytest.raises(ValidationError, match="rate_limit"):
        WebhookChannel(url="https://hooks.example.com/x", rate_limit=bad)


def test_within_limits_sends_the_oldest_first_and_holds_the_rest() -> None:
    found = [Batch(f"a{i}", "slack" if i % 2 else "mail", ()) for i in range(6)]
    send, wait = within_limits(found, {"slack": 2})
    assert [b.key for b in send] == ["a0", "a1", "a2", "a3", "a4"]
    assert [b.key for b in wait] == ["a5"]
    assert within_limits(found, {"slack": 0, "mail": 0}) == ([], found)


def test_an_exodus_crossing_is_the_loss_that_brings_the_count_to_exactly_n() -> None:
    assert is_crossing(3, [1, 2, 3], 3)
    assert not is_crossing(4, [1, 2, 3, 4], 3), "already above: the crossing was earlier"
    assert not is_crossing(2, [1, 2], 3)
    assert not is_crossing(9, [1, 2, 3], 3), "a loss outside the count crosses nothing"
    plans = exodus_plans("OpenAI", 3, [1, 2, 3], ExodusSettings(count=3, window=86400), ["mail", "hook"])
    assert [(p.kind, p.channel, p.related) for p in plans] == [("exodus", "mail", (1, 2, 3)),
                                                               ("exodus", "hook", (1, 2, 3))]
    assert plans[0].id == alert_id(3, "exodus", "OpenAI", "mail")
    assert exodus_plans("OpenAI", 3, [1, 2, 3], None, ["mail"]) == []


def test_the_exodus_count_must_be_at_least_two() -> None:
    with pytest.raises(ValidationError):
        AlertSettings(exodus={"count": 1, "window": "30d"})  # type: ignore[arg-type]


def event(status: str) -> Event:
    return Event(id=7, person="Alice Martin", from_org="OpenAI", to_org="Anthropic", role=None, confidence=0.9,
                 status=status, first_seen=NOW)  # type: ignore[arg-type]


def test_follow_ups_only_when_asked_and_only_on_the_rise_to_confirmed() -> None:
    plans = [AlertPlan(alert_id(7, "loss", "OpenAI", "mail"), "loss", "OpenAI", "mail")]
    on = AlertSettings(follow_up=True)
    [follow] = follow_up_plans(plans, "reported", event("confirmed"), on)
    assert follow.kind == "loss_confirmed" and follow.id not in {p.id for p in plans}
    assert follow_up_plans(plans, "reported", event("confirmed"), AlertSettings()) == []
    assert follow_up_plans(plans, None, event("confirmed"), on) == [], "a new event's first alert says it"
    assert follow_up_plans(plans, "confirmed", event("confirmed"), on) == []
    assert follow_up_plans(plans, "rumoured", event("reported"), on) == []


def test_the_retry_base_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import random

    monkeypatch.setenv(RETRY_BASE_VARIABLE, "0.5")
    first = alert_retry_at(NOW, NOW, 1, rng=random.Random(1))
    assert first is not None and first - NOW < timedelta(seconds=1)
    monkeypatch.setenv(RETRY_BASE_VARIABLE, "nonsense")
    fallback = alert_retry_at(NOW, NOW, 1, rng=random.Random(1))
    assert fallback is not None and fallback - NOW > timedelta(seconds=5)


def test_a_template_folder_must_exist_and_its_templates_must_parse(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="not a folder"):
        AlertSettings(templates=tmp_path / "missing")  # type: ignore[arg-type]
    (tmp_path / "subject.txt.j2").write_text("{{ headline ", "utf-8")
    with pytest.raises(ValidationError, match=r"subject\.txt\.j2 line 1"):
        AlertSettings(templates=tmp_path)  # type: ignore[arg-type]
