"""Pieces every area of Saihui shares: column types, domain errors, time zones, security headers, the audit log."""
