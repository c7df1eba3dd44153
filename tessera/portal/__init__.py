"""The customer client area (views and templates only)."""
