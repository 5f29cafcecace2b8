"""A real ZooKeeper server for tests: one node, or an ensemble on loopback.

It runs the server of the Debian ``zookeeper`` package (``/usr/share/java/zookeeper.jar``)
in a temporary directory on free ports::

    with ZooKeeperEnsemble(size=3) as zk:
        zk.hosts               # "127.0.0.1:41001,127.0.0.1:41007,127.0.0.1:41013"
        zk.kill(0)             # SIGKILL one node
        zk.restart(0)          # same ports, same data
        zk.sessions()          # sessions the servers hold (the ``cons`` command)

    with ZooKeeperEnsemble(tls=True) as zk:   # also a secure client port, a throwaway CA
        zk.tls_hosts           # "127.0.0.1:41003"
        zk.tls_files.ca        # the CA that signed the servers' (and a client's) certificates

Set ``PRESTOHA_ZOOKEEPER_CLASSPATH`` to use another installation (its jars, ``:``-separated).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from prestoha.testing import _processes
from prestoha.testing._zktls import TlsFiles, make_tls_files, server_tls_config

__all__ = [
    "TlsFiles",
    "ZooKeeperEnsemble",
    "ZooKeeperError",
    "ZooKeeperNode",
    "ZooKeeperNotInstalledError",
    "four_letter_word",
    "free_ports",
    "make_tls_files",
]

_JARS = "/usr/share/java"
# The jar's manifest lists most of its dependencies; these it does not, yet the server needs them.
_EXTRA_JARS = (
    "netty-codec.jar",
    "netty-resolver.jar",
    "netty-transport-native-unix-common.jar",
    "slf4j-simple.jar",
)
_INSTALL_HINT = (
    "install the ZooKeeper server with `apt-get install zookeeper` (Debian/Ubuntu), or set "
    "PRESTOHA_ZOOKEEPER_CLASSPATH to the jars of a ZooKeeper 3.5+ server"
)


class ZooKeeperError(RuntimeError):
    """The ZooKeeper server could not be started or did not answer."""


class ZooKeeperNotInstalledError(ZooKeeperError):
    """No ZooKeeper server (or no Java) on this machine."""


def server_classpath() -> str:
    """The classpath of the installed server, or :class:`ZooKeeperNotInstalledError`."""
    custom = os.environ.get("PRESTOHA_ZOOKEEPER_CLASSPATH")
    if custom:
        return custom
    jar = Path(_JARS, "zookeeper.jar")
    if not jar.is_file():
        raise ZooKeeperNotInstalledError(f"no ZooKeeper server: {jar} is missing; {_INSTALL_HINT}")
    extras = [str(Path(_JARS, name)) for name in _EXTRA_JARS if Path(_JARS, name).is_file()]
    return ":".join([str(jar), *extras])


def java_binary() -> str:
    """The ``java`` to run the server with (``JAVA_HOME`` first, then ``PATH``)."""
    home = os.environ.get("JAVA_HOME")
    if home and Path(home, "bin", "java").is_file():
        return str(Path(home, "bin", "java"))
    found = shutil.which("java")
    if not found:
        raise ZooKeeperNotInstalledError(f"no java on PATH; {_INSTALL_HINT} (it pulls in Java)")
    return found


def free_ports(count: int) -> list[int]:
    """``count`` distinct TCP ports free on 127.0.0.1 right now."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def four_letter_word(port: int, command: str, timeout: float = 2.0, host: str = "127.0.0.1") -> str:
    """Send a four-letter command (``ruok``, ``srvr``, ``cons``...) and return the answer.

    Raises ``OSError`` when the node does not answer.
    """
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(command.encode("ascii"))
        chunks = []
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", "replace")


class ZooKeeperNode:
    """One server of an ensemble: its ports, its directory and its process."""

    def __init__(
        self,
        server_id: int,
        directory: Path,
        client_port: int,
        quorum_port: int,
        election_port: int,
    ) -> None:
        self.server_id = server_id
        self.directory = directory
        self.client_port = client_port
        self.quorum_port = quorum_port
        self.election_port = election_port
        self.process: subprocess.Popen[Any] | None = None
        self._log: IO[bytes] | None = None
        #: the secure client port and its settings, when the ensemble has TLS
        self.tls: tuple[int, TlsFiles, str] | None = None

    @property
    def address(self) -> str:
        """``127.0.0.1:<client port>``."""
        return f"127.0.0.1:{self.client_port}"

    @property
    def log_path(self) -> Path:
        """The server's log file."""
        return self.directory / "zookeeper.log"

    @property
    def running(self) -> bool:
        """Whether the process is alive (it may not be serving yet)."""
        return self.process is not None and self.process.poll() is None

    def write_config(self, servers: list[ZooKeeperNode], tick_time: int) -> None:
        """Write ``zoo.cfg`` and ``myid`` for this node."""
        data = self.directory / "data"
        data.mkdir(parents=True, exist_ok=True)
        (data / "myid").write_text(f"{self.server_id}\n")
        lines = [
            f"tickTime={tick_time}",
            f"initLimit={max(10, 10_000 // tick_time)}",
            f"syncLimit={max(5, 5_000 // tick_time)}",
            f"dataDir={data}",
            f"clientPort={self.client_port}",
            "clientPortAddress=127.0.0.1",
            "admin.enableServer=false",
            "4lw.commands.whitelist=*",
            f"minSessionTimeout={2 * tick_time}",
            "maxSessionTimeout=60000",
            "forceSync=no",
            "preAllocSize=1024",
            "maxClientCnxns=0",
        ]
        if self.tls is not None:
            lines += server_tls_config(self.tls[1], self.tls[0], self.tls[2])
        if len(servers) > 1:
            lines += [
                f"server.{n.server_id}=127.0.0.1:{n.quorum_port}:{n.election_port}" for n in servers
            ]
        (self.directory / "zoo.cfg").write_text("\n".join(lines) + "\n")

    def start(self) -> None:
        """Start the process (returns at once; see :meth:`wait_serving`)."""
        if self.running:
            return
        argv = [
            java_binary(),
            "-Xms16m",
            "-Xmx192m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-Djava.net.preferIPv4Stack=true",
            "-Dzookeeper.admin.enableServer=false",
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
            "-cp",
            f"{self.directory}:{server_classpath()}",
            "org.apache.zookeeper.server.quorum.QuorumPeerMain",
            str(self.directory / "zoo.cfg"),
        ]
        self._close_log()
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - lives as long as the process
        self.process = _processes.spawn(argv, stdout=self._log, stderr=self._log)

    def serving(self) -> bool:
        """Whether the node answers ``srvr`` as a member of a working quorum."""
        try:
            return "Mode:" in four_letter_word(self.client_port, "srvr", timeout=1.0)
        except OSError:
            return False

    def wait_serving(self, timeout: float = 30.0) -> None:
        """Wait until :meth:`serving`; :class:`ZooKeeperError` (with the log tail) otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.serving():
                return
            if self.process is not None and self.process.poll() is not None:
                raise ZooKeeperError(
                    f"ZooKeeper node {self.server_id} exited with {self.process.returncode}:\n"
                    + self.log_tail()
                )
            time.sleep(0.05)
        raise ZooKeeperError(
            f"ZooKeeper node {self.server_id} not serving after {timeout:g} s:\n" + self.log_tail()
        )

    def kill(self) -> None:
        """SIGKILL the server."""
        if self.process is not None:
            _processes.kill(self.process)
        self._close_log()

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the server and wait for it to exit."""
        if self.process is not None:
            _processes.terminate(self.process, timeout)
        self._close_log()

    def pause(self) -> None:
        """SIGSTOP the server (a hung node)."""
        if self.process is not None:
            _processes.signal_group(self.process, signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT a paused server."""
        if self.process is not None:
            _processes.signal_group(self.process, signal.SIGCONT)

    def log_tail(self, lines: int = 25) -> str:
        """The last lines of the server's log."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


class ZooKeeperEnsemble:
    """``size`` ZooKeeper servers on loopback (1 = standalone), each in its own process.

    ``tick_time`` (ms) is small by default so sessions expire promptly; sessions may last from
    two ticks up to 60 s. With ``tls`` each node also has a secure client port (``tls_hosts``)
    with certificates of a new CA (``tls_files``); ``client_auth`` is its ``ssl.clientAuth``.
    Use as a context manager, or call :meth:`start` and :meth:`close`.
    """

    def __init__(
        self,
        size: int = 1,
        *,
        tick_time: int = 200,
        base_dir: str | None = None,
        tls: bool = False,
        client_auth: str = "want",
    ) -> None:
        if size < 1:
            raise ValueError("an ensemble has at least one node")
        self.size = size
        self.tick_time = tick_time
        self._own_dir = base_dir is None
        self.directory = Path(base_dir or tempfile.mkdtemp(prefix="prestoha-zk-"))
        self.nodes: list[ZooKeeperNode] = []
        self.tls_files = make_tls_files(self.directory / "tls") if tls else None
        self._client_auth = client_auth

    @property
    def hosts(self) -> str:
        """The connect string of all nodes."""
        return ",".join(n.address for n in self.nodes)

    @property
    def tls_hosts(self) -> str:
        """The connect string of the nodes' secure client ports (with ``tls=True``)."""
        return ",".join(f"127.0.0.1:{n.tls[0]}" for n in self.nodes if n.tls)

    def start(self, timeout: float = 60.0) -> ZooKeeperEnsemble:
        """Start every node and wait until all serve (retrying on a port clash)."""
        server_classpath()
        java_binary()
        last: ZooKeeperError | None = None
        for _attempt in range(3):
            self._layout()
            for node in self.nodes:
                node.start()
            try:
                for node in self.nodes:
                    node.wait_serving(timeout)
                return self
            except ZooKeeperError as exc:
                last = exc
                for node in self.nodes:
                    node.kill()
                if "Address already in use" not in str(exc):
                    break
        self.close()
        assert last is not None
        raise last

    def _layout(self) -> None:
        ports = free_ports(4 * self.size)
        self.nodes = []
        for i in range(self.size):
            directory = self.directory / f"node{i + 1}"
            shutil.rmtree(directory, ignore_errors=True)
            directory.mkdir(parents=True)
            client, quorum, election, secure = ports[4 * i : 4 * i + 4]
            node = ZooKeeperNode(i + 1, directory, client, quorum, election)
            if self.tls_files is not None:
                node.tls = (secure, self.tls_files, self._client_auth)
            self.nodes.append(node)
        for node in self.nodes:
            node.write_config(self.nodes, self.tick_time)

    def kill(self, index: int) -> None:
        """SIGKILL node ``index`` (0-based)."""
        self.nodes[index].kill()

    def stop_node(self, index: int) -> None:
        """SIGTERM node ``index`` and wait for it to exit."""
        self.nodes[index].stop()

    def restart(self, index: int, *, wait: bool = True, timeout: float = 30.0) -> None:
        """(Re)start node ``index`` on its ports with its data; wait until it serves."""
        node = self.nodes[index]
        if node.running:
            node.stop()
        node.start()
        if wait:
            node.wait_serving(timeout)

    def wait_serving(self, timeout: float = 30.0) -> None:
        """Wait until every running node serves."""
        for node in self.nodes:
            if node.running:
                node.wait_serving(timeout)

    def sessions(self) -> int:
        """Client sessions connected to the running nodes right now (``cons``)."""
        total = 0
        for node in self.nodes:
            if not node.running:
                continue
            try:
                answer = four_letter_word(node.client_port, "cons")
            except OSError:
                continue
            total += sum(1 for line in answer.splitlines() if "sid=0x" in line)
        return total

    def pids(self) -> list[int]:
        """Pids of the running server processes."""
        return [n.process.pid for n in self.nodes if n.process is not None and n.running]

    def close(self) -> None:
        """Stop every node and remove the directory (if it was a temporary one)."""
        for node in self.nodes:
            node.kill()
        if self._own_dir:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> ZooKeeperEnsemble:
        if not self.nodes:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ZooKeeperEnsemble(size={self.size}, hosts={self.hosts!r})"
