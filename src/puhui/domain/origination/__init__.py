"""Origination: applications, consent, anti-fraud rules, offers and contracts (pure domain)."""
