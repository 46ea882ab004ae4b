"""A simulated TP-Link Tapo P110 plug that python-kasa talks to over KLAP v2 or AES."""

from balupi.sim.tapo.device_model import SimulatedP110
from balupi.sim.tapo.server import TapoSimServer

__all__ = ["SimulatedP110", "TapoSimServer"]
