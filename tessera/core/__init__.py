"""Shared kernel: errors, clock, pagination, middleware and system checks."""
