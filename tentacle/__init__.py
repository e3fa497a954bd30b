"""tentacle service."""
