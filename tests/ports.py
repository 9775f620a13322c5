"""A free TCP port on 127.0.0.1, for a server a test starts in another process (or for a port
nothing listens on).

A port the kernel picks (bind to 0) comes from the range it also hands to outgoing connections,
and it is free only until the socket closes: with tests on two pytest-xdist workers, another
worker's connection or server could take it before the test's server binds it, and the test
would then talk to a stranger. Each worker picks from its own block below that range."""

import os
import random
import socket

FIRST, BLOCK, BLOCKS = 20000, 2000, 6  # 20000-31999: below Linux's 32768-60999


def free_port() -> int:
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    start = FIRST + (worker % BLOCKS) * BLOCK
    for port in random.sample(range(start, start + BLOCK), BLOCK):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError(f"no free port in {start}-{start + BLOCK - 1}")
