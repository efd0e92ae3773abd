"""Failed-login throttle: after too many wrong passwords for one user name (or from one address)
in a window, logins are refused with 429 until the window has passed.

In memory, per process (the workbench is one process); a restart forgets it, which is acceptable:
argon2 already makes each guess cost a fraction of a second.
"""

from __future__ import annotations

import threading
import time
from collections import deque


class LoginThrottle:
    """Count failures per key (``user:<name>``, ``ip:<address>``) in a sliding window.

    An address may fail ``IP_FACTOR`` times as often as one user name (offices share addresses).
    """

    IP_FACTOR = 5

    def __init__(self, max_failures: int = 10, window_s: float = 900.0) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._fails: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _live(self, key: str, now: float) -> deque[float]:
        q = self._fails.setdefault(key, deque())
        while q and now - q[0] > self.window_s:
            q.popleft()
        return q

    def blocked_for(self, *keys: str) -> float:
        """Seconds until a login for these keys is allowed again (0 when allowed now)."""
        now = time.monotonic()
        wait = 0.0
        with self._lock:
            for k in keys:
                q = self._live(k, now)
                limit = self.max_failures * (self.IP_FACTOR if k.startswith("ip:") else 1)
                if len(q) >= limit:
                    wait = max(wait, self.window_s - (now - q[0]))
        return wait

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for k in keys:
                self._live(k, now).append(now)
            if len(self._fails) > 100_000:  # bound memory under a spray of names
                for k in [k for k, q in self._fails.items() if not q][:50_000]:
                    del self._fails[k]

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._fails.pop(k, None)
