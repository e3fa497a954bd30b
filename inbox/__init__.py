"""inbox service."""
