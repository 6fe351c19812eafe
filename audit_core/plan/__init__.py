"""The audit plan: parsing and checking it, probe settings, writing it back, probe selection."""
