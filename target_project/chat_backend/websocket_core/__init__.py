"""WebSocket plumbing: authentication, connection lifecycle, service health and small helpers."""
