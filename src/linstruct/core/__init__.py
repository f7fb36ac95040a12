"""Foundations with no model code: chapter parameters and profiles, claims and verdicts, seeding and threads."""
