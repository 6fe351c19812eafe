"""Reusable widgets: generated settings forms, verdict badges, charts, tables."""
