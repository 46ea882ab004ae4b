"""Builds the DNS backend the config names."""

from __future__ import annotations

from balupi.config import Config
from balupi.handshake.dns_backend import DnsBackend
from balupi.handshake.hostsfile_backend import HostsFileBackend


class BackendUnavailable(Exception):
    pass


def build_dns_backend(config: Config) -> DnsBackend:
    assert config.dns is not None
    if config.dns.backend == "hostsfile":
        return HostsFileBackend(config.dns.hostsfile)
    # "pihole": Pi-hole v6's API client lives in its own branch and is wired in here at merge.
    raise BackendUnavailable(
        'dns.backend = "pihole" is not available in this build yet; use backend = "hostsfile"'
    )
