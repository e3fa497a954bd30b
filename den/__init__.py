"""den service: files with folders, public and private access, signed URLs, resumable uploads.

Metadata lives in den's PostgreSQL database (row-level security per organisation), bytes in
the JetStream Object Store bucket `den` as parts of standard objects (`adapters/objectstore`).
Requests over the bus (`contracts.den`) manage folders, files, links and quotas and authorise
uploads; bytes go over HTTP only, through URLs den signs (`service/urls`, `domain/signing`):
tus 1.0 or a single PUT up, GET/HEAD with ranges down. How a client or a proxy (the inbox)
uses that surface, the headers and the error bodies: `contracts/den/http.py`.

    domain/       names, content sniffing and how it is served, ranges, conditionals, tus
                  headers, signatures, cursors: pure rules
    service/      one use case per module; receive_upload (streaming, leases, rollback),
                  complete_upload, reconcile (what crashes leave behind) are the heart
    adapters/     tables, queries, the Object Store reader and writer
    entrypoints/  bus handlers and the HTTP routes
"""
