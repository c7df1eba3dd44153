"""Agent workspace: queues, ticket view, phone calls, bulk actions."""
