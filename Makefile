# Training deep networks well: a graded notebook course.
# The flow: solutions/ (masters) -> notebooks/ (release) -> submissions -> grades.
# `make help` lists the targets.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
PY := $(VENV)/bin/python
SUBMISSIONS ?= build/sample_class
OUT ?= build/grades
# FORCE=1 lets release and bundle replace notebooks that hold a student's work
FORCE_FLAG := $(if $(filter 1,$(FORCE)),--force,)

.DEFAULT_GOAL := help
.PHONY: help venv demo release sample-class grade figures work lab bundle gradescope selfcheck test bench lock clean distclean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11) and "Python 3.11 is required (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c requirements.lock -e . 2>&1 | grep -v "is ignored" || true
	$(PY) -m pip show nbgrader >/dev/null
	@# rfc3987-syntax costs ~3 s on every nbformat import and nothing here needs it
	$(PY) -m pip uninstall --quiet -y rfc3987-syntax
	touch $@

venv: $(VENV)/.installed ## create .venv with the pinned dependencies (done on demand by every target)

demo: $(VENV)/.installed release sample-class ## set up, release the notebooks, grade the sample class, print the grade table
	@# exit status 3 = graded, and some submissions had problems (the sample class has broken ones on purpose)
	$(PY) -m autograder grade $(SUBMISSIONS) --out $(OUT) || [ $$? -eq 3 ]

release: $(VENV)/.installed ## solutions/ -> notebooks/ (nbgrader generate_assignment); refuses to replace a notebook holding answers (FORCE=1 discards them)
	$(PY) -m autograder release $(FORCE_FLAG)

sample-class: $(VENV)/.installed ## build the sample class (correct, mistaken, broken submissions) in build/sample_class
	$(PY) -m tests.sample_class $(SUBMISSIONS)

grade: $(VENV)/.installed ## grade a class: make grade SUBMISSIONS=dir/<student>/<lesson>/lesson.ipynb [OUT=build/grades]
	$(PY) -m autograder grade $(SUBMISSIONS) --out $(OUT)

figures: $(VENV)/.installed ## redraw every figure the lessons show into figures/
	$(PY) -m lessonkit.figures

work: $(VENV)/.installed ## work/: your copies of notebooks/, made once (a copy holding answers is never replaced)
	$(PY) -m autograder workspace

lab: work ## JupyterLab on your notebooks in work/ (nbgrader's Validate button included)
	$(VENV)/bin/jupyter lab --no-browser --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/work $(if $(filter 0,$(shell id -u)),--allow-root,)

selfcheck: $(VENV)/.installed ## check a notebook before submitting: make selfcheck NB=work/02_batch_norm/lesson.ipynb
	$(PY) -m autograder.selfcheck $(NB)

bundle: $(VENV)/.installed ## what students receive (lessons, figures, shared code, visible checks) in build/student-bundle; refuses to replace one a student worked in
	$(PY) -m autograder bundle $(FORCE_FLAG)

gradescope: $(VENV)/.installed ## Gradescope's autograder zip in build/gradescope/autograder.zip [LESSON=02_batch_norm: one lesson per assignment]
	$(PY) -m autograder gradescope $(if $(LESSON),--lesson $(LESSON),)

# The PostgreSQL server the gradebook tests start (Debian's package postgresql): installed
# when missing and we are root; otherwise those tests skip, saying why.
$(VENV)/.postgresql: | $(VENV)/.installed
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then touch $@; \
	elif [ "$$(id -u)" = 0 ]; then export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq postgresql >/dev/null && touch $@; \
	else echo "PostgreSQL is not installed and installing it needs root: its tests will be skipped"; fi

test: $(VENV)/.installed $(VENV)/.postgresql ## everything CI proves
	$(PY) -m pytest -q

bench: $(VENV)/.installed ## time the master notebooks and grading (ours vs plain nbgrader autograde)
	$(PY) -m tests.bench

lock: ## re-resolve requirements.lock from pyproject.toml in a fresh environment
	rm -rf build/lockenv && $(PYTHON) -m venv build/lockenv
	build/lockenv/bin/pip install --quiet -e . && build/lockenv/bin/pip uninstall --quiet -y rfc3987-syntax
	build/lockenv/bin/pip freeze --exclude-editable | grep -v '^-e' > requirements.lock

clean: ## remove build/ (grades, sample class, gradebook, bundle; not a bundle a student worked in, unless FORCE=1)
	@if [ -x $(PY) ] && [ -d build/student-bundle ] && [ -z "$(FORCE_FLAG)" ]; then $(PY) -m autograder guard build/student-bundle --target 'make clean'; fi
	rm -rf build

distclean: clean ## also remove .venv
	rm -rf $(VENV)
