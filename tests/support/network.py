"""Ports for the servers the system tests start on 127.0.0.1."""
import socket


def free_port():
    """A TCP port of 127.0.0.1 that was free a moment ago (int)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
