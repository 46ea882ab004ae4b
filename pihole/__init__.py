"""A session-safe client of Pi-hole v6's REST API (import name ``balupi.pihole``)."""
