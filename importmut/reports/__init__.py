"""Reporters: each renders the report model (reports.model) in one format."""
