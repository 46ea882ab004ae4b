"""What runs on the NAS: the shutdown hook, the boot announcement and a minimal health server."""
