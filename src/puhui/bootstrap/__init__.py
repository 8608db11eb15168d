"""Composition root: reads Settings, builds adapters and wires services."""

from puhui.bootstrap.container import Platform, build_platform
from puhui.bootstrap.settings import Settings

__all__ = ["Platform", "Settings", "build_platform"]
