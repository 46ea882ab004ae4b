"""The migration's config filter, alone: what it copies, what it keeps, and why."""

from __future__ import annotations

import copy

from balupi.pihole.migrate import restarts_ftl
from balupi.pihole.migrate_config import merged_hosts, merged_lines, names_host, plan_config
from balupi.sim.pihole.config_tree import default_config


def _config(**changes):
    tree = default_config(
        hosts=["192.168.1.2 baluhost.local"],
        dns_port=53,
        dnsmasq_lines=["local-ttl=5"],
        pwhash="$pi",
        app_pwhash="$pi-app",
        app_sudo=True,
        max_sessions=16,
        session_timeout=1800,
    )
    for path, value in changes.items():
        node = tree
        *parents, last = path.split("__")
        for key in parents:
            node = node[key]
        node[last] = value
    return tree


def test_same_configs_give_an_empty_plan():
    plan = plan_config(_config(), _config(), source_host="192.168.1.5")
    assert plan.empty and plan.changes == [] and plan.left_out == []


def test_passwords_port_interface_dhcp_and_paths_never_travel():
    source = _config(
        webserver__port="8080",
        dns__interface="eth0",
        dhcp__active=True,
        files__gravity="/data/gravity.db",
        ntp__sync__server="nas.lan",
        misc__nice=5,
        debug__all=True,
        dns__port=5353,
    )
    source["webserver"]["api"].update(pwhash="$nas", app_pwhash="$nas-app", totp_secret="X")
    plan = plan_config(source, _config(), source_host="192.168.1.5")
    assert plan.empty
    left = dict(plan.left_out)
    for item in (
        "webserver.port",
        "webserver.api.pwhash",
        "webserver.api.app_pwhash",
        "webserver.api.totp_secret",
        "dns.interface",
        "dhcp.active",
        "files.gravity",
        "ntp.sync.server",
        "misc.nice",
        "debug.all",
        "dns.port",
    ):
        assert item in left, item
    assert "eth0 on one, end0 on the Pi" in left["dns.interface"]


def test_dns_settings_travel_and_baluhost_local_and_local_ttl_stay():
    source = _config(
        dns__hosts=["192.168.1.5 nas.lan", "192.168.1.5 baluhost.local", "10.0.0.1 a.lan a.local"],
        dns__upstreams=["1.1.1.1"],
        dns__cnameRecords=["files.lan,nas.lan"],
        dns__revServers=["true,192.168.1.0/24,192.168.1.1,lan"],
        dns__blocking__mode="NXDOMAIN",
        dhcp__hosts=["11:22:33:44:55:66,192.168.1.40"],
        misc__dnsmasq_lines=["local-ttl=60", "log-queries"],
    )
    target = _config()
    plan = plan_config(source, target, source_host="192.168.1.5")
    dns = plan.patch["dns"]
    assert dns["hosts"] == [
        "192.168.1.5 nas.lan",
        "10.0.0.1 a.lan a.local",
        "192.168.1.2 baluhost.local",
    ]
    assert dns["upstreams"] == ["1.1.1.1"] and dns["cnameRecords"] == ["files.lan,nas.lan"]
    assert dns["revServers"] and dns["blocking"] == {"mode": "NXDOMAIN"}
    assert plan.patch["dhcp"] == {"hosts": ["11:22:33:44:55:66,192.168.1.40"]}
    assert plan.patch["misc"]["dnsmasq_lines"] == ["log-queries", "local-ttl=5"]
    assert plan.kept_records == ["192.168.1.2 baluhost.local"]
    assert "webserver" not in plan.patch and restarts_ftl(plan.patch)
    # applied, the plan has nothing more to do (idempotent)
    after = copy.deepcopy(target)
    for name, _, new in plan.changes:
        node = after
        *parents, last = name.split(".")
        for key in parents:
            node = node[key]
        node[last] = new
    assert plan_config(source, after, source_host="192.168.1.5").empty


def test_settings_naming_the_source_host_stay_out_but_records_may_point_at_it():
    source = _config(
        dns__upstreams=["192.168.1.5#5335"],
        dns__hosts=["192.168.1.5 nas.lan"],
        dns__piholePTR="HOSTNAME",
    )
    plan = plan_config(source, _config(), source_host="192.168.1.5")
    assert "upstreams" not in plan.patch["dns"] and plan.patch["dns"]["hosts"]
    assert "names the source host 192.168.1.5" in dict(plan.left_out)["dns.upstreams"]


def test_unknown_items_are_listed_not_sent():
    source = _config()
    source["dns"]["newInV7"] = True
    source["dns"]["blocking"]["newMode"] = "X"  # under a copied item, but the target lacks it
    plan = plan_config(source, _config(), source_host="h")
    left = dict(plan.left_out)
    assert plan.empty and "no such setting" in left["dns.blocking.newMode"]
    assert left["dns.newInV7"] == "not on the list of settings BaluPi copies"


def test_pieces():
    assert merged_hosts(["1.2.3.4 baluhost.local x.lan"], [], ("baluhost.local",)) == (
        ["1.2.3.4 x.lan"],
        [],
    )
    assert merged_lines(["local-ttl=1"], []) == []
    assert names_host(["x,192.168.1.5#53"], "192.168.1.5")
    assert not names_host(["192.168.1.50"], "192.168.1.5")
    assert not restarts_ftl({"dns": {"hosts": []}})
