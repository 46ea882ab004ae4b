"""BaluPi: the always-on companion of a home NAS."""

__version__ = "0.1.0"
