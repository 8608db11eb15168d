"""Storage of collections (催收) and concentration evaluations (集中度)."""
