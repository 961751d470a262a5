"""Programs domain."""
