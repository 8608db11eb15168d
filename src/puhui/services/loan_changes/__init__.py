"""Use cases of contract changes: extension (展期), restructuring (重组), renewal (无还本续贷)."""
