"""The hospital's booking rules for a time window. Pure: no database, no Flask.

One place for every rule a window must pass, so booking, series and the seed
answer alike. Errors come back as ``{"window.start": [message]}`` with the rule
in words; the caller turns them into one 422 together with its other field
errors. A window is checked for its shape (offset, order, length, one local
day) and, for a care order, against the hospital's settings: not in the past,
at least the lead time ahead, within the horizon, within service hours, and
long enough for the visit.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

Errors = dict[str, list[str]]

MAX_WINDOW = timedelta(hours=12)


@dataclass(frozen=True)
class BookingRules:
    """The hospital's settings for booking a visit (``doorstep.settings.Settings``)."""

    tz: ZoneInfo
    lead: timedelta = timedelta(hours=24)
    horizon_days: int = 30
    opens: time = time(8)
    closes: time = time(18)

    @classmethod
    def from_settings(cls, settings: Any) -> BookingRules:
        opens, closes = settings.service_hours
        return cls(tz=ZoneInfo(settings.timezone), lead=timedelta(hours=settings.booking_lead_hours),
                   horizon_days=settings.booking_horizon_days, opens=opens, closes=closes)

    @property
    def hours(self) -> str:
        closes = "24:00" if self.closes == time.max else f"{self.closes:%H:%M}"
        return f"{self.opens:%H:%M}-{closes} ({self.tz.key})"

    def last_bookable_day(self, now: datetime) -> date:
        return now.astimezone(self.tz).date() + timedelta(days=self.horizon_days)


def window_errors(start: datetime | None, end: datetime | None, tz: ZoneInfo, field: str = "window") -> Errors:
    """The shape of any window: both ends with an offset, end after start, at most 12 hours, one local day."""
    errors: Errors = {}
    for name, value in (("start", start), ("end", end)):
        if value is None:
            errors[f"{field}.{name}"] = ["Missing data for required field."]
        elif value.tzinfo is None:
            errors[f"{field}.{name}"] = ["Must include a UTC offset."]
    if errors:
        return errors
    assert start is not None and end is not None
    if end <= start:
        errors[f"{field}.end"] = ["Must be after the start."]
    elif end - start > MAX_WINDOW:
        errors[f"{field}.end"] = ["A window lasts at most 12 hours."]
    elif start.astimezone(tz).date() != end.astimezone(tz).date():
        errors[f"{field}.end"] = ["Must be on the same local day as the start."]
    return errors


def booking_errors(start: datetime | None, end: datetime | None, *, rules: BookingRules, now: datetime,
                   duration_minutes: int | None = None, field: str = "window",
                   check_horizon: bool = True) -> Errors:
    """Every rule a care order's window must pass at the moment ``now``; empty when it passes.

    ``check_horizon=False`` is for the later occurrences of a series: the horizon
    says how far ahead a patient may start booking, and a series booked within
    it may run beyond it.
    """
    errors = window_errors(start, end, rules.tz, field)
    if errors:
        return errors
    assert start is not None and end is not None
    start_field, end_field = f"{field}.start", f"{field}.end"
    local_start, local_end = start.astimezone(rules.tz), end.astimezone(rules.tz)

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if start < now:
        add(start_field, "Is in the past.")
    elif start < now + rules.lead:
        earliest = (now + rules.lead).astimezone(rules.tz).replace(second=0, microsecond=0)
        add(start_field, f"Must be at least {_hours(rules.lead)} after booking (the hospital's lead time): "
                         f"from {earliest.isoformat()}.")
    if check_horizon and local_start.date() > rules.last_bookable_day(now):
        add(start_field, f"Visits are booked at most {rules.horizon_days} days ahead: "
                         f"the last day open for booking is {rules.last_bookable_day(now).isoformat()}.")
    if local_start.time() < rules.opens:
        add(start_field, f"Before our service hours, {rules.hours}.")
    if local_end.time() > rules.closes:
        add(end_field, f"After our service hours, {rules.hours}.")
    if duration_minutes is not None and end - start < timedelta(minutes=duration_minutes):
        add(end_field, f"Too short: the visit takes {duration_minutes} minutes, so the window must be "
                       f"at least that long.")
    return errors


def occurrence_windows(start: datetime, end: datetime, *, every_days: int, count: int,
                       tz: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """``count`` windows ``every_days`` apart at the same local time of day as the first."""
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    windows = []
    for n in range(count):
        day = local_start.date() + timedelta(days=n * every_days)
        windows.append((datetime.combine(day, local_start.timetz().replace(tzinfo=None), tzinfo=tz),
                        datetime.combine(day, local_end.timetz().replace(tzinfo=None), tzinfo=tz)))
    return windows


def open_orders_error(open_count: int, limit: int) -> str | None:
    """Why one more open order is refused, or None while the patient is under ``limit``."""
    if open_count < limit:
        return None
    return (f"You have {open_count} open care orders, the most the hospital allows at once ({limit}); "
            "a series counts as one. Cancel one, or book again when one is completed.")


CONTROL_EXEMPT = frozenset("\n\r\t")


def has_control_characters(text: str) -> bool:
    """Control characters other than newline, carriage return and tab (emoji and RTL text are fine)."""
    return any((ord(c) < 32 or 127 <= ord(c) < 160) and c not in CONTROL_EXEMPT for c in text)


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:g} hour" + ("" if hours == 1 else "s")
