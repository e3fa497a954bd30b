"""mimic service.

Notifications and integrations: templates, providers, delivery tracking, webhooks in and out.
"""
