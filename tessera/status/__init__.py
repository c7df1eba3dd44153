"""Service status page: components, incidents, planned maintenance."""
