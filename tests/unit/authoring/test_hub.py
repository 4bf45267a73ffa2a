"""The hub's per-mode configuration (`autograder/authoring/hub.py`), without a hub: a student on the hub
gets the course's student mode with the Assignment List back and nothing else; both modes reach the exchange."""
import json

import pytest

from autograder.authoring import hub
from autograder.student.lab import STUDENT_CONFIG


def loaded(folder):
    page = json.loads((folder / "labconfig" / "page_config.json").read_text())["disabledExtensions"]
    server = json.loads(next((folder / "jupyter_server_config.d").glob("*.json")).read_text())
    return page, server["ServerApp"]["jpserver_extensions"]


def test_a_hub_student_gets_student_mode_with_the_assignment_list_only(tmp_path):
    page, extensions = loaded(hub.student_config(tmp_path / "student", tmp_path / "exchange"))
    plain_page, plain_extensions = loaded(STUDENT_CONFIG)
    plugins, extension = hub.ASSIGNMENT_LIST
    assert set(plain_page) - set(page) == set(plugins) and set(page) < set(plain_page)
    assert "@jupyter/nbgrader:formgrader" in page and "@jupyter/nbgrader:create-assignment" in page
    assert extensions == {**plain_extensions, extension: True}
    assert extensions["nbgrader.server_extensions.formgrader"] is False


def test_both_modes_reach_the_exchange_of_the_course(tmp_path):
    from traitlets.config.loader import PyFileConfigLoader
    for folder in (hub.student_config(tmp_path / "s", tmp_path / "exchange"),
                   hub.instructor_config(tmp_path / "i", tmp_path / "exchange")):
        config = PyFileConfigLoader("nbgrader_config.py", path=str(folder)).load_config()
        assert config.Exchange.root == str(tmp_path / "exchange")
        assert config.CourseDirectory.course_id == hub.course_id() == "training-deep-networks"


def test_make_hub_without_root_says_why_and_changes_nothing(monkeypatch, capsys):
    monkeypatch.setattr(hub.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(hub, "create_users", lambda names: pytest.fail("created users without root"))
    assert hub.main(port=1) == 2
    assert "must run as root" in capsys.readouterr().err


def test_a_course_out_of_the_users_reach_is_a_reason_not_to_run(tmp_path, monkeypatch):
    """A clone in a 0700 folder (mktemp -d): the users' servers could not run its environment, so
    the hub (and its test) says so instead of failing user by user."""
    course = tmp_path / "closed" / "course"
    course.mkdir(parents=True)
    (tmp_path / "closed").chmod(0o700)
    monkeypatch.setattr(hub, "ROOT", course)
    assert any(f"the course folder {course} is out of other users' reach" in r for r in hub.missing())
    monkeypatch.setattr(hub, "ROOT", hub.Path("/"))  # reachable by everyone
    assert not any("out of other users' reach" in r for r in hub.missing())


def test_only_the_instructors_server_may_be_framed_by_its_own_origin(tmp_path):
    """Formgrader's JupyterLab panel frames the server's own pages, which JupyterHub's single-user default
    (frame-ancestors 'none') forbids; a student's server keeps that default."""
    from traitlets.config.loader import JSONFileConfigLoader
    instructor = hub.instructor_config(tmp_path / "i", tmp_path / "exchange")
    config = JSONFileConfigLoader("jupyter_server_config.json", path=str(instructor)).load_config()
    assert config.ServerApp.tornado_settings["headers"]["Content-Security-Policy"] == "frame-ancestors 'self'"
    student = hub.student_config(tmp_path / "s", tmp_path / "exchange")
    assert "Content-Security-Policy" not in "".join(p.read_text() for p in student.rglob("*.json"))
