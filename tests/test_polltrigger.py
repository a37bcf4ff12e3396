"""A feed's trigger: the configured interval on average, spread by its jitter, on whole seconds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from apscheduler.triggers.interval import IntervalTrigger

from monitor.polltrigger import PollTrigger

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def fire_times(trigger: IntervalTrigger, count: int) -> list[datetime]:
    """What the scheduler does: each run time from the one before it."""
    times = [START]
    for _ in range(count):
        nxt = trigger.get_next_fire_time(times[-1], times[-1])
        assert nxt is not None
        times.append(nxt)
    return times


def test_polls_keep_the_configured_interval_on_average_where_apschedulers_own_trigger_drifts_later() -> None:
    ours = fire_times(PollTrigger(seconds=900, jitter=90, start_date=START), 2000)
    theirs = fire_times(IntervalTrigger(seconds=900, jitter=90, start_date=START), 2000)
    mean = (ours[-1] - ours[0]).total_seconds() / 2000
    assert abs(mean - 900) < 3
    assert (theirs[-1] - theirs[0]).total_seconds() / 2000 > 930, "45 s later a poll: the drift this trigger removes"


def test_run_times_fall_on_whole_seconds_within_the_jitter() -> None:
    times = fire_times(PollTrigger(seconds=60, jitter=6, start_date=START), 500)
    assert all(t.microsecond == 0 for t in times)
    gaps = {(b - a).total_seconds() for a, b in pairwise(times)}
    assert min(gaps) >= 57 and max(gaps) <= 63
    assert len(gaps) > 3, "the jitter still spreads polls that fell due together"


def test_a_one_second_interval_stays_one_second() -> None:
    times = fire_times(PollTrigger(seconds=1, jitter=0.1, start_date=START), 50)
    assert {(b - a).total_seconds() for a, b in pairwise(times)} == {1.0}


def test_the_first_run_time_and_the_end_date_behave_as_apschedulers() -> None:
    trigger = PollTrigger(seconds=60, start_date=START + timedelta(seconds=0.7), end_date=START + timedelta(minutes=2))
    assert trigger.get_next_fire_time(None, START) == START + timedelta(seconds=1)
    assert trigger.get_next_fire_time(START + timedelta(minutes=2), START) is None
