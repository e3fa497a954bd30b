"""inkpass service."""
