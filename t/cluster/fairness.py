#!/usr/bin/python3
# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
"""t/cluster/fairness.py: the "fairness" case of t/cluster/nodes_test.sh.

  fairness.py PORT ETCD_URL PREFIX THREADS SECONDS [SLOW_MS]

On the node at 127.0.0.1:PORT, workspace wsFA floods: THREADS clients
(keep-alive connections), each PATCHing the sender name of its own row
(fa<i>.example) as fast as the answers come, for SECONDS; meanwhile
workspace wsFB makes 20 PATCHes of its row fb.example, one every 150 ms,
starting 0.5 s into the flood.  The rows are added first.  Then every
wsFA row must show, in etcd's range read, the last sender name its client
had acknowledged (nothing acknowledged is lost), within 15 s.

Prints one line:
  b=<p50>/<p99>/<max> ms slow=<wsFB's PATCHes over SLOW_MS (100)>
  b_ok=<2xx of 20> a=<writes acknowledged>
  a_p50=<ms> a_codes=<code:count,...> lost=<rows whose last write is not
  in etcd>
exit 0 when it could run (the shell judges the figures), 1 when not.
"""

import base64
import http.client
import json
import sys
import threading
import time
import urllib.request

HDRS = {"X-WS": "", "X-Role": "admin", "X-Plan": "professional",
        "Content-Type": "application/json"}


def call(conn, method, path, ws, body=None):
    h = dict(HDRS)
    h["X-WS"] = ws
    conn.request(method, "/api" + path,
                 body=json.dumps(body) if body is not None else None,
                 headers=h)
    r = conn.getresponse()
    r.read()
    return r.status


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return -1.0
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def etcd_name(url, prefix, ws, ident):
    key = (prefix + "rows/" + ws + "/" + ident).encode()
    body = json.dumps({"key": base64.b64encode(key).decode()}).encode()
    req = urllib.request.Request(url + "/v3/kv/range", data=body,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        kvs = json.load(r).get("kvs", [])
    if not kvs:
        return None
    return json.loads(base64.b64decode(kvs[0].get("value", ""))).get(
        "sender_name")


def main(argv):
    port, etcd, prefix = int(argv[1]), argv[2], argv[3]
    threads, seconds = int(argv[4]), float(argv[5])
    slow_ms = float(argv[6]) if len(argv) > 6 else 100.0

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    rows = ["fa%d.example" % i for i in range(threads)]
    for ws, ident in [("wsFB", "fb.example")] + [("wsFA", r) for r in rows]:
        st = call(conn, "POST", "/", ws, {"identity": ident})
        if st not in (201, 409):
            print("setup: adding %s of %s answered %d" % (ident, ws, st))
            return 1
    conn.close()

    stop = time.monotonic() + seconds
    last = [None] * threads
    a_lat, codes = [], {}
    lock = threading.Lock()

    def flood(i):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        n = 0
        while time.monotonic() < stop:
            n += 1
            name = "A%d %d" % (i, n)
            t0 = time.monotonic()
            try:
                st = call(c, "PATCH", "/" + rows[i], "wsFA",
                          {"sender_name": name})
            except (OSError, http.client.HTTPException):
                c.close()
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                st = 0
            ms = (time.monotonic() - t0) * 1000
            with lock:
                codes[st] = codes.get(st, 0) + 1
                if 200 <= st < 300:
                    a_lat.append(ms)
                    last[i] = name
        c.close()

    ts = [threading.Thread(target=flood, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()

    time.sleep(0.5)
    b_lat, b_ok = [], 0
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for k in range(20):
        t0 = time.monotonic()
        st = call(c, "PATCH", "/fb.example", "wsFB",
                  {"sender_name": "B %d" % k})
        b_lat.append((time.monotonic() - t0) * 1000)
        b_ok += 200 <= st < 300
        time.sleep(max(0.0, 0.15 - (time.monotonic() - t0)))
    c.close()

    for t in ts:
        t.join()

    # every acknowledged last write of wsFA is in etcd
    lost = [i for i in range(threads) if last[i] is not None]
    deadline = time.monotonic() + 15
    while lost and time.monotonic() < deadline:
        lost = [i for i in lost
                if etcd_name(etcd, prefix, "wsFA", rows[i]) != last[i]]
        if lost:
            time.sleep(0.2)

    print("b=%.1f/%.1f/%.1f ms slow=%d b_ok=%d a=%d a_p50=%.1f a_codes=%s "
          "lost=%d"
          % (pct(b_lat, 50), pct(b_lat, 99), max(b_lat),
             sum(1 for x in b_lat if x > slow_ms), b_ok, len(a_lat),
             pct(a_lat, 50),
             ",".join("%s:%d" % kv for kv in sorted(codes.items())),
             len(lost) + sum(1 for x in last if x is None)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
