"""Hide the course's private files from the worker that runs student code (Linux).

Before any student code runs, the worker moves itself into new user, mount and network
namespaces, mounts an empty read-only tmpfs over every private folder (the masters, the
grader, the tests, the gradebook, the submissions, the outputs, the other students' work
folders), and then enters one more user namespace so that those mounts are locked: the
student's code can neither unmount them nor reach the files through /proc, and has no
network. Where the kernel does not allow unprivileged user namespaces, the worker runs as
a plain separate process and says so (the grade report names the level reached).
"""
import ctypes
import os

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWNET = 0x00020000, 0x10000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REC, MS_PRIVATE = 1, 2, 4, 16384, 1 << 18
PR_SET_NO_NEW_PRIVS = 38


def _check(result, what):
    if result != 0:
        raise OSError(ctypes.get_errno(), f"{what}: {os.strerror(ctypes.get_errno())}")


def _enter_user_namespace(libc, flags):
    uid, gid = os.getuid(), os.getgid()
    _check(libc.unshare(CLONE_NEWUSER | flags), "unshare")
    with open("/proc/self/setgroups", "w") as f:
        f.write("deny")
    with open("/proc/self/uid_map", "w") as f:
        f.write(f"{uid} {uid} 1")
    with open("/proc/self/gid_map", "w") as f:
        f.write(f"{gid} {gid} 1")


def isolate(hide):
    """Replace each folder in `hide` by an empty one and cut the network, for good.

    Parameters
    ----------
    hide : list of str, absolute folders (none of them may hold what the worker needs)

    Returns
    -------
    level : str, "namespaces" or "process only (<reason>)"
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        _enter_user_namespace(libc, CLONE_NEWNS | CLONE_NEWNET)
        _check(libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "make mounts private")
        for path in hide:
            if os.path.isdir(path):
                _check(libc.mount(b"tmpfs", path.encode(), b"tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, b"size=4k"),
                       f"hide {path}")
        _enter_user_namespace(libc, CLONE_NEWNS)  # locks the mounts above for what runs next
        libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        return "namespaces"
    except (OSError, AttributeError) as exc:
        return f"process only ({exc})"
