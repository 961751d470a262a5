"""Applications domain."""
