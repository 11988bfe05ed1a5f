"""A usage log, read as a stream: CSV with a header, JSON Lines, or a JSON array
(Hoox's asset-status objects as they come: `created_at`, `generation_params`,
`cost`). Each record is read into what pricing needs, or into the problem that
makes it unreadable (its line and field); a bad record never stops the file.
Nothing is loaded whole: a million records take the memory of one.

`line` is the record's number in the file, 1 for the first (a CSV header is
not counted)."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from catalog_sync.clock import as_utc

MODEL_KEYS = ("model", "name")
TIME_KEYS = ("at", "created_at", "timestamp")
PARAMS_KEYS = ("params", "generation_params")
COUNT_KEYS = ("count", "generation_count")
CHARGED_KEYS = ("charged", "cost")
RECORD_KEYS = frozenset((*MODEL_KEYS, *TIME_KEYS, *PARAMS_KEYS, *COUNT_KEYS, *CHARGED_KEYS))
CHUNK = 1 << 16


@dataclass(slots=True)
class UsageRecord:
    line: int
    fields: dict[str, Any]  # the record as read (its own fields, kept in --rows)
    model: str | None = None
    at: dt.datetime | None = None
    params: dict[str, Any] = field(default_factory=dict)
    # The keys its `model_settings` named: a setting the model does not know
    # cannot be left out as a prompt can (the point is then not a known one).
    settings: frozenset[str] = frozenset()
    count: int = 1
    charged: Decimal | None = None
    problem: str | None = None  # why it cannot be priced: basis `invalid`


def read_usage(stream: IO[str]) -> Iterator[UsageRecord]:
    """Every record of the stream, in order, read as far as it can be."""
    skipped = _skip_space(stream)
    documents: Iterator[Any]
    keys = ANY_KEYS
    if skipped == "[":
        documents = _json_array(stream)
    elif skipped == "{":
        documents = _json_lines(itertools.chain([skipped + stream.readline()], stream))
    else:
        header, documents = _csv_rows(itertools.chain([skipped + stream.readline()], stream))
        keys = _keys_of(header)
    for line, document in enumerate(documents, start=1):
        yield usage_record(line, document, keys)


def _csv_rows(lines: Iterator[str]) -> tuple[list[str], Iterator[dict[str, str]]]:
    """The header, and each CSV row as a dict by it (blank lines skipped)."""
    reader = csv.reader(lines)
    header = next(reader, None) or []
    return header, (dict(zip(header, row, strict=False)) for row in reader if row)


def _skip_space(stream: IO[str]) -> str:
    """Read past leading white space; the first other character ("" at the end)."""
    while True:
        char = stream.read(1)
        if not char or not char.isspace():
            return char


def _json_lines(lines: Iterator[str]) -> Iterator[Any]:
    for text in lines:
        if text.strip():
            try:
                yield json.loads(text)
            except ValueError as exc:
                yield _Unreadable(f"not JSON ({exc.args[0].split(':')[0]})")


def _json_array(stream: IO[str]) -> Iterator[Any]:
    """The elements of a JSON array (its "[" read already), decoded one at a time
    from a rolling buffer (an index into it: no copy per element) that is read
    on only when an element is incomplete."""
    decoder = json.JSONDecoder()
    buffer, at = "", 0
    while True:
        at = _past_separators(buffer, at)
        if at < len(buffer) and buffer[at] == "]":
            return
        try:
            document, end = decoder.raw_decode(buffer, at)
        except json.JSONDecodeError as exc:
            if exc.pos >= len(buffer) - 1 or len(buffer) - at < CHUNK:  # maybe incomplete
                more = stream.read(CHUNK)
                if more:
                    buffer, at = buffer[at:] + more, 0
                    continue
            if not buffer[at:].strip():
                return
            # A broken element: named, and the array goes on at the next object.
            yield _Unreadable(f"not JSON ({exc.msg})")
            following = buffer.find("{", max(exc.pos, at + 1))
            if following < 0:
                buffer, at = stream.read(CHUNK), 0
                if not buffer:
                    return
                continue
            at = following
            continue
        yield document
        at = end


def _past_separators(text: str, at: int) -> int:
    """The index of the first character at or after `at` that is neither white
    space nor a comma."""
    while at < len(text) and (text[at] in " \t\r\n,"):
        at += 1
    return at


@dataclass(frozen=True)
class _Unreadable:
    problem: str


@dataclass(frozen=True)
class _Keys:
    """Where a record's values may be: every key, or (a CSV) those of its header."""

    model: tuple[str, ...] = MODEL_KEYS
    time: tuple[str, ...] = TIME_KEYS
    params: tuple[str, ...] = PARAMS_KEYS
    count: tuple[str, ...] = COUNT_KEYS
    charged: tuple[str, ...] = CHARGED_KEYS
    flat: tuple[str, ...] | None = None  # the parameter columns; None: any other key


ANY_KEYS = _Keys()


def _keys_of(header: list[str]) -> _Keys:
    """The keys a CSV's rows can have: its header's, found once for the file."""

    def present(keys: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(key for key in keys if key in header)

    return _Keys(
        present(MODEL_KEYS),
        present(TIME_KEYS),
        present(PARAMS_KEYS),
        present(COUNT_KEYS),
        present(CHARGED_KEYS),
        tuple(key for key in header if key not in RECORD_KEYS),
    )


def usage_record(line: int, document: Any, keys: _Keys = ANY_KEYS) -> UsageRecord:
    """One record read into what pricing needs, or its problem (line and field)."""
    if isinstance(document, _Unreadable):
        return UsageRecord(line, {}, problem=f"line {line}: {document.problem}")
    if not isinstance(document, dict):
        return UsageRecord(line, {}, problem=f"line {line}: not an object")
    record = UsageRecord(line, document)  # an empty cell is an absent value (`_first`)
    try:
        record.model = _model(document, keys.model)
        record.at = _time(document, keys.time)
        record.params, record.settings = _params(document, keys)
        record.count = _count(document, keys.count)
        record.charged = _charged(document, keys.charged)
    except _Bad as bad:
        record.problem = f"line {line}: field {bad.field}: {bad.why}"
    return record


class _Bad(Exception):
    def __init__(self, field: str, why: str) -> None:
        self.field, self.why = field, why


def _first(fields: dict[str, Any], keys: tuple[str, ...]) -> tuple[str, Any] | None:
    """The first of `keys` the record has a value for (an empty cell is none)."""
    for key in keys:
        value = fields.get(key)
        if value is not None and value != "":
            return key, value
    return None


def _model(fields: dict[str, Any], keys: tuple[str, ...]) -> str:
    found = _first(fields, keys)
    if found is None or not isinstance(found[1], str) or not found[1].strip():
        raise _Bad(found[0] if found else "model", "no model named (model or name)")
    return found[1].strip()


def _time(fields: dict[str, Any], keys: tuple[str, ...]) -> dt.datetime:
    found = _first(fields, keys)
    if found is None:
        raise _Bad("at", "no time (at, created_at or timestamp)")
    key, value = found
    seen = _TIMES.get(value) if isinstance(value, str) else None
    if seen is not None:
        return seen
    try:
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)  # epoch seconds, as a CSV cell writes them
        if isinstance(value, int | float) and not isinstance(value, bool):
            return dt.datetime.fromtimestamp(value, dt.UTC)
        return _parsed_time(str(value).strip())
    except (ValueError, OverflowError, OSError):
        raise _Bad(key, f"{str(value)[:40]!r} is not a time") from None


_TIMES: dict[str, dt.datetime] = {}  # a log repeats its times: each parsed once (bounded)


def _parsed_time(text: str) -> dt.datetime:
    found = _TIMES.get(text)
    if found is None:
        if len(_TIMES) > 4096:
            _TIMES.clear()
        found = _TIMES[text] = as_utc(text)
    return found


def _params(fields: dict[str, Any], keys: _Keys) -> tuple[dict[str, Any], frozenset[str]]:
    """The parameters: an object (`params`, `generation_params`, settings flat or
    under `model_settings`; JSON text in a CSV cell), or flat columns."""
    found = _first(fields, keys.params)
    if found is None:
        flat = fields if keys.flat is None else keys.flat
        kept = {
            k: fields[k] for k in flat if k not in RECORD_KEYS and fields.get(k) not in ("", None)
        }
        return kept, frozenset()
    key, value = found
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise _Bad(key, "not a JSON object") from None
    if not isinstance(value, dict):
        raise _Bad(key, "not an object")
    settings = value.get("model_settings")
    # A JSON null is "the model's default": the same as leaving the key out.
    params = {k: v for k, v in value.items() if k != "model_settings" and v is not None}
    if not isinstance(settings, dict):
        return params, frozenset()
    named = {k: v for k, v in settings.items() if v is not None}
    params.update(named)
    return params, frozenset(named)


def _count(fields: dict[str, Any], keys: tuple[str, ...]) -> int:
    found = _first(fields, keys)
    if found is None:
        return 1
    key, value = found
    if isinstance(value, str) and value.isdigit() and value != "0":
        return int(value)  # the usual cell
    try:
        number = float(str(value).strip()) if not isinstance(value, bool) else math.nan
    except ValueError:
        number = math.nan
    if not (math.isfinite(number) and number == int(number) and number >= 1):
        raise _Bad(key, f"{str(value)[:40]!r} is not a whole number of generations")
    return int(number)


def _charged(fields: dict[str, Any], keys: tuple[str, ...]) -> Decimal | None:
    found = _first(fields, keys)
    if found is None:
        return None
    key, value = found
    try:
        amount = Decimal(str(value).strip()) if not isinstance(value, bool) else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise _Bad(key, f"{str(value)[:40]!r} is not a number of credits")
    return amount
