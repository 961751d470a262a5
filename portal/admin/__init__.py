"""The operator's pages: accounts and roles."""
