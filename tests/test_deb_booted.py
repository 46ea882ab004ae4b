"""The .deb in a booted Debian bookworm with systemd as PID 1 (systemd-nspawn, private network):
install, units, `balupi setup` against the simulators, `balupi doctor`, the dashboard through
nginx, a planned shutdown and a wake of the simulated NAS through the installed services, an
upgrade that keeps an edited config and the data, then remove and purge.

The steps share one container and run in file order, as a user would take them. The
simulators run inside the container (it has only loopback) from a copy of this checkout,
on Debian's python3; BaluPi's services run from the package."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from balupi.handshake import cross_site
from tests import booted_debian
from tests.booted_debian import REPO, Container
from tests.booted_scenario import (
    OURS,
    SETUP_FLAGS,
    THEIRS,
    all_active,
    authorize_pi_on_nas,
    copy_simulators,
    dns_answer,
    http,
    nas_state,
    start_nas,
    start_plug,
    start_simulators,
)
from tests.waiting import wait_for

DASHBOARD_HEADER = f"{cross_site.HEADER}: {cross_site.VALUE}"

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        booted_debian.unavailable() is not None, reason=str(booted_debian.unavailable())
    ),
]


@pytest.fixture(scope="module")
def debs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two builds of this checkout, an older and a newer version (for the upgrade)."""
    out = tmp_path_factory.mktemp("debs")
    built = []
    for version in ("0.0.1~old", "0.0.2~new"):
        run = subprocess.run(
            [str(REPO / "packaging" / "build-deb"), version, str(out)],
            capture_output=True,
            text=True,
            check=True,
        )
        built.append(Path(run.stdout.strip().splitlines()[-1]))
    return built[0], built[1]


@pytest.fixture(scope="module")
def box(debs: tuple[Path, Path]) -> Iterator[Container]:
    booted_debian.ensure_root()
    container = Container("balupi-deb-test").start()
    try:
        for deb in debs:
            container.copy_in(deb, f"/root/{deb.name}")
        # The simulators: this checkout's package (links followed), run by Debian's python3.
        copy_simulators(container)
        yield container
    finally:
        container.stop()


def test_install_without_network_starts_debians_parts_and_waits_for_setup(box, debs):
    started = time.monotonic()
    box.run("apt-get", "install", "-y", f"/root/{debs[0].name}")
    print(f"install took {time.monotonic() - started:.1f} s")
    wait_for(lambda: all_active(box, THEIRS), timeout=60, what="Debian's units active")
    for unit in OURS:
        # Enabled and started, but waiting for /etc/balupi/balupi.toml: not failed.
        assert box.run("systemctl", "is-enabled", unit).stdout.strip() == "enabled"
        assert box.unit_state(unit) == "inactive"
        shown = box.run("systemctl", "show", "-p", "ConditionResult", unit).stdout
        assert shown.strip() == "ConditionResult=no"
    # Prometheus and Alertmanager keep their data on the HDD, with our config.
    cmdline = box.run("systemctl", "show", "-p", "ExecStart", "prometheus").stdout
    assert "--storage.tsdb.path=/data/prometheus" in cmdline
    assert "/usr/share/balupi/prometheus/prometheus.yml" in cmdline
    assert box.sh("ls /data/prometheus").strip()  # the TSDB is there, not in /var/lib
    # smbd serves our shares without an edit of smb.conf.
    shares = box.run("testparm", "-s", "/usr/share/balupi/samba/smb.conf").stdout
    assert "[inbox]" in shares and "[share]" in shares
    assert "balupi" not in box.sh("cat /etc/samba/smb.conf")
    for folder in (
        "/smb/share",
        "/smb/inbox",
        "/smb/.inbox-staging",
        "/data/snapshot",
        "/var/lib/balupi",
    ):
        assert box.run("test", "-d", folder, check=False).returncode == 0, folder


def test_setup_against_the_simulators(box):
    start_simulators(box)
    first = box.run("balupi", "setup", "--non-interactive", *SETUP_FLAGS, check=False)
    # The NAS does not know the Pi's key yet: setup says so, with the line to add.
    assert first.returncode == 1, first.stdout + first.stderr
    assert "SSH login nas@127.0.0.1:22 failed" in first.stderr
    said = first.stdout + first.stderr
    assert "plug nas (127.0.0.1): OK, 41.5 W" in first.stdout, said
    assert "login OK, app_sudo on" in first.stdout, said
    assert "balupi_handshake_secret = " in first.stdout
    authorize_pi_on_nas(box)
    # Again, with no flags: the current values are the answers.
    again = box.run("balupi", "setup", "--non-interactive", check=False)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "SSH to nas@127.0.0.1:22: OK" in again.stdout
    modes = box.sh("stat -c '%n %a %U' /etc/balupi/*").splitlines()
    assert "/etc/balupi/handshake-secret 600 root" in modes
    assert "/etc/balupi/pihole-password 600 root" in modes
    assert "/etc/balupi/tapo-password 600 root" in modes
    box.run("balupi", "check-config")
    secret = box.sh("cat /etc/balupi/handshake-secret").strip()
    assert f"balupi_handshake_secret = {secret}" in again.stdout
    wait_for(lambda: all_active(box, OURS + THEIRS), timeout=60, what="every unit active")
    start_nas(box)


def test_units_keep_their_hardening_and_credentials(box):
    for unit in OURS:
        shown = box.run(
            "systemctl",
            "show",
            unit,
            "-p",
            "NoNewPrivileges,ProtectSystem,NRestarts,Restart,LimitNOFILE",
        ).stdout
        assert "NoNewPrivileges=yes" in shown and "ProtectSystem=strict" in shown
        assert "Restart=on-failure" in shown and "NRestarts=0" in shown, shown
        assert "LimitNOFILE=8192" in shown, shown  # they accept connections
    # The running services got their credentials from systemd, nothing else.
    creds = box.sh("ls /run/credentials/balupi-handshake.service/").split()
    assert sorted(creds) == ["handshake-secret", "nas-ssh-key", "pihole-password"]
    creds = box.sh("ls /run/credentials/balupi-exporter.service/").split()
    assert sorted(creds) == ["pihole-password", "tapo-password"]


def test_doctor_is_green(box):
    # The report of the run that passed: asking again could meet Prometheus between a restart
    # and its first scrapes (every target "unknown"), as one CI run did. A restart of its own
    # (a crash) would show in NRestarts, checked below.
    passed: list[str] = []

    def green() -> bool:
        result = box.run("balupi", "doctor", check=False)
        if result.returncode == 0:
            passed.append(result.stdout)
        return result.returncode == 0

    wait_for(
        green, timeout=90, interval=1.0, what="balupi doctor to pass (Prometheus's first scrapes)"
    )
    report = passed[-1]
    print(report)
    for unit in THEIRS:
        restarts = box.run("systemctl", "show", unit, "-p", "NRestarts").stdout.strip()
        if restarts != "NRestarts=0":
            journal = box.run("journalctl", "-u", unit, "-n", "30", "--no-pager", check=False)
            pytest.fail(f"{unit} restarted by itself ({restarts}): {journal.stdout}")
    assert "ok    plug nas" in report and "ok    Pi-hole API" in report
    assert "ok    SSH to the NAS" in report and "ok    DNS switch" in report


def test_doctor_names_a_failure_with_its_fix(box):
    box.run("systemctl", "stop", "sim-tapo")
    try:
        wait_for(
            lambda: "FAIL  plug nas" in box.run("balupi", "doctor", check=False).stdout,
            timeout=60,
            what="doctor to see the plug gone",
        )
        result = box.run("balupi", "doctor", check=False)
        assert result.returncode == 1
        assert "fix: the plug does not answer" in result.stdout
    finally:
        start_plug(box, "sim-tapo2")


def test_nginx_serves_the_dashboard(box):
    for part, where in (
        ("frontend-dist/", "frontend-dist/index.html"),
        ("nginx/", "nginx/balupi.conf"),
    ):
        if box.run("test", "-f", f"/usr/share/balupi/{where}", check=False).returncode:
            pytest.skip(
                f"{part} is not in this checkout yet: the package cannot serve the dashboard"
            )
    box.run("nginx", "-t")
    # Our site, not Debian's default page: the very file the package installed.
    assert http(box, "http://127.0.0.1/") == box.sh(
        "cat /usr/share/balupi/frontend-dist/index.html"
    )


def test_planned_shutdown_and_wake_through_the_installed_services(box):
    wait_for(lambda: nas_state(box) == "online", timeout=60, what="the NAS online")
    wait_for(lambda: dns_answer(box) == "127.0.0.1", timeout=30, what="DNS -> the NAS")
    box.sh(
        "echo hello > /smb/inbox/note.txt; chown balupi:balupi /smb/inbox/note.txt;"
        "touch -d '-1 min' /smb/inbox/note.txt"
    )
    http(box, "http://127.0.0.1:8091/sim/control", "-X", "POST", "-d", '{"action": "shutdown"}')
    wait_for(lambda: nas_state(box) == "offline", timeout=30, what="the NAS announced offline")
    wait_for(lambda: dns_answer(box) == "127.0.0.2", timeout=30, what="DNS -> the Pi")
    assert box.sh("ls /data/snapshot").strip(), "the shutdown left no snapshot"
    # The wake and flush buttons refuse cross-site requests: send the dashboard's header.
    http(box, "http://127.0.0.1:8000/api/wake-nas", "-X", "POST", "-H", DASHBOARD_HEADER)
    wait_for(lambda: nas_state(box) == "online", timeout=60, what="the NAS woken and online")
    wait_for(lambda: dns_answer(box) == "127.0.0.1", timeout=30, what="DNS -> the NAS again")

    def landed() -> bool:
        # Ask for a flush each time: the file waits until it has settled (10 s after the chown).
        box.run(
            "curl", "-s", "-X", "POST", "-H", DASHBOARD_HEADER,
            "http://127.0.0.1:8000/api/inbox/flush", check=False,
        )  # fmt: skip
        return (
            box.run("test", "-f", "/home/nas/inbox-from-pi/note.txt", check=False).returncode == 0
        )

    wait_for(landed, timeout=60, interval=1.0, what="the inbox file moved to the NAS over SSH")
    assert box.run("test", "-e", "/smb/inbox/note.txt", check=False).returncode != 0


def test_upgrade_keeps_the_edited_config_and_the_data(box, debs):
    box.sh(
        "sed -i 's/^price_per_kwh = .*/price_per_kwh = 0.41/' /etc/balupi/balupi.toml;"
        "echo '# edited by hand' >> /etc/balupi/balupi.toml"
    )
    config = box.sh("cat /etc/balupi/balupi.toml")
    snapshots = box.sh("ls /data/snapshot")
    pid = box.run("systemctl", "show", "-p", "MainPID", "balupi-handshake").stdout
    # An unattended upgrade: no terminal, and dpkg would stop at any conffile question.
    box.run(
        "env",
        "DEBIAN_FRONTEND=noninteractive",
        "apt-get",
        "install",
        "-y",
        "-o",
        "Dpkg::Options::=--force-confask",
        f"/root/{debs[1].name}",
    )
    assert box.sh("cat /etc/balupi/balupi.toml") == config
    assert box.sh("ls /data/snapshot") == snapshots
    assert "0.0.2~new" in box.sh("cat /usr/lib/balupi/balupi/_package_version.py")
    assert box.run("systemctl", "show", "-p", "MainPID", "balupi-handshake").stdout != pid
    wait_for(lambda: all_active(box, OURS + THEIRS), timeout=60, what="every unit active again")
    assert box.run("balupi", "check-config").returncode == 0


def test_deploy_installs_over_ssh(box, debs, tmp_path):
    """`make deploy`'s script, run here as on the developer's machine, reaches the "Pi" over
    SSH (the container's sshd, through its network namespace) and installs the package."""
    key = tmp_path / "deploy-key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    box.sh("install -d -m 700 /root/.ssh")
    box.run("tee", "/root/.ssh/authorized_keys", input=key.with_suffix(".pub").read_text())
    box.run("dpkg", "--remove", "balupi")  # so the deploy really installs (config stays)
    assert box.run("dpkg", "-s", "balupi", check=False).stdout.count("Status: install ok") == 0
    opts = f"-i {key} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes"
    assert box.leader is not None
    run = subprocess.run(
        ["nsenter", "-t", str(box.leader), "-n", "--",
         str(REPO / "packaging" / "deploy"), "root@127.0.0.1", str(debs[1])],
        env={**os.environ, "BALUPI_SSH_OPTS": opts},
        capture_output=True, text=True, timeout=300, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert "done. First time on this Pi" in run.stdout
    assert "Status: install ok installed" in box.run("dpkg", "-s", "balupi").stdout
    assert "0.0.2~new" in box.sh("cat /usr/lib/balupi/balupi/_package_version.py")
    wait_for(lambda: all_active(box, OURS + THEIRS), timeout=60, what="every unit active again")


def test_remove_keeps_config_and_purge_keeps_the_data(box):
    box.run("apt-get", "remove", "-y", "balupi")
    assert box.run("test", "-f", "/etc/balupi/balupi.toml", check=False).returncode == 0
    assert box.unit_state("balupi-handshake") != "active"
    wait_for(lambda: box.unit_state("prometheus") == "active", timeout=30, what="Prometheus")
    assert (
        "/data/prometheus"
        not in box.run("systemctl", "show", "-p", "ExecStart", "prometheus").stdout
    )
    box.run("apt-get", "purge", "-y", "balupi")
    assert box.run("test", "-e", "/etc/balupi", check=False).returncode != 0
    for kept in ("/smb/share", "/smb/inbox", "/data/snapshot", "/data/prometheus"):
        assert box.run("test", "-d", kept, check=False).returncode == 0, kept
    assert box.sh("ls /data/snapshot").strip(), "purge removed the snapshots"
