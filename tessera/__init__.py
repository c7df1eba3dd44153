"""Tessera: an open-source help desk."""
