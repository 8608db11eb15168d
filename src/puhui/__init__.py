"""Puhui (普惠): open-source digital lending platform for micro and small enterprises."""

__version__ = "0.1.0"
