"""Grading on submit: each submission nbgrader's exchange receives, collected, graded, recorded and its
feedback released, while the hub runs (``__main__.py`` is the hub's managed service; docs/deployment/jupyterhub.md).

The loop polls the exchange's inbound every `POLL_SECONDS` rather than watching it with inotify: a real
deployment's exchange is a shared filesystem (NFS and the like), whose writes from other machines
inotify never reports, and one directory listing every 0.3 s costs nothing. Each new folder is checked
(`inbound`), the latest pending submission of each student and lesson is collected into the course's
``submitted/`` and graded by one warm `GradingSession` (the local pool of `options.workers`), then,
one at a time: recorded in the course's gradebook and read back as it publishes it (manual grades
kept: `gradebook.process.record_and_read`), nbgrader's autograded notebook and feedback page written
(`gradebook.nbgrader_files`), and the student's feedback released as the lesson's `policy` says. Every
step is in the `journal` first, so a restarted service finishes what was started and skips what was done.
Everything written into the course is handed to its owner, the instructor.
"""
import os
import sys
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

from autograder.hub_service import inbound, policy, release
from autograder.hub_service.journal import FINAL, Journal

POLL_SECONDS = 0.3
#: Seconds before the gradebook step of a graded submission is tried again after it failed (e.g. a locked gradebook).
RETRY_SECONDS = 5.0


class Service:
    """The grading service of course folder `course` (the instructor's: its ``nbgrader_config.py`` says where its
    gradebook and nbgrader's folders are) on nbgrader's `exchange` for `course_id`.

    Parameters
    ----------
    state : Path, the journal's folder (root's alone)
    options : grading.options.Options
    simulated : set of str, student ids whose folder's owner is not checked (everyone else's must be the
        system user it names): only a test that submits as many students from one system user sets it
    out : file, where the log's lines go (the hub's log)
    """

    def __init__(self, exchange, course_id, course, state, options=None, simulated=frozenset(), out=None):
        from autograder.gradebook.nbgrader_cmd import course_config, course_directories
        from autograder.grading.options import Options
        self.exchange, self.course_id, self.course = Path(exchange), course_id, Path(course).resolve()
        self.inbound = self.exchange / course_id / "inbound"
        info = os.stat(self.course)
        self.owner = (info.st_uid, info.st_gid)
        self.db_url, self.autograded, self.feedback = course_directories(self.course)
        self.submitted = self.course / course_config(self.course).CourseDirectory.submitted_directory
        self.options = options or Options(quiet=True)
        self.simulated, self.out = frozenset(simulated), out or sys.stdout
        self.journal = Journal(state)
        for path in inbound.remove_leftovers(self.submitted):
            self.say(f"removed {path}, left by a collection that was stopped midway")
        self.policy_stamp = "unread"
        self._load_policies()
        self.busy, self.retry_at = set(), {}
        self.withheld = self._withheld_in_journal()  # (student, lesson) -> its latest submission, released withheld
        self.gradebook_lock, self.busy_lock = threading.Lock(), threading.Lock()
        self.session, self.unlisted = None, None

    def say(self, line):
        """One line of the hub's log."""
        from autograder.outputs.escape import terminal_text
        print(f"[grading-on-submit] {terminal_text(line)}", file=self.out, flush=True)

    def run(self, stop):
        """Grade what arrives until `stop` (a threading.Event) is set."""
        from autograder.gradebook.nbgrader_cmd import with_venv_on_path
        from autograder.grading.grade import GradingSession
        from autograder.worker.course import lessons
        os.environ["PATH"] = with_venv_on_path()["PATH"]  # nbgrader runs this environment's alembic, as `grade` does
        _import_now()
        with GradingSession(self.options) as session:
            self.session = session
            session.warm(lessons())
            self._register_released()
            self.say(f"watching {self.inbound} (every {POLL_SECONDS:g} s), grading into {self.course}")
            with ThreadPoolExecutor(max_workers=self.options.workers, thread_name_prefix="grading") as pool:
                while not stop.is_set():
                    try:
                        self.poll(pool.submit)
                    except Exception as exc:  # noqa: BLE001 - e.g. a waiting page that cannot be released: said, tried again
                        self.say(f"polling failed ({type(exc).__name__}: {str(exc)[:300]}); going on")
                    stop.wait(POLL_SECONDS)

    def _load_policies(self):
        """The course's `policy` file, read again whenever it changed (the instructor edits it while the hub runs)."""
        try:
            stamp = (self.course / policy.FILE).stat().st_mtime_ns
        except OSError:
            stamp = None
        if stamp == self.policy_stamp:
            return
        self.policies, problems = policy.load(self.course)
        if self.policy_stamp != "unread" or stamp is None:
            self.say(f"read {policy.FILE} again" if stamp else f"no {policy.FILE}: the defaults apply")
        self.policy_stamp = stamp
        for problem in problems:
            self.say(f"configuration: {problem}")

    def _withheld_in_journal(self):
        """The latest submission of each student and lesson whose released page withholds hidden-case details."""
        latest = {}
        for name in list(self.journal.entries):
            entry = self.journal.last(name)
            if entry["step"] == "done" and entry.get("withheld"):
                submission = inbound.parse(self.inbound, name)
                try:
                    submission = inbound.dated(submission)  # a forged name's time is not the latest either
                except OSError:  # its folder is gone: the name's time
                    pass
                if submission.key not in latest or latest[submission.key].timestamp < submission.timestamp:
                    latest[submission.key] = submission
        return latest

    def _release_after_due(self, now):
        """Past a lesson's due date, the whole page of each student's latest submission whose page withheld the
        hidden cases' details: the course's feedback page, as nbgrader's release_feedback would release it."""
        with self.busy_lock:
            due = [(key, s) for key, s in self.withheld.items() if not self.policies(s.lesson).withholds(now)]
        for key, submission in due:
            page = self.feedback / submission.student / submission.lesson / f"{release.NOTEBOOK}.html"
            if self.policies(submission.lesson).feedback != "on_release" and page.is_file():
                self._release(submission, page.read_text(errors="replace"))
                self.say(f"{submission.student} {submission.lesson}: past the due date, the whole feedback page "
                         "is released")
            with self.busy_lock:
                if self.withheld.get(key) is submission:
                    del self.withheld[key]

    def _register_released(self):
        """Register the lessons released into the exchange in the course's gradebook now, so that their first
        submission does not wait for it (nbgrader's generate_assignment, seconds per lesson)."""
        from autograder.gradebook.record import register
        from autograder.worker.course import lessons
        outbound = self.exchange / self.course_id / "outbound"
        released = [lesson for lesson in lessons() if (outbound / lesson).is_dir()]
        try:
            with self.gradebook_lock:
                notes = register(released, self.db_url, root=self.course)
                self._hand_over(self._database_files())
        except Exception as exc:  # noqa: BLE001 - the first submission of each lesson registers it instead
            notes = [f"registering {', '.join(released)} in the gradebook failed ({type(exc).__name__}: {str(exc)[:200]})"]
        for note in notes:
            self.say(note)

    def poll(self, submit):
        """Look at inbound once; `submit(function, *args)` runs the grading of what is due."""
        try:
            names = sorted(os.listdir(self.inbound))
        except OSError as exc:  # e.g. before the instructor's first release makes it: said once
            if self.unlisted != exc.strerror:
                self.say(f"cannot list {self.inbound} ({exc.strerror}); looking again every {POLL_SECONDS:g} s")
            self.unlisted = exc.strerror
            return
        self.unlisted = None
        now, pending = time.time(), {}
        for name in names:
            step = self.journal.step(name)
            if step in FINAL:
                continue
            try:
                submission = inbound.parse(self.inbound, name)
                checked = submission.student not in self.simulated
                if step != "graded":  # graded already: its folder is not read again
                    if not inbound.check(submission, checked, now):
                        continue  # nbgrader is still writing it
                    submission = inbound.dated(submission)
            except inbound.Rejected as exc:
                self.reject(name, str(exc))
                continue
            except OSError as exc:  # gone, or unreadable
                self.reject(name, f"cannot be read ({exc.strerror})")
                continue
            if step == "graded":  # graded, not yet recorded and released: finish it (a restart, a failed gradebook)
                if self.retry_at.get(name, 0) <= now and self._claim(submission.key):
                    submit(self._finish_graded, submission)
                continue
            pending.setdefault(submission.key, []).append(submission)
        self._load_policies()
        self._release_after_due(datetime.now(timezone.utc).replace(tzinfo=None))
        for key, waiting in pending.items():
            if key in self.busy:
                continue
            latest = max(waiting, key=lambda s: (s.timestamp, s.name))
            for earlier in waiting:
                if earlier is not latest:
                    self.journal.add(earlier.name, "superseded", by=latest.name)
                    self.say(f"{earlier.student} {earlier.lesson}: submission {earlier.name} superseded by {latest.name}")
            rule = self.policies(latest.lesson)
            slot = policy.next_slot(self.journal.graded_at(key, now - policy.HOUR), rule.per_hour, now)
            if slot > now:
                self._wait(latest, slot, rule)
            elif self._claim(key):
                submit(self._handle, latest)

    def _claim(self, key):
        with self.busy_lock:
            if key in self.busy:
                return False
            self.busy.add(key)
            return True

    def reject(self, name, reason):
        self.journal.add(name, "rejected", reason=reason)
        self.say(f"skipped inbound folder {name!r}: {reason}")

    def _wait(self, submission, slot, rule):
        """Tell the student when a submission over the limit is graded (once per submission)."""
        if self.journal.step(submission.name) == "waiting":
            return
        when = datetime.fromtimestamp(slot, timezone.utc).replace(tzinfo=None)
        self._release(submission, policy.waiting_page(submission.lesson, submission.student, submission.timestamp,
                                                      when, rule.per_hour))
        self.journal.add(submission.name, "waiting", until=slot)  # once released: a failed release is tried again
        self.say(f"{submission.student} {submission.lesson}: over {rule.per_hour} graded submissions an hour; "
                 f"{submission.name} is graded at {when:%H:%M:%S} UTC")

    def _handle(self, submission):
        """Collect, grade and finish one submission (in a thread of the pool)."""
        from autograder.grading.results import to_plain
        try:
            try:
                folder, skipped = inbound.collect(submission, self.submitted, self.owner)
            except inbound.Rejected as exc:
                self.reject(submission.name, str(exc))
                return
            except OSError as exc:
                self.reject(submission.name, f"could not be collected ({exc.strerror}: {exc.filename})")
                return
            if folder is None:
                self.journal.add(submission.name, "superseded", by="a later submission already collected")
                return
            self.journal.add(submission.name, "collected")
            result = self.session.grade(submission.student, submission.lesson, folder)
            result.problems += skipped
            if note := inbound.dating_note(submission):
                result.problems.append(note)
                self.say(f"{submission.student} {submission.lesson}: {note}")
            self.journal.add(submission.name, "graded", student=submission.student, lesson=submission.lesson,
                             result=to_plain(result))
            self._finish(submission, result)
        finally:
            with self.busy_lock:
                self.busy.discard(submission.key)

    def _finish_graded(self, submission):
        """Finish a submission the journal says was graded (its result is there): nothing is graded again."""
        from autograder.grading.results import from_plain
        try:
            self._finish(submission, from_plain(self.journal.entry(submission.name, "graded")["result"]))
        finally:
            with self.busy_lock:
                self.busy.discard(submission.key)

    def _finish(self, submission, result):
        """Record, write nbgrader's files and release; on failure the submission stays graded, tried again later."""
        try:
            with self.gradebook_lock:
                shown, score = self._record_and_write(result)
            rule = self.policies(submission.lesson)
            now, withheld = datetime.now(timezone.utc).replace(tzinfo=None), False
            if rule.feedback == "on_release":
                released = "kept for the instructor's release"
            else:
                withheld = rule.withholds(now)
                page = policy.withheld_page(shown, rule) if withheld else _full_page(shown)
                released = "released (hidden-case details withheld)" if withheld else "released"
                if not self._release(submission, page):
                    released = "not released (the submission has no readable submission_secret.txt)"
        except Exception as exc:  # noqa: BLE001 - one submission's gradebook or release failing stops no other
            self.retry_at[submission.name] = time.time() + RETRY_SECONDS
            self.say(f"{submission.student} {submission.lesson}: graded, but recording or releasing failed "
                     f"({type(exc).__name__}: {str(exc)[:300]}); trying again in {RETRY_SECONDS:g} s")
            traceback.print_exc(file=self.out)
            return
        seconds = time.time() - _arrived(submission)
        self.journal.add(submission.name, "done", score=score, seconds=seconds, withheld=withheld)
        with self.busy_lock:
            if withheld:
                self.withheld[submission.key] = submission
            else:
                self.withheld.pop(submission.key, None)
        self.say(f"{submission.student} {submission.lesson}: {score}; feedback {released}; "
                 f"{seconds:.2f} s from the exchange")

    def _record_and_write(self, result):
        """The gradebook step and nbgrader's files of one result, as `grade` does them; returns (the published
        result, its score in words)."""
        from autograder.gradebook import nbgrader_files, published
        from autograder.gradebook.process import cell_order, record_and_read
        reply = record_and_read([result], self.db_url, self.course)
        self._hand_over(self._database_files())
        if "error" in reply:
            raise RuntimeError(reply["error"])
        shown = published.apply([result], reply["published"], cell_order)
        if not shown:
            raise RuntimeError(f"the gradebook did not record lesson {result.lesson}: " + "; ".join(reply["notes"]))
        notes = nbgrader_files.write(shown, self.submitted, self.autograded, self.feedback)
        for note in reply["notes"] + notes:
            self.say(note)
        self._hand_over([self.autograded, self.feedback], [result.student])
        graded = shown[0]
        problems = graded.problems + graded.incidents
        if graded.items and all(i.message.startswith("not graded") for i in graded.items):
            return graded, f"not graded ({(problems or ['no reason given'])[-1][:200]})"
        return graded, f"{graded.score:g} / {graded.max_score:g} points"

    def _database_files(self):
        prefix = "sqlite:///"
        return [Path(self.db_url[len(prefix):])] if self.db_url.startswith(prefix) else []

    def _hand_over(self, paths, students=()):
        """Make `paths`, and everything under their folders of `students`, the instructor's (what root made
        there), so that Formgrader and nbgrader, run by the instructor, can write them."""
        for path in paths:
            if path.exists() and os.lstat(path).st_uid != self.owner[0]:
                os.lchown(path, *self.owner)
        for top in (path / student for path in paths for student in students):
            for folder, dirs, files in os.walk(top):
                for entry in [folder, *(os.path.join(folder, n) for n in dirs + files)]:
                    if os.lstat(entry).st_uid != self.owner[0]:
                        os.lchown(entry, *self.owner)

    def _release(self, submission, page):
        """Release `page` as the feedback of `submission` (False when it has no secret to name it by)."""
        secret = inbound.secret(submission.path)
        if not secret:
            return False
        release.release(release.feedback_folder(self.exchange, self.course_id, self.owner), secret, page, self.owner)
        return True


def _full_page(result):
    from autograder.outputs import report
    return report.feedback_page(result)


def _arrived(submission):
    """When the exchange held the submission whole: nbgrader's last step makes its folder 0777 (its ctime)."""
    try:
        return os.lstat(submission.path).st_ctime
    except OSError:
        return time.time()


def _import_now():
    """Import what the service writes with before any grading thread runs: matplotlib parses Python as
    it is imported, which must not overlap a grading thread's `cells.parse` (see cells.PARSING)."""
    from autograder.gradebook import nbgrader_files, process, published, record  # noqa: F401
    from autograder.outputs import report  # noqa: F401
