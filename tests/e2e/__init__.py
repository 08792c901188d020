"""End-to-end: the generated CI files run on this machine by real executors (gitlab-ci-local, act)."""
