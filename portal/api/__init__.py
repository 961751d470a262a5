"""API for partner systems: tokens, JSON v1, EWP-style XML endpoints, the OpenAPI document."""
