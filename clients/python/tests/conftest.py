"""A real crosscut agent for each test: `crosscut run` on a Unix socket in the test's folder,
writing error reports and minute batches to records.ndjson and its log to log.ndjson.

CROSSCUT_BIN and CROSSCUT_PLUGIN_PATH name the agent and its plugins (ctest sets both); the
defaults are those of a build in <repository>/build.
"""

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import sys

import pytest

REPO = Path(__file__).resolve().parents[3]
# The package of this checkout, not one installed elsewhere.
sys.path.insert(0, str(REPO / "clients" / "python"))
BIN = os.environ.get("CROSSCUT_BIN", str(REPO / "build" / "bin" / "crosscut"))
PLUGINS = os.environ.get("CROSSCUT_PLUGIN_PATH", str(REPO / "build" / "plugins"))
# Generous: the suite also runs against sanitizer builds of the agent.
START_TIMEOUT = 60.0

CONFIG = """\
logging: {{level: info, sinks: [{{type: rotating_file, path: "{log}"}}]}}
sinks: {{out: {{type: file, path: "{records}"}}}}
errors: {{sink: out}}
metrics: {{sink: out}}
breakers: {{defaults: {{failure_threshold: 3, timeout: 1h}},
           overrides: {{"slow/korea/ticker": {{mode: rate, minimum_calls: 2, timeout: 1h,
                                              slow_call_duration: 100ms, slow_call_rate: 0.75}}}}}}
inputs: [{{type: unix, path: "{socket}"}}]
"""


def answers_hello(path: str) -> bool:
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(2.0)
            s.connect(path)
            s.sendall(b'{"event":"hello","id":1}\n')
            return b'"ok":true' in s.recv(4096)
    except OSError:
        return False


class Agent:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.socket = str(folder / "events.sock")
        self.records = folder / "records.ndjson"
        self.log = folder / "log.ndjson"
        self.config = folder / "agent.yaml"
        self.config.write_text(CONFIG.format(log=self.log, records=self.records, socket=self.socket))
        self.process = None
        self.stderr = b""

    def start(self) -> "Agent":
        env = dict(os.environ, CROSSCUT_PLUGIN_PATH=PLUGINS)
        self.process = subprocess.Popen([BIN, "run", "-c", str(self.config)], env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + START_TIMEOUT
        while not answers_hello(self.socket):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the agent did not start: %s" % self.stderr.decode()[-2000:])
            time.sleep(0.02)
        return self

    def stop(self) -> int:
        """SIGTERM and wait: the agent drains and publishes what is pending. Its exit code."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.send_signal(signal.SIGTERM)
        _, err = self.process.communicate(timeout=120)
        self.stderr += err
        code = self.process.returncode
        self.process = None
        return code

    def pause(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def records_of(self, topic: str):
        out = []
        if self.records.exists():
            for line in self.records.read_text().splitlines():
                record = json.loads(line)
                if record.get("topic") == topic:
                    out.append(record["value"])
        return out

    def log_records(self):
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]

    def counts(self):
        """{(exchange, region, request_type, minute_s, "SYMBOL_COUNT"): n} over every batch published."""
        out = {}
        for value in self.records_of("ws.metrics"):
            for item in value["batch"]["items"]:
                t = value
                for symbol, n in item["details"].items():
                    key = (t["exchange"], t["region"], t["request_type"],
                           item["minute_start_ts_kst"], symbol)
                    out[key] = out.get(key, 0) + n
        return out


@pytest.fixture
def agent(tmp_path):
    a = Agent(tmp_path).start()
    yield a
    a.stop()
