"""Guarantee agencies (银担合作): batch agreements, fees, claims and shared recoveries."""
