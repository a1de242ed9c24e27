"""Settings of a ``formcheck serve`` run: the data folder, the address, the access token."""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_PORT = 8000
DEFAULT_MAX_UPLOAD_MB = 2048
LOCALHOST = "127.0.0.1"


@dataclass(frozen=True)
class ServeConfig:
    """What the server needs to know.

    Attributes
    ----------
    data : Path
        The data folder (``formcheck batch``'s output layout).
    host, port : str, int
        Where to listen.
    token : str or None
        Every request must carry it (``--lan``); None on localhost.
    max_upload_bytes : int
    workers : int
        Analyses run at the same time (each in its own process).
    lan : bool
        Reachable from other devices (then ``token`` is set).
    extra_hosts : tuple of str
        Host names accepted in the ``Host`` header besides the bind address and localhost.
    """

    data: Path
    host: str = LOCALHOST
    port: int = DEFAULT_PORT
    token: str | None = None
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_MB * 1024 * 1024
    workers: int = 1
    lan: bool = False
    extra_hosts: tuple[str, ...] = field(default_factory=tuple)

    @property
    def url(self) -> str:
        """The address to open (with the token when one is needed)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        base = f"http://{host}:{self.port}/"
        return f"{base}?token={self.token}" if self.token else base

    def allowed_hosts(self) -> set[str]:
        """``Host`` header values accepted (against DNS rebinding)."""
        names = {self.host, "localhost", LOCALHOST, "[::1]", *self.extra_hosts}
        return {f"{n}:{self.port}" for n in names} | names


def default_data_dir() -> Path:
    """``formcheck`` under the user's data directory (``~/.local/share/formcheck`` on Linux).

    >>> default_data_dir().name
    'formcheck'
    """
    import platformdirs

    return Path(platformdirs.user_data_dir("formcheck", appauthor=False))


def new_token() -> str:
    """A random access token (128 bits, URL-safe).

    >>> len(new_token()) >= 22
    True
    """
    return secrets.token_urlsafe(16)


def lan_address() -> str:
    """This machine's address on the local network (the one other devices reach it by).

    The host name's own address when it is not a loopback one; else the
    routing table is asked which local address a private address would be
    reached from (a UDP ``connect`` only looks it up: it sends no packet).
    """
    try:
        found = [a[4][0] for a in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)]
    except OSError:
        found = []
    address = next((a for a in found if not a.startswith("127.")), "")
    if not address:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.connect(("10.254.254.254", 1))
                address = probe.getsockname()[0]
            except OSError:
                address = ""
    if not address or address.startswith("127."):
        from formcheck.errors import InputError

        raise InputError("no local network address found (is this machine on a network?); use --host ADDRESS")
    return address


def max_upload_bytes(megabytes: float) -> int:
    """``--max-upload-mb`` in bytes (MiB).

    >>> max_upload_bytes(1)
    1048576
    """
    return int(megabytes * 1024 * 1024)


def resolve_data_dir(data: str | os.PathLike | None) -> Path:
    """The data folder, created if needed."""
    path = Path(data).expanduser() if data else default_data_dir()
    path.mkdir(parents=True, exist_ok=True)
    return path.resolve()
