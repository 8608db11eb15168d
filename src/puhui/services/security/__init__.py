"""Security: users, roles and permissions, passwords, tokens, API keys, one-time codes."""
