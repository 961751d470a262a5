"""Nominations to partner universities: EWP student-mobility, partner portal, exports."""
