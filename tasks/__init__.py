"""Prefect tasks: thin wrappers that give the pure rules retries, logs and artifacts."""
