"""Tests of status conditions: transition times, order and formatting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from dupcert.conditions import (
    ISSUING,
    READY,
    Reason,
    find_condition,
    format_time,
    parse_time,
    remove_condition,
    set_condition,
)

T0 = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
T1 = T0 + timedelta(minutes=5)


def test_new_condition_fields_set() -> None:
    conditions = set_condition(None, READY, True, Reason.READY, "ok", 3, T0)

    assert conditions == [
        {
            "type": READY,
            "status": "True",
            "reason": Reason.READY,
            "message": "ok",
            "lastTransitionTime": "2025-06-01T12:00:00Z",
            "observedGeneration": 3,
        }
    ]


def test_same_status_keeps_transition_time() -> None:
    first = set_condition(None, READY, False, Reason.ORDER_NOT_FOUND, "none", 1, T0)

    second = set_condition(first, READY, False, Reason.PENDING_APPROVAL, "waiting", 2, T1)

    assert second[0]["lastTransitionTime"] == "2025-06-01T12:00:00Z"
    assert second[0]["reason"] == Reason.PENDING_APPROVAL
    assert second[0]["message"] == "waiting"
    assert second[0]["observedGeneration"] == 2


def test_status_flip_moves_transition_time() -> None:
    first = set_condition(None, READY, False, Reason.ORDER_NOT_FOUND, "none", 1, T0)

    second = set_condition(first, READY, True, Reason.READY, "ok", 1, T1)

    assert second[0]["status"] == "True"
    assert second[0]["lastTransitionTime"] == "2025-06-01T12:05:00Z"


def test_missing_transition_time_filled() -> None:
    previous = [{"type": READY, "status": "True", "reason": Reason.READY, "message": "ok"}]

    conditions = set_condition(previous, READY, True, Reason.READY, "ok", 1, T1)

    assert conditions[0]["lastTransitionTime"] == "2025-06-01T12:05:00Z"


def test_ready_sorted_before_issuing() -> None:
    conditions = set_condition(None, ISSUING, True, Reason.RENEWING, "renewing", 1, T0)
    conditions = set_condition(conditions, "Custom", True, "Other", "other", 1, T0)
    conditions = set_condition(conditions, READY, True, Reason.READY, "ok", 1, T0)

    assert [c["type"] for c in conditions] == [READY, ISSUING, "Custom"]


def test_other_conditions_kept_unchanged() -> None:
    ready = set_condition(None, READY, True, Reason.READY, "ok", 1, T0)

    conditions = set_condition(ready, ISSUING, True, Reason.RENEWING, "renewing", 2, T1)

    assert conditions[0] == ready[0]


def test_input_list_not_modified() -> None:
    previous = set_condition(None, READY, True, Reason.READY, "ok", 1, T0)
    snapshot = [dict(c) for c in previous]

    set_condition(previous, READY, False, Reason.EXPIRED, "expired", 2, T1)

    assert previous == snapshot


def test_no_generation_no_observed_generation() -> None:
    conditions = set_condition(None, READY, True, Reason.READY, "ok", None, T0)

    assert "observedGeneration" not in conditions[0]


def test_remove_condition_drops_type() -> None:
    conditions = set_condition(None, READY, True, Reason.READY, "ok", 1, T0)
    conditions = set_condition(conditions, ISSUING, True, Reason.RENEWING, "renewing", 1, T0)

    remaining = remove_condition(conditions, ISSUING)

    assert find_condition(remaining, ISSUING) is None
    assert find_condition(remaining, READY) == conditions[0]


def test_format_time_whole_seconds_utc() -> None:
    moment = datetime(2025, 6, 1, 14, 0, 0, 999999, tzinfo=timezone(timedelta(hours=2)))

    assert format_time(moment) == "2025-06-01T12:00:00Z"


def test_parse_time_round_trip() -> None:
    assert parse_time("2025-06-01T12:00:00Z") == T0
    assert parse_time(format_time(T1)) == T1


def test_parse_time_empty_is_none() -> None:
    assert parse_time(None) is None
    assert parse_time("") is None
