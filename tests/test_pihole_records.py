"""The local-record logic: one host name replaced, every other record kept."""

from __future__ import annotations

import pytest

from balupi.pihole.records import (
    addresses_of,
    local_ttl_of,
    with_local_ttl,
    with_record,
)


def test_replaces_only_the_named_host_in_place():
    hosts = ["10.0.0.1 router", "192.168.1.5 baluhost.local", "10.0.0.9 printer"]
    assert with_record(hosts, "baluhost.local", "192.168.1.6") == [
        "10.0.0.1 router",
        "192.168.1.6 baluhost.local",
        "10.0.0.9 printer",
    ]


def test_adds_a_missing_record_at_the_end():
    assert with_record(["10.0.0.1 router"], "baluhost.local", "10.0.0.2") == [
        "10.0.0.1 router",
        "10.0.0.2 baluhost.local",
    ]


def test_a_shared_line_keeps_its_other_names_and_duplicates_go():
    hosts = ["192.168.1.5 nas BaluHost.local", "192.168.1.7 baluhost.local"]
    result = with_record(hosts, "baluhost.local", "192.168.1.9")
    assert result == ["192.168.1.9 baluhost.local", "192.168.1.5 nas"]
    assert addresses_of(result, "BALUHOST.local") == ["192.168.1.9"]


def test_ipv6_is_normalised():
    assert with_record([], "baluhost.local", "fd00:0::1") == ["fd00::1 baluhost.local"]


@pytest.mark.parametrize(
    ("name", "address", "words"),
    [
        ("bad name", "10.0.0.1", "not a host name"),
        ("-x.local", "10.0.0.1", "not a host name"),
        ("baluhost.local", "10.0.0.256", "not an IP address"),
        ("baluhost.local", "", "not an IP address"),
    ],
)
def test_bad_input_is_refused_clearly(name, address, words):
    with pytest.raises(ValueError, match=words):
        with_record([], name, address)


def test_local_ttl_lines():
    assert local_ttl_of([]) is None
    assert local_ttl_of(["cache-size=0", "local-ttl=5", "local-ttl = 7"]) == 7
    assert with_local_ttl(["cache-size=0", "local-ttl=5"], 2) == ["cache-size=0", "local-ttl=2"]
    with pytest.raises(ValueError, match=r"0\.\.86400"):
        with_local_ttl([], -1)
    with pytest.raises(ValueError, match=r"0\.\.86400"):
        with_local_ttl([], True)
