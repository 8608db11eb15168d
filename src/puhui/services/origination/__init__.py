"""Origination use cases: apply, consent, assess, review, accept; and the ports they need."""
