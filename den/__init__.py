"""den service."""
