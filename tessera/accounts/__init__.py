"""People: users (customers, agents, admins), organisations, departments, API tokens."""
