"""Customers' services and orders, as displayed in the client area."""
