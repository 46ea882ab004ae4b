"""A simulated Pi-hole v6: its REST API as FTL answers it, and a real dnsmasq for its DNS."""
