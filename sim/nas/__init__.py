"""A simulated NAS: health API, Wake-on-LAN listener, and the real balupi-nas announcements."""
