"""Starting BaluPi's parts and real servers on loopback: shared by the demo and the tests."""
