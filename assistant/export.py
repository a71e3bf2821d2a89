"""Feedback votes and usage records as CSV or JSON rows, for joining votes with models and prompts.

Pure functions: the caller fetches the records and owns the streams (`python -m assistant export`
in `assistant/__main__.py` is the one caller). Both kinds go through the same code, driven by the
record dataclass's own fields, so a field added to `FeedbackVote` or `UsageRecord` shows up in the
export without touching this module.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from typing import Any, TextIO

from assistant.storage.state_store import FeedbackVote, UsageRecord

Row = dict[str, Any]

_DURATION = re.compile(r"(\d{1,9})([mhdw])")  # more digits could overflow a float
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86_400, "w": 604_800}


@dataclass(frozen=True)
class ExportKind:
    record_type: type
    time_field: str  # epoch seconds; gets an ISO-8601 twin column right after it
    noun: str  # singular, for the summary line

    @property
    def iso_field(self) -> str:
        return f"{self.time_field}_iso"

    def describe(self, count: int) -> str:
        return f"{count} {self.noun}{'' if count == 1 else 's'}"


KINDS: Mapping[str, ExportKind] = {
    "feedback": ExportKind(FeedbackVote, "voted_at", "feedback vote"),
    "usage": ExportKind(UsageRecord, "recorded_at", "usage record"),
}


def iso_utc(epoch: float) -> str:
    """Whole seconds are enough for a human or a spreadsheet; the epoch column keeps full precision."""
    return datetime.fromtimestamp(epoch, tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_since(text: str, now: float) -> float:
    """Epoch seconds from an ISO date/datetime (naive means UTC) or a duration before `now` (7d)."""
    cleaned = text.strip()
    duration = _DURATION.fullmatch(cleaned)
    if duration:
        return _not_before_epoch(now - int(duration.group(1)) * _UNIT_SECONDS[duration.group(2)])
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        raise ValueError(
            "expected an ISO date (2026-11-01), an ISO datetime (2026-11-01T12:00:00Z) "
            f"or a duration (30m, 12h, 7d, 2w), got {text!r}"
        ) from None
    # Stored times are UTC epochs and the bot may run in any time zone: a local reading would
    # silently shift the window by the operator's offset.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return _not_before_epoch(moment.timestamp())


def _not_before_epoch(since: float) -> float:
    # No record predates 1970, and clamping keeps "9999w" or "0001-01-01" printable as a date.
    return max(0.0, since)


def _kind(what: str) -> ExportKind:
    try:
        return KINDS[what]
    except KeyError:
        raise ValueError(f"unknown export {what!r}; expected one of {', '.join(KINDS)}") from None


def fieldnames_for(kind: ExportKind) -> list[str]:
    names: list[str] = []
    for field in fields(kind.record_type):
        names.append(field.name)
        if field.name == kind.time_field:
            names.append(kind.iso_field)
    return names


def _row(kind: ExportKind, names: Sequence[str], record: Any) -> Row:
    if not isinstance(record, kind.record_type):
        raise TypeError(f"expected {kind.record_type.__name__}, got {type(record).__name__}")
    values = asdict(record)
    values[kind.iso_field] = iso_utc(values[kind.time_field])
    return {name: values[name] for name in names}


def rows_for(what: str, records: Sequence[Any]) -> tuple[list[str], list[Row]]:
    """Column names (also for no records, so a CSV still has its header) and one dict per record."""
    kind = _kind(what)
    names = fieldnames_for(kind)
    return names, [_row(kind, names, record) for record in records]


def _csv_cell(value: Any) -> Any:
    # csv would write True/None as "True"/"None"; lower-case booleans and empty cells are what
    # spreadsheets and the JSON export agree on.
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value


def write_csv(fieldnames: Sequence[str], rows: Sequence[Row], stream: TextIO) -> None:
    """`stream` should be opened with newline="" so the csv module controls line endings."""
    writer = csv.DictWriter(stream, fieldnames=list(fieldnames))
    writer.writeheader()
    writer.writerows({name: _csv_cell(value) for name, value in row.items()} for row in rows)


def write_json(rows: Sequence[Row], stream: TextIO) -> None:
    json.dump(list(rows), stream, ensure_ascii=False, indent=2)
    stream.write("\n")
