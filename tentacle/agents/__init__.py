"""The built-in agents, one YAML file each (validated by `tentacle.domain.agents.AgentSpec`)."""
