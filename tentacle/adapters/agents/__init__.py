"""The code behind agents: one runtime per kind (`noop`, `http_fetch`, `llm`, `notify`)."""
