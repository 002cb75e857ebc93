"""The app code a user writes with the library's env (run by tests/test_client_matrix.py).

Exactly what the README tells users: ``redis.from_url(REDIS_URL, password=REDIS_PASSWORD)``,
every other setting at the client's default. Prints one JSON line.
"""

import json
import os
import sys
import time

import redis

key = sys.argv[1]
out: dict[str, object] = {"version": redis.__version__}
try:
    r = redis.from_url(
        os.environ["REDIS_URL"], password=os.environ.get("REDIS_PASSWORD"), decode_responses=True
    )
    r.set(key, "v1")
    deadline = time.monotonic() + 5
    while (value := r.get(key)) is None and time.monotonic() < deadline:
        time.sleep(0.02)  # a read from a replica can trail the write
    out.update(get=value, incr=r.incr(f"{key}:n"), result="ok")
except Exception as err:  # reported, not raised: the matrix shows every outcome
    out["result"] = f"{type(err).__name__}: {err}"
print(json.dumps(out))
