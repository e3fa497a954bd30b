"""mimic service."""
