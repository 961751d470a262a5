"""Programmes: the catalogue, seats and quotas, eligibility rules, questions."""
