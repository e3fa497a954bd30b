"""inkpass service.

Identity and access: organisations, users, sessions, tokens, API keys, second factors, policies.
"""
