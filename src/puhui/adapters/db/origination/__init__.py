"""Origination and security storage: tables, encrypted personal data, repositories, unit of work."""
