"""SLA policies, business calendars and due-date computation."""
