"""Confine the worker that runs student code (Linux), before any of that code runs.

`confine` moves the worker into new user, mount, network, IPC and pid namespaces and
forks. The parent stays outside the new pid namespace as the child's keeper: it runs no
student code, waits, and passes the child's fate on (signals included). The child is
process 1 of its own pid namespace, so everything it starts dies with it, and it sees
no other process on the machine (a fresh /proc). It then builds a new root from an
allowlist: the system's read-only folders (of /etc only what Python, NumPy and matplotlib
read), Python, the public grader code (read-only), its own working folder (the only
writable place besides a small private /tmp) and a few devices, each resolved first (a
linked .venv appears under both of its names), pivots into it and locks those mounts: it
enters one more user namespace or, grading as root, becomes nobody with no capability
left, so no file of root's opens to it but by its permissions for others. The course
tree, the submissions, the outputs, the other workers and the scratch folders of other
runs are simply not there. A process-count limit is set where the kernel enforces it for
this user (see `runner` for the cgroup used when grading as root).

Where the kernel refuses a step, `confine` says which guarantee is missing; the grade
report shows that level. `unavailable` tells beforehand whether the namespaces can be
made at all (`grade` stops unless weaker isolation is accepted).
"""
import ctypes
import os
import platform
import resource
import signal

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWNET = 0x00020000, 0x10000000, 0x40000000
CLONE_NEWPID, CLONE_NEWIPC = 0x20000000, 0x08000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC, MS_PRIVATE, MS_RELATIME = 1024, 2048, 4096, 16384, 1 << 18, 1 << 21
#: statvfs flag -> the mount flag a read-only remount must keep (the kernel locks them)
KEPT_FLAGS = {os.ST_NOSUID: MS_NOSUID, os.ST_NODEV: MS_NODEV, os.ST_NOEXEC: MS_NOEXEC,
              os.ST_NOATIME: MS_NOATIME, os.ST_NODIRATIME: MS_NODIRATIME, os.ST_RELATIME: MS_RELATIME}
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}
#: System folders every Python process needs, read-only (symbolic links are recreated).
SYSTEM = ["/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"]
#: What of /etc Python, NumPy, IPython and matplotlib read (the dynamic linker's cache, the time
#: zone, fontconfig, Debian's alternatives), and nothing else: not shadow, gshadow or passwd.
ETC = ["/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/timezone",
       "/etc/fonts", "/etc/alternatives"]
#: Who the student's code runs as when grading as root: nobody, which owns nothing of the course.
NOBODY = 65534
DEVICES = ["/dev/null", "/dev/zero", "/dev/random", "/dev/urandom"]
#: What is missing when the kernel refuses the namespaces.
NOT_CONFINED = ("no pid namespace (its processes can outlive grading and signal the grader), no private root "
                "(the course tree and the other submissions are readable and writable), network reachable")


def unavailable():
    """Why `confine` would reach only "process only" here (None when the namespaces can be made).

    Tried in a child that only unshares them, as `confine` does, and exits.
    """
    try:
        unshare = _libc().unshare  # looked up before the fork: the child takes no loader lock a thread may hold
    except (OSError, AttributeError) as exc:
        return f"the C library cannot be loaded ({exc}): {NOT_CONFINED}"
    child = os.fork()
    if child == 0:
        refused = unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWPID) != 0
        os._exit(ctypes.get_errno() or 1 if refused else 0)
    _, status = os.waitpid(child, 0)
    errno = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1
    return None if errno == 0 else f"the kernel refuses new namespaces (unshare: {os.strerror(errno)}): {NOT_CONFINED}"


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _check(result, what):
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _enter_user_namespace(libc, flags):
    """Unshare a user namespace (and `flags`) and map this user to itself in it.

    As root, a helper left outside writes the maps, since only there may root map more than
    itself: root stays root inside (to build the new root) and `NOBODY` is mapped too, for
    `_drop_to_nobody`. Returns True when it is.
    """
    uid, gid = os.getuid(), os.getgid()
    if uid != 0:
        _check(libc.unshare(CLONE_NEWUSER | flags), "unshare")
        with open("/proc/self/setgroups", "w") as f:
            f.write("deny")
        with open("/proc/self/uid_map", "w") as f:
            f.write(f"{uid} {uid} 1")
        with open("/proc/self/gid_map", "w") as f:
            f.write(f"{gid} {gid} 1")
        return False
    unshared_r, unshared_w = os.pipe()
    helper = os.fork()
    if helper == 0:
        os.close(unshared_w)
        os._exit(_write_maps(os.getppid()) if os.read(unshared_r, 1) == b"y" else 1)
    os.close(unshared_r)
    result = libc.unshare(CLONE_NEWUSER | flags)
    errno = ctypes.get_errno()
    os.write(unshared_w, b"y" if result == 0 else b"n")
    os.close(unshared_w)
    _, status = os.waitpid(helper, 0)
    if result != 0:
        raise OSError(errno, f"unshare: {os.strerror(errno)}")
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) not in (0, 2):
        raise OSError(0, "unshare: the user ids could not be mapped")
    return os.WEXITSTATUS(status) == 0


def _write_maps(pid):
    """In the helper, outside: map root and `NOBODY` (0), or else root alone (2), for `pid`; 1 if neither."""
    for lines, code in ((f"0 0 1\n{NOBODY} {NOBODY} 1\n", 0), ("0 0 1\n", 2)):
        try:
            for name in ("uid_map", "gid_map"):
                with open(f"/proc/{pid}/{name}", "w") as f:
                    f.write(lines)
            return code
        except OSError:
            continue
    return 1


def _drop_to_nobody(workdir):
    """Become `NOBODY` for good: no capability left, so no mount can change, and no file of
    root's (the course, /etc/shadow) opens but by its permissions for others."""
    os.chown(workdir, NOBODY, NOBODY)
    os.setgroups([])
    os.setresgid(NOBODY, NOBODY, NOBODY)
    os.setresuid(NOBODY, NOBODY, NOBODY)


def confine(jail, workdir, readable, process_limit=64, workdir_tmpfs=None):
    """Confine this process; in the confined child, return the level reached.

    Parameters
    ----------
    jail : str, an empty folder to build the new root on (any one: the mount is private)
    workdir : str, the worker's own folder, the only one left writable
    readable : list of str, folders the code needs read-only (Python, the public code)
    process_limit : int, the most processes the student's code may have at once
    workdir_tmpfs : str or None, tmpfs options (size, inodes) of a fresh, empty working folder
        mounted at `workdir` in place of the folder itself: bounded, and gone with the worker

    Returns
    -------
    level : str, "namespaces" when every guarantee holds, else "process only (<why>)"
        or "namespaces (<what is missing>)". Only the confined child returns: the
        parent waits for it and exits the same way.
    """
    try:
        libc = _libc()
        nobody = _enter_user_namespace(libc, CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWPID)
    except (OSError, AttributeError) as exc:
        return f"process only ({exc}): {NOT_CONFINED}"
    child = os.fork()
    if child:
        _keep(child)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    missing = [] if nobody or os.getuid() != 0 else [f"runs as root inside (uid {NOBODY} could not be mapped)"]
    try:
        _build_root(libc, jail, workdir, readable, missing, workdir_tmpfs)
        if nobody:
            _drop_to_nobody(workdir)  # with no capability left, the mounts above are locked too
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # a change of user cleared it
        else:
            _enter_user_namespace(libc, CLONE_NEWNS)  # locks the mounts above for what runs next
    except OSError as exc:
        # Without the new root the course tree would be in reach: run nothing.
        os.write(2, f"the sandbox could not be built: {exc}\n".encode())
        os._exit(70)
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    if not nobody:  # RLIMIT_NPROC counts every process of a user: NOBODY's workers would share it
        resource.setrlimit(resource.RLIMIT_NPROC, (process_limit, process_limit))
    return "namespaces" + (f" ({'; '.join(missing)})" if missing else "")


def _keep(child):
    """Outside the child's pid namespace: wait for it, then exit as it did. Never returns."""
    def stop(signum, frame):
        os.kill(child, signal.SIGKILL)
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, stop)
    while True:
        try:
            _, status = os.waitpid(child, 0)
            break
        except InterruptedError:
            continue
        except ChildProcessError:
            os._exit(70)
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        signal.signal(signum, signal.SIG_DFL)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        os.kill(os.getpid(), signum)
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 70)


def _build_root(libc, jail, workdir, readable, missing, workdir_tmpfs=None):
    """Mount the allowlisted folders on a tmpfs at `jail` and pivot into it."""
    _check(libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "make mounts private")
    _check(libc.mount(b"tmpfs", jail.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, b"size=1m,mode=755"), "new root")
    _tmpfs(libc, jail, "/tmp", "size=64m,mode=1777")
    _tmpfs(libc, jail, "/dev/shm", "size=64m,mode=1777")
    covered = []
    # each readable path where it is asked for and where it really is: a linked .venv or course
    # folder is then found by either name (a link recreated in the jail would point at nothing)
    readable = {os.path.abspath(p) for p in readable} | {os.path.realpath(p) for p in readable}
    for path in SYSTEM + ETC + sorted(readable, key=len):
        if os.path.lexists(path) and not any(path == c or path.startswith(c.rstrip("/") + "/") for c in covered):
            _expose(libc, jail, path, writable=False, keep_link=path in SYSTEM + ETC)
            covered.append(path)
    if workdir_tmpfs:
        _tmpfs(libc, jail, workdir, workdir_tmpfs)
    else:
        _expose(libc, jail, workdir, writable=True)
    for device in DEVICES:
        if os.path.exists(device):
            _expose(libc, jail, device, writable=True)
    _freeze_skeletons(libc, jail, covered + [workdir])
    proc = os.path.join(jail, "proc")
    os.makedirs(proc, exist_ok=True)
    if libc.mount(b"proc", proc.encode(), b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None) != 0:
        missing.append("no /proc of its own: /proc is absent")
    old = os.path.join(jail, ".old-root")
    os.makedirs(old)
    machine = platform.machine()
    if machine not in SYS_PIVOT_ROOT:
        raise OSError(0, f"pivot_root: unknown system call number on {machine}")
    _check(libc.syscall(SYS_PIVOT_ROOT[machine], jail.encode(), old.encode()), "pivot_root")
    os.chdir("/")
    _check(libc.umount2(b"/.old-root", MNT_DETACH), "detach the old root")
    os.rmdir("/.old-root")
    _check(libc.mount(None, b"/", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, None),
           "read-only root")
    os.chdir(workdir)


def _freeze_skeletons(libc, jail, exposed):
    """Make read-only the folders made inside the private /tmp only to hold exposed paths.

    The new root itself is made read-only at the end, but /tmp stays writable: without this,
    a course cloned under /tmp would show an empty writable copy of its folder, where a
    student could create a file at the path of, say, its nbgrader_config.py (harmless, as it
    is private, but it would look like a way in).
    """
    for private in ("/tmp", "/dev/shm"):
        tops = {private + "/" + p[len(private) + 1:].split("/")[0] for p in exposed if p.startswith(private + "/")}
        for top in sorted(tops - set(exposed)):
            target = (jail + top).encode()
            _check(libc.mount(target, target, None, MS_BIND | MS_REC, None), f"bind {top}")
            _check(libc.mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, None),
                   f"read-only {top}")


def _tmpfs(libc, jail, path, options):
    target = jail + path
    os.makedirs(target, exist_ok=True)
    _check(libc.mount(b"tmpfs", target.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, options.encode()),
           f"tmpfs at {path}")


def _expose(libc, jail, path, writable, keep_link=False):
    """Make `path` appear at the same place under `jail`: what it resolves to, or with
    `keep_link` a link recreated as a link (its target must be exposed too)."""
    target = jail + path
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if keep_link and os.path.islink(path):
        os.symlink(os.readlink(path), target)
        return
    if os.path.isdir(path):
        os.makedirs(target, exist_ok=True)
    else:
        open(target, "a").close()
    _check(libc.mount(path.encode(), target.encode(), None, MS_BIND | MS_REC, None), f"bind {path}")
    if not writable:
        kept = sum(flag for st, flag in KEPT_FLAGS.items() if os.statvfs(path).f_flag & st)
        _check(libc.mount(None, target.encode(), None, MS_REMOUNT | MS_BIND | MS_RDONLY | kept, None),
               f"read-only {path}")
