"""Benchmarks: `python -m bench <name>`. Each measures the raw NATS/PostgreSQL floor in the same run
and prints its figures as one JSON object on the last line."""
