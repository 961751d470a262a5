"""The student's profile, filled once and used by every application."""
