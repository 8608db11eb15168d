"""Guarantee agencies (银担合作): the use cases and their ports."""
