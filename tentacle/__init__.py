"""tentacle service.

Orchestration: goals become plans, agents run the steps, risky steps wait for a human.
"""
