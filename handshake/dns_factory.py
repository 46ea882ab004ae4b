"""Builds the DNS backend the config names."""

from __future__ import annotations

from balupi.config import Config
from balupi.handshake.dns_backend import DnsBackend
from balupi.handshake.hostsfile_backend import HostsFileBackend
from balupi.handshake.pihole_backend import PiholeBackend


def build_dns_backend(config: Config) -> DnsBackend:
    assert config.dns is not None
    if config.dns.backend == "hostsfile":
        return HostsFileBackend(config.dns.hostsfile)
    assert config.pihole is not None  # load_config insists on [pihole] for this backend
    return PiholeBackend(config.pihole)
