"""`make run`: the web server, a Celery worker and the beat scheduler in one terminal.

The same pipeline as production on the embedded defaults (SQLite, the folder
broker, the console provider), every setting still read from the environment.
Each line is prefixed with the process that wrote it and also kept in
``$SALON_RUN_DIR/make-run.log`` (so the README's "Try it" can read a login code
from another terminal). Ctrl-C stops all three; if one dies, the others are
stopped too and the exit code says so.
"""

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

BACKEND = Path(__file__).resolve().parent.parent


def commands(port: str, run_dir: Path) -> dict[str, list[str]]:
    python = sys.executable
    return {
        "web": [
            python, "-m", "gunicorn", "--config", "gunicorn.conf.py", "salon_api.wsgi",
            "--bind", f"127.0.0.1:{port}", "--workers", os.environ.get("WEB_CONCURRENCY", "2"),
        ],
        "worker": [
            python, "-m", "celery", "-A", "salon_api", "worker", "--pool", "prefork",
            "--concurrency", os.environ.get("WORKER_CONCURRENCY", "2"), "--loglevel", "INFO",
            "--without-gossip", "--without-mingle", "--without-heartbeat", "--hostname", "embedded@%h",
        ],
        "beat": [
            python, "-m", "celery", "-A", "salon_api", "beat", "--loglevel", "INFO",
            "--schedule", str(run_dir / "celerybeat-schedule"),
        ],
    }  # fmt: skip


def main() -> int:
    port = os.environ.get("PORT", "8000")
    run_dir = Path(os.environ.get("SALON_RUN_DIR", BACKEND / ".run"))
    run_dir.mkdir(parents=True, exist_ok=True)
    # Counters of every process in one place, added up by GET /metrics.
    metrics_dir = Path(os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(run_dir / "metrics")))
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "SALON_RUN_DIR": str(run_dir)}

    log = (run_dir / "make-run.log").open("w", buffering=1)
    lock = threading.Lock()

    def emit(name: str, line: str) -> None:
        text = f"{name:<6} | {line.rstrip()}"
        with lock:
            print(text, flush=True)
            log.write(text + "\n")

    processes: dict[str, subprocess.Popen] = {}
    for name, args in commands(port, run_dir).items():
        process = subprocess.Popen(
            args,
            cwd=BACKEND,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # Ctrl-C reaches this script, which stops them in order
        )
        processes[name] = process
        threading.Thread(target=lambda n=name, p=process: [emit(n, line) for line in p.stdout], daemon=True).start()
    emit("run", f"Salon on http://127.0.0.1:{port}/api/docs/ (admin: /admin/); Ctrl-C stops web, worker and beat.")

    stopping = threading.Event()

    def stop(*_):
        stopping.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping.is_set():
        for name, process in processes.items():
            if process.poll() is not None:
                emit("run", f"{name} exited with code {process.returncode}; stopping the others.")
                exit_code = 1
                stopping.set()
        stopping.wait(0.5)

    for process in processes.values():
        if process.poll() is None:
            process.terminate()  # the main process stops its own workers cleanly
    deadline = time.monotonic() + 15
    for name, process in processes.items():
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            emit("run", f"{name} did not stop in time; killing it.")
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    time.sleep(0.2)  # let the output threads print the last lines
    emit("run", "stopped.")
    log.close()
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
