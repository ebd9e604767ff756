"""Scheduling, caching, retries, resume and accounting for model calls."""
