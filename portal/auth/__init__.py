"""Accounts: registration, e-mail verification, login, password reset, roles."""
