"""Notification providers behind ``services.prospects.ports.NotificationPort``."""
