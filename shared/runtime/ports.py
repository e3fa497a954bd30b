"""Choosing ports: a familiar default when it is free, any free port otherwise."""

from __future__ import annotations

import socket

from shared.runtime.process import free_port


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Without SO_REUSEADDR a port a stopped server left in TIME_WAIT would look busy, and a
        # restarted platform would move away from its usual ports for no reason.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def choose_port(host: str, preferred: int | None) -> int:
    """`preferred` if it is free; any free port if it is taken, None or 0."""
    if preferred and port_is_free(host, preferred):
        return preferred
    return free_port(host)
