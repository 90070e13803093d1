"""The embedded broker: kombu's filesystem transport, made safe for several processes.

Used when no CELERY_BROKER_URL is given (a newcomer's laptop, `make run`): the web
server, the worker and beat share a folder instead of a Redis server. Two changes
to kombu's transport, which otherwise lets a reader see a message being written
and lets two readers copy the same file across file systems:
- a message is written under a temporary name and renamed into the queue folder;
- a reader claims a message by renaming it into its own folder on the same file
  system (one rename wins), then reads and deletes it.
"""

import os
import time
import uuid
from pathlib import Path

from kombu.transport import filesystem
from kombu.transport.virtual import Empty
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads


class Channel(filesystem.Channel):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._queue_folder = Path(self.data_folder_in)
        self._writing = self._queue_folder.parent / "writing"
        self._reading = self._queue_folder.parent / "reading"
        folders = (self._queue_folder, Path(self.data_folder_out), self._writing, self._reading, self.control_folder)
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)

    def _put(self, queue, payload, **kwargs):
        # Names sort by time (nanoseconds since the epoch, the same clock for every process).
        name = f"{time.time_ns():020d}_{uuid.uuid4().hex}.{queue}.msg"
        temporary = self._writing / name
        temporary.write_bytes(str_to_bytes(dumps(payload)))
        os.replace(temporary, Path(self.data_folder_out) / name)

    def _get(self, queue):
        suffix = f".{queue}.msg"
        for name in sorted(os.listdir(self._queue_folder)):
            if not name.endswith(suffix):
                continue
            claimed = self._reading / f"{uuid.uuid4().hex}-{name}"
            try:
                os.rename(self._queue_folder / name, claimed)
            except FileNotFoundError:
                continue  # another consumer took it first
            try:
                return loads(bytes_to_str(claimed.read_bytes()))
            finally:
                claimed.unlink(missing_ok=True)
        raise Empty()

    def _size(self, queue):
        suffix = f".{queue}.msg"
        return sum(1 for name in os.listdir(self._queue_folder) if name.endswith(suffix))

    def _purge(self, queue):
        suffix = f".{queue}.msg"
        count = 0
        for name in os.listdir(self._queue_folder):
            if name.endswith(suffix):
                try:
                    (self._queue_folder / name).unlink()
                    count += 1
                except FileNotFoundError:
                    pass
        return count


class Transport(filesystem.Transport):
    Channel = Channel


def transport_options(folder: Path, *, polling_interval: float) -> dict:
    """Options for the embedded broker rooted at ``folder`` (one queue folder for
    all processes: they publish and consume in the same place)."""
    queue = folder / "queue"
    return {
        "data_folder_in": str(queue),
        "data_folder_out": str(queue),
        "control_folder": str(folder / "control"),
        "polling_interval": polling_interval,
    }
