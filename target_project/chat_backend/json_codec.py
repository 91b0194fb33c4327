"""JSON encoding for WebSocket frames.

orjson is used when it is installed (it is a declared dependency); the standard library's json module is
the fallback. Both sides produce the same compact text: no spaces, non-ASCII characters kept as they are.
"""
try:
    import orjson
except ImportError:  # orjson missing: fall back to the standard library
    import json

    def dumps(obj: object) -> str:
        """Serialise ``obj`` to compact JSON text."""
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)

    def loads(data: str | bytes) -> object:
        """Parse JSON text (str or UTF-8 bytes); raises ValueError on malformed input."""
        return json.loads(data)

else:

    def dumps(obj: object) -> str:
        """Serialise ``obj`` to compact JSON text."""
        return orjson.dumps(obj).decode("utf-8")

    def loads(data: str | bytes) -> object:
        """Parse JSON text (str or UTF-8 bytes); raises ValueError on malformed input."""
        return orjson.loads(data)
