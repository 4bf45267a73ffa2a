"""``python -m autograder.hub_service SETTINGS``: the grading service of the course's hub, started, restarted
and stopped by JupyterHub (its ``services``; ``authoring/jupyterhub_config.py``), its lines in the hub's log.
SETTINGS is the hub's settings file (``authoring/hub.py``'s `prepare`): the exchange, the instructor whose
home is the course folder, the hub's private folder (the journal goes in ``grading-on-submit/`` there)."""
import json
import pwd
import signal
import sys
import threading
from pathlib import Path


def main(argv):
    from autograder.authoring.hub import course_id
    from autograder.grading.options import Options
    from autograder.hub_service.service import Service
    settings = json.loads(Path(argv[0]).read_text())
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())  # the hub stops its services with SIGTERM
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    service = Service(Path(settings["state"]) / "exchange", course_id(), pwd.getpwnam(settings["instructor"]).pw_dir,
                      Path(settings["private"]) / "grading-on-submit",
                      Options(quiet=True, workers=settings.get("grading_workers", 2)))
    service.run(stop)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
