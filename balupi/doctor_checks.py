"""The checks of ``balupi doctor``: each looks at the live system and returns Check rows, with
a fix for every failure. They read what the services expose (the exporter's /metrics, the
handshake's /api/status, Prometheus's and Alertmanager's APIs) rather than probing plugs or
Pi-hole a second time, so the doctor costs the devices nothing."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from balupi.config import Config
from balupi.setup_probes import ProbeFailedError, ssh_login

OK, FAIL, SKIP = "ok", "FAIL", "skip"
UNITS = (
    "balupi-exporter.service",
    "balupi-handshake.service",
    "prometheus.service",
    "prometheus-alertmanager.service",
    "prometheus-node-exporter.service",
    "nginx.service",
    "smbd.service",
)
PLUG_FIXES = {
    "auth": "check the Tapo account e-mail and password: sudo balupi setup",
    "third_party_compatibility": (
        "enable Third-Party Compatibility in the Tapo app (Me > Third-Party Services)"
    ),
    "timeout": "the plug does not answer: is it powered and on the Wi-Fi at that address?",
    "connection": "the plug does not answer: is it powered and on the Wi-Fi at that address?",
}


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    detail: str
    fix: str = ""


def _get(url: str, timeout: float = 5.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as answer:  # noqa: S310 - our own URLs
        return bytes(answer.read())


def _json(url: str) -> Any:
    return json.loads(_get(url))


def units() -> list[Check]:
    checks = []
    for unit in UNITS:
        state = subprocess.run(
            ["systemctl", "is-active", unit], capture_output=True, text=True, check=False
        ).stdout.strip()
        fix = f"journalctl -u {unit} -n 50; sudo systemctl restart {unit}"
        checks.append(
            Check(
                f"unit {unit}",
                OK if state == "active" else FAIL,
                state,
                "" if state == "active" else fix,
            )
        )
    return checks


def plugs_and_pihole(config: Config) -> list[Check]:
    port = config.exporter.listen_port
    try:
        text = _get(f"http://127.0.0.1:{port}/metrics").decode()
    except (OSError, urllib.error.URLError) as err:
        return [
            Check("exporter /metrics", FAIL, str(err), "sudo systemctl restart balupi-exporter")
        ]
    samples = [s for f in text_string_to_metric_families(text) for s in f.samples]
    up = {s.labels.get("plug"): s.value for s in samples if s.name == "tapo_up"}
    errors: dict[str, str] = {}
    for s in samples:
        if s.name == "tapo_read_errors_total" and s.value > 0:
            errors[s.labels["plug"]] = s.labels["reason"]
    checks = []
    for plug in config.tapo.plugs:
        if up.get(plug.name) == 1:
            checks.append(Check(f"plug {plug.name}", OK, f"readable at {plug.host}"))
        else:
            reason = errors.get(plug.name, "no reading yet")
            checks.append(
                Check(
                    f"plug {plug.name}",
                    FAIL,
                    reason,
                    PLUG_FIXES.get(reason, "journalctl -u balupi-exporter"),
                )
            )
    if config.pihole is not None:
        pihole_up = [s.value for s in samples if s.name == "pihole_up"]
        good = pihole_up == [1.0]
        checks.append(
            Check(
                "Pi-hole API",
                OK if good else FAIL,
                config.pihole.url,
                "" if good else "check [pihole] url and the app password: sudo balupi setup",
            )
        )
    return checks


def handshake(config: Config) -> list[Check]:
    if config.handshake is None or config.nas is None:
        return [Check("handshake", FAIL, "not configured", "sudo balupi setup")]
    h = config.handshake
    try:
        status = _json(f"http://{h.listen_host}:{h.listen_port}/api/status")
    except (OSError, urllib.error.URLError, ValueError) as err:
        return [Check("handshake API", FAIL, str(err), "sudo systemctl restart balupi-handshake")]
    state = status["nas_state"]
    checks = [_nas_health(config, state)]
    dns = status["dns"]
    expected = "nas" if state == "online" else "pi"
    good = dns["target"] == expected and not dns["pending"]
    detail = f"{dns['hostname']} -> {dns['address']} ({dns['target']}), NAS {state}"
    fix = (
        ""
        if good
        else f"the switch failed: {dns['last_error'] or 'pending'}; check Pi-hole's app_sudo"
    )
    checks.append(Check("DNS switch", OK if good else FAIL, detail, fix))
    if dns["backend"] == "pihole" and dns["last_error"] and "app_sudo" in dns["last_error"]:
        checks.append(
            Check(
                "Pi-hole app_sudo",
                FAIL,
                "refused",
                "sudo pihole-FTL --config webserver.api.app_sudo true",
            )
        )
    if config.inbox is not None:
        checks.append(_ssh(config, state))
    return checks


def _nas_health(config: Config, state: str) -> Check:
    assert config.nas is not None
    url = f"{config.nas.url.rstrip('/')}/api/health"
    try:
        _get(url, timeout=3)
    except (OSError, urllib.error.URLError) as err:
        if state in ("offline", "shutting_down"):
            return Check("NAS health", OK, f"NAS asleep ({state}), as announced")
        return Check("NAS health", FAIL, f"{url}: {err}", "is the NAS on? is [nas] url right?")
    return Check("NAS health", OK, url)


def _ssh(config: Config, state: str) -> Check:
    inbox = config.inbox
    assert inbox is not None
    if state != "online":
        return Check("SSH to the NAS", SKIP, f"NAS {state}")
    key = (
        Path("/etc/balupi") / inbox.ssh_key_file
        if not Path(inbox.ssh_key_file).is_absolute()
        else Path(inbox.ssh_key_file)
    )
    try:
        ssh_login(inbox.nas_user, inbox.nas_host, inbox.nas_port, key, Path(inbox.known_hosts_file))
    except ProbeFailedError as err:
        return Check(
            "SSH to the NAS",
            FAIL,
            str(err),
            "add /etc/balupi/nas-ssh-key.pub to the NAS's authorized_keys",
        )
    return Check("SSH to the NAS", OK, f"{inbox.nas_user}@{inbox.nas_host}")


def clock() -> Check:
    virt = subprocess.run(
        ["systemd-detect-virt", "--container"], capture_output=True, text=True, check=False
    ).stdout.strip()
    if virt and virt != "none":
        return Check("clock", SKIP, f"in a container ({virt}): the host keeps the clock")
    synced = subprocess.run(
        ["timedatectl", "show", "-p", "NTPSynchronized", "--value"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if synced == "yes":
        return Check("clock", OK, "synchronised (NTP)")
    return Check(
        "clock",
        FAIL,
        "not synchronised",
        "sudo systemctl enable --now systemd-timesyncd; timedatectl",
    )


def disks(min_free_ratio: float = 0.10) -> list[Check]:
    checks = []
    for name, path in (("SD card /", Path("/")), ("HDD /data", Path("/data"))):
        if not path.exists():
            checks.append(Check(f"disk {name}", FAIL, "missing", "mount the HDD at /data"))
            continue
        usage = shutil.disk_usage(path)
        free = usage.free / usage.total
        detail = f"{usage.free / 1e9:.1f} GB free ({free:.0%})"
        good = free >= min_free_ratio
        checks.append(
            Check(
                f"disk {name}",
                OK if good else FAIL,
                detail,
                "" if good else f"free space on {path}",
            )
        )
    return checks


def prometheus_targets() -> Check:
    try:
        targets = _json("http://127.0.0.1:9090/api/v1/targets?state=active")["data"][
            "activeTargets"
        ]
    except (OSError, urllib.error.URLError, ValueError, KeyError) as err:
        return Check("Prometheus targets", FAIL, str(err), "sudo systemctl restart prometheus")
    down = [f"{t['labels']['job']} ({t['health']})" for t in targets if t["health"] != "up"]
    if down:
        return Check(
            "Prometheus targets",
            FAIL,
            "not up: " + ", ".join(down),
            "http://PI:9090/targets says why",
        )
    return Check("Prometheus targets", OK, f"{len(targets)} up")


def alertmanager_receiver() -> Check:
    try:
        original = _json("http://127.0.0.1:9093/api/v2/status")["config"]["original"]
    except (OSError, urllib.error.URLError, ValueError, KeyError) as err:
        return Check(
            "Alertmanager", FAIL, str(err), "sudo systemctl restart prometheus-alertmanager"
        )
    if re.search(r"^\s+\w+_configs:", original, re.MULTILINE):
        return Check("Alertmanager", OK, "a receiver is configured")
    return Check(
        "Alertmanager",
        FAIL,
        "no receiver sends anything",
        "sudo balupi setup --alert-webhook URL, or edit /etc/balupi/alertmanager.yml",
    )
