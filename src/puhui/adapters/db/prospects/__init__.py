"""Prospects (主动授信) on the database: runs, the queue, the outbox and opt-outs."""
