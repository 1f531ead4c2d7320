"""A process's Prefect console outlives its reader (tasks/console.py): what a killed process
worker leaves its flow runs, and the local Dask cluster's workers, with (issue 19, item 6)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: A Dask worker process as the local cluster starts it: Prefect imported but its logging not yet
#: set up; its console (standard error) a pipe whose reader is gone; the preload's hook, then what
#: the worker's first task run does (Prefect's logging set-up) and a log line.
_WORKER = '''
import logging, os, sys
import prefect
read, write = os.pipe()
os.dup2(write, 2)
os.close(read)
from tasks.console import dask_setup
dask_setup(None)
from prefect.logging.configuration import ensure_logging_setup
ensure_logging_setup()
logging.getLogger("distributed.worker").warning("the line that meets the dead console")
sys.stdout.write("still running\\n")
'''


def test_a_dask_worker_outlives_a_console_nobody_reads(tmp_path: Path) -> None:
    """Without it the log line raises SystemExit (rich's broken-pipe exit) in the worker: in a
    task's thread that ends the worker process, and the task is run again elsewhere, or lost."""
    done = subprocess.run([sys.executable, "-c", _WORKER], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "PREFECT_HOME": str(tmp_path)})
    assert done.returncode == 0, f"exit {done.returncode}: the log line ended the process (rich exits on a broken pipe)"
    assert done.stdout == "still running\n"
