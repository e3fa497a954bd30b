"""Email providers: Postmark and Resend over HTTP, SMTP, and the dev sink (SMTP into a Maildir)."""
