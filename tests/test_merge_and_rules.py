"""Merging reports into events, and deciding which events alert whom: pure functions, no I/O."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from config.schema import AlertSettings, LabSettings
from monitor.catalog import Catalog, default_catalog
from monitor.merge import is_same_event, merge, new_event
from monitor.people import person_keys
from monitor.records import Event, Move, Source
from monitor.rules import alert_id, lab_matches, plan_alerts, tracked_labs
from monitor.schedule import alert_retry_at, next_poll

NOW = datetime(2025, 8, 10, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return default_catalog()


def move(person: str | None = "Yan Zhijie", from_org: str | None = "Alibaba Tongyi Lab",
         to_org: str | None = "JD.com Explore Academy", **kw: object) -> Move:
    return Move(person=person, from_org=from_org, to_org=to_org, **kw)  # type: ignore[arg-type]


def stored(m: Move, event_id: int = 7) -> Event:
    return replace(new_event(m, NOW), id=event_id)


# ── people ───────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("spelling", ["Zhijie Yan", "YAN Zhijie", "Yan Zhi-jie", "鄢志杰", "yan zhijie"])
def test_spellings_of_one_chinese_name_meet(spelling: str) -> None:
    assert person_keys("Yan Zhijie") & person_keys(spelling)


def test_different_people_do_not_meet() -> None:
    assert not person_keys("Yan Zhijie") & person_keys("Bo Liefeng")
    assert not person_keys("Li Xiangang") & person_keys("Li Xuechen")


# ── merge ────────────────────────────────────────────────────────────────────


def test_the_same_move_in_two_languages_is_one_event(catalog: Catalog) -> None:
    english = stored(move(from_org="Alibaba Tongyi Lab", to_org="JD.com Explore Academy"))
    indonesian = move(person="Yan Zhijie", from_org="Alibaba", to_org="JD Explore Academy")
    assert is_same_event(english, indonesian, catalog)


def test_a_report_with_an_unknown_side_joins_the_event(catalog: Catalog) -> None:
    assert is_same_event(stored(move()), move(to_org=None), catalog)


def test_reports_that_disagree_on_a_side_are_different_events(catalog: Catalog) -> None:
    assert not is_same_event(stored(move()), move(to_org="Tencent Hunyuan"), catalog)
    assert not is_same_event(stored(move()), move(person="Bo Liefeng"), catalog)


def test_merging_keeps_the_most_specific_names_and_the_strongest_status(catalog: Catalog) -> None:
    first = stored(move(from_org="Alibaba", to_org=None, confidence=0.6, status="reported"))
    merged = merge(first, move(person="鄢志杰", confidence=0.7, status="confirmed", role="speech lab head"), catalog)
    assert merged.from_org == "Alibaba Tongyi Lab"
    assert merged.to_org == "JD.com Explore Academy"
    assert merged.status == "confirmed"
    assert merged.role == "speech lab head"
    assert merged.confidence > 0.7
    assert "鄢志杰" in merged.person_aliases


def test_unnamed_groups_merge_only_when_both_sides_agree(catalog: Catalog) -> None:
    group = stored(move(person=None, from_org="01.AI", to_org="Alibaba Tongyi Lab"))
    assert is_same_event(group, move(person=None, from_org="01.AI", to_org="Tongyi Lab"), catalog)
    assert not is_same_event(group, move(person=None, from_org="01.AI", to_org="Alibaba Cloud"), catalog)
    assert not is_same_event(group, move(person="Li Xiangang", from_org="01.AI", to_org="Tongyi Lab"), catalog)


# ── rules ────────────────────────────────────────────────────────────────────


def with_source(event: Event, published: datetime | None = NOW) -> Event:
    return replace(event, sources=(Source(url="http://example.com/a", title="A", published=published),))


def test_tracking_a_company_covers_its_units_but_not_the_other_way(catalog: Catalog) -> None:
    [alibaba, tongyi] = tracked_labs([LabSettings(name="Alibaba"), LabSettings(name="Tongyi Lab")], catalog)
    assert lab_matches(alibaba, "Alibaba Tongyi Lab", "Alibaba", catalog)
    assert lab_matches(tongyi, "Alibaba Tongyi Lab", "Alibaba", catalog)
    assert lab_matches(tongyi, "通义实验室", None, catalog)
    assert not lab_matches(tongyi, "Alibaba Cloud", "Alibaba", catalog)
    assert not lab_matches(tongyi, "Tencent Hunyuan", "Tencent", catalog)


def test_a_lab_unknown_to_the_catalog_matches_by_its_names(catalog: Catalog) -> None:
    [lab] = tracked_labs([LabSettings(name="Nebula Research", aliases=("Nebula",))], catalog)
    assert lab_matches(lab, "Nebula", None, catalog)
    assert not lab_matches(lab, "OpenAI", None, catalog)


def test_a_departure_from_a_tracked_lab_is_one_loss_alert_per_channel(catalog: Catalog) -> None:
    labs = tracked_labs([LabSettings(name="Alibaba Tongyi Lab")], catalog)
    event = with_source(stored(move(confidence=0.9)))
    plans = plan_alerts(event, labs, AlertSettings(), ["mail", "hook"], catalog, NOW)
    assert [(p.kind, p.channel) for p in plans] == [("loss", "mail"), ("loss", "hook")]
    assert plans[0].id == alert_id(event.id, "loss", "Alibaba Tongyi Lab", "mail")
    assert len({p.id for p in plans}) == 2


def test_a_joiner_is_no_loss_and_a_gain_only_when_asked_for(catalog: Catalog) -> None:
    labs = tracked_labs([LabSettings(name="Alibaba Tongyi Lab")], catalog)
    joiner = with_source(stored(move(person="Li Xiangang", from_org="01.AI", to_org="Alibaba Tongyi Lab",
                                     confidence=0.9)))
    assert plan_alerts(joiner, labs, AlertSettings(), ["hook"], catalog, NOW) == []
    gains = plan_alerts(joiner, labs, AlertSettings(on=("loss", "gain")), ["hook"], catalog, NOW)
    assert [p.kind for p in gains] == ["gain"]


def test_weak_rumoured_and_old_events_do_not_alert(catalog: Catalog) -> None:
    labs = tracked_labs([LabSettings(name="Alibaba")], catalog)
    settings = AlertSettings(min_confidence=0.5)
    event = with_source(stored(move(confidence=0.9)))
    assert plan_alerts(replace(event, confidence=0.3), labs, settings, ["h"], catalog, NOW) == []
    assert plan_alerts(replace(event, status="rumoured"), labs, settings, ["h"], catalog, NOW) == []
    assert plan_alerts(replace(event, status="rumoured"), labs, AlertSettings(rumoured=True), ["h"], catalog, NOW)
    old = with_source(event, NOW - timedelta(days=30))
    assert plan_alerts(old, labs, settings, ["h"], catalog, NOW) == []


# ── schedule ─────────────────────────────────────────────────────────────────


def test_errors_push_the_next_poll_back_up_to_a_day() -> None:
    rng = random.Random(1)
    assert next_poll(NOW, 900) == NOW + timedelta(seconds=900)
    one = next_poll(NOW, 900, error_count=1, rng=rng) - NOW
    five = next_poll(NOW, 900, error_count=5, rng=rng) - NOW
    many = next_poll(NOW, 900, error_count=40, rng=rng) - NOW
    assert timedelta(seconds=900) < one < five <= many <= timedelta(hours=26.5)


def test_the_servers_hints_are_a_lower_bound() -> None:
    assert next_poll(NOW, 60, retry_after=600) - NOW >= timedelta(seconds=600)
    assert next_poll(NOW, 60, max_age=300) - NOW == timedelta(seconds=300)
    assert next_poll(NOW, 900, max_age=10) - NOW == timedelta(seconds=900)


def test_alert_retries_back_off_then_give_up() -> None:
    first = alert_retry_at(NOW, NOW, 1, rng=random.Random(1))
    later = alert_retry_at(NOW, NOW, 6, rng=random.Random(1))
    assert first is not None and later is not None and first < later
    assert alert_retry_at(NOW, NOW, 1, retry_after=120) >= NOW + timedelta(seconds=120)  # type: ignore[operator]
    assert alert_retry_at(NOW + timedelta(days=3), NOW, 9) is None
