"""inkpass service.

Identity and access: organisations, users, sessions, tokens, API keys, second factors, one-time
passwords, federated sign-in, roles and ABAC policies, the audit trail.

Where to look first:

* `adapters/tables.py`: what is platform-scoped (a person and their credentials) and what is a
  tenant table under row-level security (everything an organisation owns), and why;
* `service/login.py`, `service/refresh_session.py`, `service/revoking.py`: sign-in, rotation
  with reuse detection, and how a revocation reaches every verifier;
* `domain/policy.py`: the authorization model (roles, scopes, ABAC, deny first);
* `shared/auth` (not here): what other services use to verify tokens and ask for decisions.
"""
