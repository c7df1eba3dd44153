"""The REST API at /api/v1: token or session auth, RFC 9457 problem details, each app's router."""
