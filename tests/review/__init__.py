"""Fresh-eyes review findings, each pinned by a strict xfail until it is fixed."""
