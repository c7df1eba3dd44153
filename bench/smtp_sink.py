"""A loopback SMTP server that accepts every message and counts it (bench/load.py delivers the
acknowledgement and notification emails of creation here, so the task worker does real SMTP work).

    python bench/smtp_sink.py PORT      # prints the count of messages received when stopped (SIGTERM)
"""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any

from aiosmtpd.controller import Controller


class Counter:
    def __init__(self) -> None:
        self.messages = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages += 1
        return "250 OK"


def main() -> None:
    counter = Counter()
    controller = Controller(counter, hostname="127.0.0.1", port=int(sys.argv[1]))
    controller.start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    print(f"SMTP sink on 127.0.0.1:{sys.argv[1]}", flush=True)
    stopped.wait()
    controller.stop()
    print(f"SMTP sink received {counter.messages} messages", flush=True)


if __name__ == "__main__":
    main()
