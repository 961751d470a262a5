"""Offer letters: PDF (WeasyPrint), verification, the student's answer, batches."""
