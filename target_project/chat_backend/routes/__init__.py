"""Network entry points of the chat service."""
