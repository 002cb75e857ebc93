"""The app code a user writes with the library's env (run by tests/test_client_matrix.py).

``app.py <key> defaults``: exactly what the README tells users,
``redis.from_url(REDIS_URL, password=REDIS_PASSWORD)``, every other setting at the client's default.
``app.py <key> protocol``: the one setting, ``protocol=int(REDIS_PROTOCOL)`` (redis-py >= 5).
Prints one JSON line.
"""

import json
import os
import sys
import time

import redis

key, setting = sys.argv[1], sys.argv[2]
out: dict[str, object] = {"version": redis.__version__}
try:
    options: dict[str, object] = {"password": os.environ.get("REDIS_PASSWORD"), "decode_responses": True}
    if setting == "protocol":
        options["protocol"] = int(os.environ["REDIS_PROTOCOL"])
    r = redis.from_url(os.environ["REDIS_URL"], **options)
    r.set(key, "v1")
    deadline = time.monotonic() + 5
    while (value := r.get(key)) is None and time.monotonic() < deadline:
        time.sleep(0.02)  # a read from a replica can trail the write
    out.update(get=value, incr=r.incr(f"{key}:n"), result="ok")
except Exception as err:  # reported, not raised: the matrix shows every outcome
    out["result"] = f"{type(err).__name__}: {err}"
print(json.dumps(out))
