import pytest

from chat_backend.json_codec import dumps, loads


def test_round_trip_keeps_nested_values():
    event = {"type": "tool_completed", "result": {"words": 3, "characters": 17}, "tags": ["a", None, True]}
    assert loads(dumps(event)) == event


def test_dumps_returns_compact_text():
    text = dumps({"type": "pong", "id": 7, "ok": [1, 2.5]})
    assert isinstance(text, str)
    assert text == '{"type":"pong","id":7,"ok":[1,2.5]}'


def test_non_ascii_text_is_kept_as_is():
    assert dumps({"text": "grüße ☕"}) == '{"text":"grüße ☕"}'


def test_loads_accepts_bytes():
    assert loads(b'{"type":"ping"}') == {"type": "ping"}


def test_malformed_input_raises_value_error():
    with pytest.raises(ValueError):
        loads("{not json")
