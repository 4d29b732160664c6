"""Starts N device authorizations (form POSTs over a few keep-alive connections) and
writes the device codes, one per line, to OUT. For bench/emulator.sh.

usage: mint_codes.py BASE_URL PATH CLIENT_ID N OUT
"""

import http.client
import json
import sys
import threading
import urllib.parse

base, path, client_id, n, out = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
url = urllib.parse.urlsplit(base)
body = urllib.parse.urlencode({"client_id": client_id})
headers = {"Content-Type": "application/x-www-form-urlencoded"}
WORKERS = 4
codes = [[] for _ in range(WORKERS)]


def work(slot: int, count: int) -> None:
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    for _ in range(count):
        conn.request("POST", path, body, headers)
        response = conn.getresponse()
        data = response.read()
        if response.status != 200:
            sys.exit(f"mint_codes: {path} answered {response.status}: {data[:200]!r}")
        codes[slot].append(json.loads(data)["device_code"])
    conn.close()


threads = [
    threading.Thread(target=work, args=(i, n // WORKERS + (1 if i < n % WORKERS else 0)))
    for i in range(WORKERS)
]
for t in threads:
    t.start()
for t in threads:
    t.join()
with open(out, "w") as f:
    for slot in codes:
        for code in slot:
            f.write(code + "\n")
total = sum(len(s) for s in codes)
if total != n:
    sys.exit(f"mint_codes: made {total} of {n} codes")
