"""A throwaway CA and certificates for a ZooKeeper server with a secure client port.

Made with the ``openssl`` command line; ZooKeeper 3.8 reads them as PEM (``ssl.keyStore.type=
PEM``), so no Java keystore is needed. Everything is valid for a day and names 127.0.0.1.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = ["TlsFiles", "make_tls_files", "server_tls_config"]


@dataclass(frozen=True)
class TlsFiles:
    """PEM files: the CA, the server's key and certificate in one file, a client cert and key."""

    ca: Path
    server: Path
    client_cert: Path
    client_key: Path


def _openssl(*args: str) -> None:
    binary = shutil.which("openssl")
    if binary is None:
        raise RuntimeError("no openssl on PATH: it makes the test certificates")
    subprocess.run([binary, *args], check=True, capture_output=True)


def _issue(directory: Path, name: str, ca: Path, ca_key: Path) -> tuple[Path, Path]:
    key, csr, cert = (directory / f"{name}.{ext}" for ext in ("key", "csr", "crt"))
    ext = directory / f"{name}.ext"
    ext.write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n"
    )
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(key))
    _openssl("req", "-new", "-key", str(key), "-out", str(csr), "-subj", f"/CN={name}")
    _openssl(
        *("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key)),
        *("-CAcreateserial", "-days", "1", "-extfile", str(ext), "-out", str(cert)),
    )
    return cert, key


def make_tls_files(directory: Path, name: str = "test-ca") -> TlsFiles:
    """A new CA in ``directory`` and a server and a client certificate it signed."""
    directory.mkdir(parents=True, exist_ok=True)
    ca, ca_key = directory / "ca.pem", directory / "ca.key"
    _openssl(
        *("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"),
        *("-keyout", str(ca_key), "-out", str(ca), "-days", "1", "-subj", f"/CN={name}"),
    )
    server_cert, server_key = _issue(directory, "server", ca, ca_key)
    server = directory / "server.pem"
    server.write_bytes(server_key.read_bytes() + server_cert.read_bytes())
    client_cert, client_key = _issue(directory, "client", ca, ca_key)
    return TlsFiles(ca=ca, server=server, client_cert=client_cert, client_key=client_key)


def server_tls_config(files: TlsFiles, port: int, client_auth: str) -> list[str]:
    """The ``zoo.cfg`` lines of a secure client port on 127.0.0.1 (``client_auth``: ZooKeeper's
    ``ssl.clientAuth``, ``none``, ``want`` or ``need``)."""
    return [
        f"secureClientPort={port}",
        "secureClientPortAddress=127.0.0.1",
        "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory",
        f"ssl.keyStore.location={files.server}",
        "ssl.keyStore.type=PEM",
        f"ssl.trustStore.location={files.ca}",
        "ssl.trustStore.type=PEM",
        f"ssl.clientAuth={client_auth}",
    ]
