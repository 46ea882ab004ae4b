"""The simulated FTL's configuration tree: the shape of Pi-hole v6's pihole.toml (a subset of its
items, with FTL's defaults), and the password hashes FTL keeps in it instead of passwords."""

from __future__ import annotations

import hashlib
from typing import Any


def password_hash(password: str) -> str:
    """What the simulator stores in webserver.api.pwhash / app_pwhash. FTL uses BALLOON-SHA256;
    any one-way hash serves here, since only equality matters."""
    if not password:
        return ""
    digest = hashlib.sha256(f"balupi-sim:{password}".encode()).hexdigest()
    return f"$SIM-SHA256$v=1${digest}"


def default_config(
    *,
    hosts: list[str],
    dns_port: int,
    dnsmasq_lines: list[str],
    pwhash: str,
    app_pwhash: str,
    app_sudo: bool,
    max_sessions: int,
    session_timeout: int,
) -> dict[str, Any]:
    return {
        "dns": {
            "upstreams": ["9.9.9.9"],
            "CNAMEdeepInspect": True,
            "blockESNI": True,
            "EDNS0ECS": True,
            "ignoreLocalhost": False,
            "showDNSSEC": True,
            "analyzeOnlyAandAAAA": False,
            "piholePTR": "PI.HOLE",
            "replyWhenBusy": "ALLOW",
            "blockTTL": 2,
            "hosts": list(hosts),
            "domainNeeded": False,
            "expandHosts": False,
            "domain": {"name": "lan", "local": True},
            "bogusPriv": True,
            "dnssec": False,
            "interface": "",
            "hostRecord": "",
            "listeningMode": "LOCAL",
            "queryLogging": True,
            "cnameRecords": [],
            "port": dns_port,
            "revServers": [],
            "cache": {"size": 10000, "optimizer": 3600, "upstreamBlockedTTL": 86400},
            "blocking": {"active": True, "mode": "NULL", "edns": "TEXT"},
            "specialDomains": {
                "mozillaCanary": True,
                "iCloudPrivateRelay": True,
                "designatedResolver": True,
            },
            "reply": {
                "host": {"force4": False, "IPv4": "", "force6": False, "IPv6": ""},
                "blocking": {"force4": False, "IPv4": "", "force6": False, "IPv6": ""},
            },
            "rateLimit": {"count": 1000, "interval": 60},
        },
        "dhcp": {
            "active": False,
            "start": "",
            "end": "",
            "router": "",
            "netmask": "",
            "leaseTime": "",
            "ipv6": False,
            "rapidCommit": False,
            "multiDNS": False,
            "logging": False,
            "ignoreUnknownClients": False,
            "hosts": [],
        },
        "ntp": {
            "ipv4": {"active": True, "address": ""},
            "ipv6": {"active": True, "address": ""},
            "sync": {"active": True, "server": "pool.ntp.org", "interval": 3600, "count": 8},
        },
        "resolver": {
            "resolveIPv4": True,
            "resolveIPv6": True,
            "networkNames": True,
            "refreshNames": "IPV4_ONLY",
        },
        "database": {"DBimport": True, "maxDBdays": 91, "DBinterval": 60, "useWAL": True},
        "webserver": {
            "domain": "pi.hole",
            "acl": "",
            "port": "80o,443os,[::]:80o,[::]:443os",
            "threads": 50,
            "session": {"timeout": session_timeout, "restore": False},
            "paths": {"webroot": "/var/www/html", "webhome": "/admin/", "prefix": ""},
            "interface": {"boxed": True, "theme": "default-auto"},
            "api": {
                "max_sessions": max_sessions,
                "prettyJSON": False,
                "password": "********",
                "pwhash": pwhash,
                "totp_secret": "",
                "app_pwhash": app_pwhash,
                "app_sudo": app_sudo,
                "cli_pw": True,
                "excludeClients": [],
                "excludeDomains": [],
                "maxHistory": 86400,
                "maxClients": 10,
                "allow_destructive": True,
            },
        },
        "files": {
            "pid": "/run/pihole-FTL.pid",
            "database": "/etc/pihole/pihole-FTL.db",
            "gravity": "/etc/pihole/gravity.db",
            "gravity_tmp": "/tmp",  # noqa: S108 - a value shown, never used
            "macvendor": "/etc/pihole/macvendor.db",
            "log": {
                "ftl": "/var/log/pihole/FTL.log",
                "dnsmasq": "/var/log/pihole/pihole.log",
                "webserver": "/var/log/pihole/webserver.log",
            },
        },
        "misc": {
            "privacylevel": 0,
            "delay_startup": 0,
            "nice": -10,
            "etc_dnsmasq_d": False,
            "dnsmasq_lines": list(dnsmasq_lines),
            "extraLogging": False,
            "readOnly": False,
        },
        "debug": {"database": False, "api": False, "config": False, "all": False},
    }


def leaves(tree: dict[str, Any], prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    """Every item of the tree by its path; arrays are items, not branches."""
    found: dict[tuple[str, ...], Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            found.update(leaves(value, (*prefix, key)))
        else:
            found[(*prefix, key)] = value
    return found
