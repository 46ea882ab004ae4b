"""The ``[pihole]`` section: where Pi-hole's v6 API is and how BaluPi logs in to it."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field

from balupi.config_reader import Table
from balupi.secret import Secret

# Top lists are label values: each entry is one more series in Prometheus, so keep them few.
TOP_ITEMS_MAX = 25


@dataclass(frozen=True)
class PiholeConfig:
    # Scheme, host and port only; the client appends /api/...
    url: str
    password: Secret | None = field(repr=False)
    # aiohttp's limit for one request to Pi-hole (a login included).
    request_timeout_seconds: float = 5.0
    # Entries of pihole_top_queries / pihole_top_ads / pihole_top_sources; 0 leaves them out.
    top_items: int = 0

    @property
    def hostname(self) -> str:
        """The ``hostname`` label of every pihole_* metric, as eko/pihole-exporter sets it."""
        return urllib.parse.urlsplit(self.url).hostname or ""


def parse_pihole(t: Table) -> PiholeConfig:
    d_timeout, d_top = 5.0, 0
    url = t.read_str("url")
    if url:
        url = _check_url(t, url)
    password = t.secret("password")
    timeout = t.read_float("request_timeout_seconds", d_timeout, minimum=0.5, maximum=60)
    top = t.read_int("top_items", d_top, minimum=0, maximum=TOP_ITEMS_MAX)
    t.finish()
    return PiholeConfig(url=url, password=password, request_timeout_seconds=timeout, top_items=top)


def _check_url(t: Table, url: str) -> str:
    key = f"{t.key}.url"
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as err:
        t.problems.add(key, f"not a valid URL: {err}")
        return url
    if parts.scheme not in ("http", "https") or not parts.hostname:
        t.problems.add(key, f"must look like http://HOST:PORT (Pi-hole's web server), got {url!r}")
    elif parts.username or parts.password:
        t.problems.add(key, "must not carry credentials: set password_file or password_env")
    elif parts.path.rstrip("/") not in ("", "/api") or parts.query or parts.fragment:
        t.problems.add(key, f"give only scheme, host and port (BaluPi adds /api), got {url!r}")
    # The client adds /api itself.
    return f"{parts.scheme}://{parts.netloc}"
