"""Running several server processes, each with its own listening socket (SO_REUSEPORT).

uvicorn's own ``--workers`` shares one listening socket between processes, and whichever is
awake first accepts every pending connection: a few keep-alive clients (an LMS, a load balancer)
can all land on one worker while the others idle. With ``SO_REUSEPORT`` each worker listens on
its own socket and the kernel spreads connections across them evenly.
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
from types import FrameType
from typing import Any

import uvicorn


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _worker(sock: socket.socket, options: dict[str, Any]) -> None:
    config = uvicorn.Config("lrs.app:create_app", factory=True, **options)
    uvicorn.Server(config).run(sockets=[sock])


def serve(host: str, port: int, workers: int, options: dict[str, Any]) -> None:
    """Run the app in ``workers`` processes; returns when they have all stopped."""
    if workers <= 1 or not hasattr(socket, "SO_REUSEPORT"):
        uvicorn.run(
            "lrs.app:create_app", factory=True, host=host, port=port, workers=workers, **options
        )
        return
    # Every socket is bound and listening before any worker starts: connections that arrive
    # while a worker is still importing wait in its own backlog instead of all going to the
    # first worker up, and a port already in use fails here, at once.
    sockets = [_listen(host, port) for _ in range(workers)]
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_worker, args=(sock, options), daemon=False) for sock in sockets
    ]
    for process in processes:
        process.start()

    def stop(signum: int, _frame: FrameType | None) -> None:
        for process in processes:
            if process.is_alive():
                process.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for process in processes:
        process.join()
