"""A usage log read as a stream, whatever its form: CSV, JSON Lines, a JSON
array of Hoox's asset-status objects; a bad record is named and never stops
the file."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal

from catalog_sync.analysts.usage_log import read_usage

AT = dt.datetime(2026, 10, 1, 6, tzinfo=dt.UTC)


def test_csv_flat_columns_and_an_empty_cell_is_absent() -> None:
    text = "model,at,duration,resolution,count,charged\nveo-3.1,2026-10-01T06:00:00Z,8,,2,64\n"
    (record,) = read_usage(io.StringIO(text))
    assert (record.line, record.model, record.at, record.count) == (1, "veo-3.1", AT, 2)
    assert record.params == {"duration": "8"}
    assert record.charged == Decimal("64")
    assert record.problem is None


def test_hoox_asset_status_objects_in_a_json_array() -> None:
    status = {
        "id": "a1",
        "model": "veo-3.1",
        "created_at": "2026-10-01T06:00:00.000Z",
        "generation_params": {
            "prompt": "a cat",
            "duration": 8,
            "model_settings": {"generateAudio": False},
        },
        "cost": 48,
    }
    text = "  [" + json.dumps(status) + ",\n" + json.dumps({**status, "id": "a2"}) + "]"
    records = list(read_usage(io.StringIO(text)))
    assert [r.line for r in records] == [1, 2]
    assert records[0].params == {"prompt": "a cat", "duration": 8, "generateAudio": False}
    assert records[0].settings == frozenset({"generateAudio"})  # the keys model_settings named
    assert records[0].at == AT and records[0].charged == Decimal("48")
    assert records[1].fields["id"] == "a2"


def test_a_broken_record_is_named_by_line_and_field_and_the_file_goes_on() -> None:
    lines = [
        {"model": "a", "at": "2026-10-01"},
        {"at": "2026-10-01"},
        {"model": "a", "at": "yesterday"},
        {"model": "a", "at": "2026-10-01", "count": 0},
        {"model": "a", "at": "2026-10-01", "charged": "lots"},
    ]
    text = "\n".join(json.dumps(line) for line in lines) + "\nnot json\n"
    problems = [r.problem for r in read_usage(io.StringIO(text))]
    assert problems[0] is None
    assert problems[1] == "line 2: field model: no model named (model or name)"
    assert problems[2] == "line 3: field at: 'yesterday' is not a time"
    assert problems[3] == "line 4: field count: '0' is not a whole number of generations"
    assert problems[4] == "line 5: field charged: 'lots' is not a number of credits"
    assert problems[5] is not None and problems[5].startswith("line 6: not JSON")


def test_a_large_array_is_read_one_element_at_a_time() -> None:
    count = 20_000  # several of the reader's chunks
    body = ",".join(json.dumps({"model": f"m{i}", "at": "2026-10-01"}) for i in range(count))
    records = read_usage(io.StringIO("[" + body + "]"))
    seen = 0
    for seen, record in enumerate(records, start=1):
        assert record.model == f"m{seen - 1}"
    assert seen == count


def test_a_broken_element_of_an_array_is_named_and_the_rest_is_read() -> None:
    good = json.dumps({"model": "m", "at": "2026-10-01"})
    text = "[" + ",".join([good] * 2) + ', {"model": "x", oops}, ' + good + "]"
    records = list(read_usage(io.StringIO(text)))
    assert [r.line for r in records] == [1, 2, 3, 4]
    assert records[2].problem is not None and records[2].problem.startswith("line 3: not JSON")
    assert records[3].model == "m" and records[3].problem is None


def test_epoch_seconds_and_a_byte_order_mark_are_read() -> None:
    (record,) = read_usage(io.StringIO("model,at\nm,1767225600\n"))
    assert record.at == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
