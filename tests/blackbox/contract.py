"""contract.py: constants of echod's behaviour contract that tests check.

Owns: the version string, default greeting and reply prefix, and the exit
statuses. A change to any of them is a change of the contract, not of a
test.
"""
VERSION = "0.1.0"
GREETING = b"Welcome to the server. Type something and hit enter\n"
PREFIX = b"OK..."

EXIT_OK = 0
EXIT_USAGE = 64
EXIT_OSERR = 71
EXIT_CANTCREAT = 73
EXIT_RUNNING = 75
EXIT_CONFIG = 78
