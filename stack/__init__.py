"""How the system's processes are found, trained, started and stopped (used by `make run` and the tests)."""
