"""Email channel: inbound (SMTP/LMTP, IMAP, pipe, webhooks) and outbound notifications."""
