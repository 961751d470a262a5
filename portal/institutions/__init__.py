"""Universities, identified by SCHAC code, named in several languages."""
