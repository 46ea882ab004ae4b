"""The demo's alert receiver: Alertmanager's webhook, printed to the terminal.

On a Pi the webhook goes to a phone (ntfy, Gotify, Home Assistant); in the demo the person
watching the terminal sees the notification instead.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class AlertPrinter:
    def __init__(self, port: int) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                try:
                    note = json.loads(self.rfile.read(length))
                    for alert in note.get("alerts", []):
                        summary = alert.get("annotations", {}).get("summary", "")
                        name = alert.get("labels", {}).get("alertname", "?")
                        print(f"\n>>> ALERT {alert.get('status', '?')}: {name}: {summary}",
                              flush=True)  # fmt: skip
                    self.send_response(200)
                except (ValueError, AttributeError):
                    self.send_response(400)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass  # the alerts are the output, not the access log

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{port}/balupi-alerts"

    def start(self) -> None:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
