"""Inbound mail: every path (SMTP/LMTP, IMAP, pipe, webhooks) ends in `store.store_raw`."""
