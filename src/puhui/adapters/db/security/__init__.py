"""Security storage: users, API keys, one-time codes, revoked sessions and rate limits."""
