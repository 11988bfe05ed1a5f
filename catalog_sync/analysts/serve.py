"""`catalog-sync serve`: Datasette 0.65 on a SQLite file, read-only, with the
descriptions and canned queries of analysts.datasette. Datasette (extra
`[serve]`) is imported only here."""

from __future__ import annotations

import asyncio
import signal
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from catalog_sync.analysts.datasette import metadata_065
from catalog_sync.errors import UsageError

SERVE_EXTRA = "catalog-sync serve needs Datasette: pip install 'catalog-sync[serve]'"


def check_installed() -> None:
    import importlib.util

    if importlib.util.find_spec("datasette") is None:
        raise UsageError(SERVE_EXTRA)


def build_app(path: Path) -> Any:
    """The Datasette ASGI app for `path` (opened read-only: mode=ro), started."""
    check_installed()
    from datasette.app import Datasette

    datasette = Datasette(
        [str(path)],
        metadata=metadata_065(path.stem),
        settings={"default_page_size": 100},
        cors=False,
    )
    asyncio.run(datasette.invoke_startup())
    return datasette.app()


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket listening on host:port (port 0: any free one), before the server
    runs, so that the address printed is already accepting connections."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    sock.listen(128)
    return sock


def serve(path: Path, *, host: str, port: int, announce: Callable[[str], None]) -> None:
    """Serve until interrupted (Ctrl-C, SIGTERM)."""
    import uvicorn

    app = build_app(path)
    sock = listening_socket(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    config = uvicorn.Config(app, log_level="warning", lifespan="on", workers=1)
    # uvicorn stops on SIGINT or SIGTERM, then raises the signal again: both
    # end here as a clean stop (exit 0), as Ctrl-C is how one stops it; the
    # handler is in place before the address is announced, so that a SIGTERM
    # right after it is a clean stop too.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        announce(f"serving {path} read-only at http://{shown}:{bound_port}/ (Ctrl-C to stop)")
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        sock.close()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
