"""Grading on submit: the hub's service that grades each submission nbgrader's exchange receives and
releases its feedback (`service`), reading the exchange without trusting it (`inbound`), keeping a
journal of its progress (`journal`), as the course's ``grading_on_submit.toml`` says (`policy`), and
releasing into the exchange as nbgrader does (`release`)."""
