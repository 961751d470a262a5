"""Institutions domain."""
