"""balupi-handshake: the NAS state machine, heartbeat, Wake-on-LAN, DNS switch and snapshots."""
