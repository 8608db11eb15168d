"""Storage of loan contract changes (extension, restructuring, renewal)."""
