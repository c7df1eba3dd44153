"""Tickets: the request, its conversation, attachments and the immutable timeline."""
