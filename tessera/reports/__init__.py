"""Reports: read-only figures and CSV exports over tickets and SLA records."""
