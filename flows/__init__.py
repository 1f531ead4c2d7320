"""Prefect flows, one module per procedure; each is a thin composition of tasks."""
