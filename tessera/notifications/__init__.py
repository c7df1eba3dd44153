"""Notification centre: in-app notifications with email copies."""
