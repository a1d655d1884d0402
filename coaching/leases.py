"""How long a process holds what it took (a kept request, a message it is sending), one rule for both.

A process renews its leases every HEARTBEAT while it lives; one that stops (killed, hung) loses
them LEASE later, measured on the database's clock, and another process takes the work over.
Short, so a restart on PostgreSQL (several processes) waits seconds, not minutes; on SQLite the
one new process frees them at once at start-up.
"""

from datetime import timedelta

LEASE = timedelta(seconds=6)
HEARTBEAT = timedelta(seconds=2)
