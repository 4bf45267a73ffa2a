"""Private: from submissions to results (plan, run, judge, keep, fingerprint)."""
