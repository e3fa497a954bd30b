"""inbox service.

The user's door: web UI, REST API and live streams; conversations projected from lifecycle
events.
"""
