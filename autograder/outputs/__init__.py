"""Private: what a grading run writes (tables, pages, figures), from results only."""
