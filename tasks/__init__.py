"""Prefect tasks: thin wrappers that give the pure rules retries, logs and artifacts.

Every flow run's process imports this package (each flow is a composition of its tasks): here its
Prefect console is made to outlive a dead worker (tasks/console.py), or the run would stop, or
hang, at its next log line.
"""

from tasks.console import outlive_the_console

outlive_the_console()
