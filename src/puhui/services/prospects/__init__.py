"""Prospects (主动授信) in the platform: load a run, assign, work the queue, offer, convert."""
