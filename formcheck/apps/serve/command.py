"""``formcheck serve``: start the local web app (see :mod:`formcheck.apps.serve` and docs/web.md)."""

from __future__ import annotations

import argparse
import ipaddress
import socket
import sys

from formcheck.apps.serve.config import (
    DEFAULT_MAX_UPLOAD_MB,
    DEFAULT_PORT,
    LOCALHOST,
    ServeConfig,
    lan_address,
    max_upload_bytes,
    new_token,
    resolve_data_dir,
)
from formcheck.errors import InputError

DESCRIPTION = (
    "Start a local web app: upload or film a set on the phone, watch the analysis progress, read the report "
    "with the annotated video; the coach's clients, trends and roster; a live check from the laptop camera. "
    "Listens on 127.0.0.1 only, unless --lan (then every request needs the printed token). Nothing leaves "
    "this machine."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``formcheck serve``."""
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--data", metavar="DIR",
                        help="data folder: uploads, analyses, client history (default: formcheck in your data directory); "
                             "the layout of 'formcheck batch --out', so both see the same clients")
    parser.add_argument("--lan", action="store_true",
                        help="reachable from phones on the same network: binds to the LAN address and prints a link "
                             "with a random access token (and its QR code)")
    parser.add_argument("--host", metavar="ADDRESS",
                        help="bind to this address instead (with --lan: instead of the detected LAN address)")
    parser.add_argument("--max-upload-mb", type=float, default=DEFAULT_MAX_UPLOAD_MB, metavar="MB",
                        help=f"largest video accepted (default {DEFAULT_MAX_UPLOAD_MB})")
    parser.add_argument("--workers", type=int, default=1,
                        help="analyses run at the same time, each in its own process (default 1)")


def build_config(args: argparse.Namespace) -> ServeConfig:
    """Check the arguments and settle the configuration (raises InputError with the reason)."""
    if not 0 < args.port < 65536:
        raise InputError(f"--port must be between 1 and 65535, not {args.port}")
    if args.max_upload_mb <= 0:
        raise InputError("--max-upload-mb must be positive")
    if args.workers < 1:
        raise InputError("--workers must be at least 1")
    host = args.host or (lan_address() if args.lan else LOCALHOST)
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback and not args.lan:
        raise InputError(f"--host {host} would let other machines in without a token: add --lan")
    return ServeConfig(
        data=resolve_data_dir(args.data),
        host=host,
        port=args.port,
        token=new_token() if args.lan else None,
        max_upload_bytes=max_upload_bytes(args.max_upload_mb),
        workers=args.workers,
        lan=args.lan,
    )


def check_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise InputError(f"cannot listen on {host}:{port} ({exc.strerror}); choose another --port") from None


def qr_text(url: str) -> str:
    """The link as a QR code drawn with block characters, for the terminal."""
    import io

    import segno

    out = io.StringIO()
    segno.make(url, error="m").terminal(out=out, compact=True, border=2)
    return out.getvalue()


def run(args: argparse.Namespace) -> int:
    """Run ``formcheck serve`` until Ctrl-C."""
    config = build_config(args)
    check_port_free(config.host, config.port)
    import uvicorn

    from formcheck.apps.serve.app import create_app

    app = create_app(config)
    print(f"formcheck serve: open {config.url}", flush=True)
    if config.lan:
        print("On a phone on the same network, open the link above or scan this code:", flush=True)
        print(qr_text(config.url), end="", flush=True)
        print("Anyone with the link can use this server until it stops.", flush=True)
    print(f"Data folder: {config.data}  (Ctrl-C stops the server)", flush=True)
    uvicorn.run(app, host=config.host, port=config.port, log_level="warning", access_log=False, ws="auto")
    print("formcheck serve: stopped", file=sys.stderr)
    return 0
