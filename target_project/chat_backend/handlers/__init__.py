"""Handlers for the frames a chat client sends, looked up by the frame's ``type``.

Importing this package registers the built-in handlers (see :mod:`chat_backend.handlers.builtin`).
"""
from . import builtin  # noqa: F401  (imported for its side effect: it fills the registry)
