"""A throw-away PostgreSQL server on 127.0.0.1, for the tests and `make bench`.

The server is Debian's package (`make test` installs it when missing, as root), run as the
`postgres` user when we are root (PostgreSQL refuses to run as root), on 127.0.0.1 and a free
port, with password authentication and ``fsync=off``; it is stopped by its pid and its folder
removed when the block ends.
"""
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

USER, PASSWORD = "grader", "s3cret-pw"


class Unavailable(Exception):
    """PostgreSQL is not installed, or did not start; the message says why."""


def server_binaries():
    """The newest ``/usr/lib/postgresql/<version>/bin`` holding initdb and postgres, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    return Path(found[-1]).parent if found else None


def free_port():
    """A TCP port of 127.0.0.1 that was free a moment ago (int)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server(databases=()):
    """A running server holding the empty `databases`: yields ``url(database)`` -> a URL
    without the password (which is `PASSWORD`; pass it as PGPASSWORD or ``connect_args``).

    Raises
    ------
    Unavailable, when PostgreSQL is not installed or does not accept connections
    """
    from sqlalchemy import create_engine, text
    bindir = server_binaries()
    if bindir is None:
        raise Unavailable("PostgreSQL is not installed (Debian's package postgresql; `make test` installs it as root)")
    base = Path(tempfile.mkdtemp(prefix="gradebook-postgresql-"))  # not under pytest's root-only tmp
    (base / "password").write_text(PASSWORD)
    as_owner = []
    if os.geteuid() == 0:
        for path in (base, base / "password"):
            shutil.chown(path, "postgres", "postgres")
        as_owner = ["runuser", "-u", "postgres", "--"]
    cluster = base / "cluster"
    process = log = admin = None
    try:
        subprocess.run(as_owner + [bindir / "initdb", "-D", cluster, "-U", USER, f"--pwfile={base / 'password'}",
                                   "--auth=scram-sha-256", "--no-locale", "-E", "UTF8"],
                       check=True, capture_output=True)
        port = free_port()
        log = open(base / "server.log", "w")
        process = subprocess.Popen(as_owner + [bindir / "postgres", "-D", cluster, "-p", str(port),
                                               "-c", "listen_addresses=127.0.0.1",
                                               "-c", f"unix_socket_directories={base}", "-c", "fsync=off"],
                                   stdout=log, stderr=subprocess.STDOUT)

        def url(database):
            return f"postgresql://{USER}@127.0.0.1:{port}/{database}"

        admin = create_engine(url("postgres"), connect_args={"password": PASSWORD}, isolation_level="AUTOCOMMIT")
        for _ in range(300):
            if process.poll() is not None:
                raise Unavailable(f"PostgreSQL did not start:\n{(base / 'server.log').read_text()}")
            try:
                with admin.connect():
                    break
            except Exception:  # noqa: BLE001 - not accepting connections yet
                time.sleep(0.1)
        else:
            raise Unavailable(f"PostgreSQL did not accept connections:\n{(base / 'server.log').read_text()}")
        with admin.connect() as c:
            for database in databases:
                c.execute(text(f"CREATE DATABASE {database}"))
        yield url
    finally:
        if admin is not None:
            admin.dispose()
        pid_file = cluster / "postmaster.pid"
        if pid_file.exists():
            os.kill(int(pid_file.read_text().split()[0]), signal.SIGINT)  # PostgreSQL's fast shutdown
        try:
            if process is not None:
                process.wait(timeout=60)
        finally:
            if log is not None:
                log.close()
            shutil.rmtree(base, ignore_errors=True)
