#!/usr/bin/python3
# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
"""t/bench/cluster_prop.py: propagation and write latency (t/bench/cluster.sh).

  cluster_prop.py PORT_A PORT_B WORKSPACE DOMAIN N

N times: PATCH the sender name of DOMAIN on node A (a write through etcd),
then GET /resolve of reports@DOMAIN on node B every ~1 ms until its From
header carries the new name.  Keep-alive connections, one client process,
so what is measured is the nodes, not process starts.  Prints one line of
key=value figures in milliseconds:

  writes=N ok=N timeouts=N write_p50= write_p99= write_max=
  prop_p50= prop_p99= prop_max=

propagation: from A's answer to the PATCH to the first resolve on B that
shows it; write: the PATCH's round trip on A.  A write not seen on B within
TIMEOUT_S (5 s) counts as a timeout (and as 5000 ms in the percentiles); when none of the first 5 is seen, B
never sees A's writes: exit 1 (nothing to measure).
"""

import http.client
import json
import sys
import time
import urllib.parse

TIMEOUT_S = 5.0


def pct(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def main(argv):
    port_a, port_b, ws, dom, n = argv[1], argv[2], argv[3], argv[4], int(argv[5])
    a = http.client.HTTPConnection("127.0.0.1", int(port_a), timeout=10)
    b = http.client.HTTPConnection("127.0.0.1", int(port_b), timeout=10)
    hdr = {"X-WS": ws, "X-Role": "admin", "X-Plan": "professional",
           "Content-Type": "application/json"}
    rhdr = {"X-WS": ws, "X-Role": "service", "X-Plan": "professional"}
    rpath = "/api/resolve?" + urllib.parse.urlencode({"from": "reports@" + dom})
    writes, props, timeouts = [], [], 0
    run = "%x" % (int(time.time()) & 0xffff)

    for i in range(n):
        name = "Bench %s %d" % (run, i)
        t0 = time.monotonic()
        a.request("PATCH", "/api/" + dom, json.dumps({"sender_name": name}), hdr)
        r = a.getresponse()
        body = r.read()
        t1 = time.monotonic()
        if r.status != 200:
            sys.stderr.write("PATCH %d on A: %d %s\n" % (i, r.status, body[:200]))
            return 1
        writes.append((t1 - t0) * 1000)
        while True:
            b.request("GET", rpath, headers=rhdr)
            rr = b.getresponse()
            j = json.loads(rr.read() or b"{}")
            shown = (j.get("from") or "").split(" <")[0].strip('"')
            now = time.monotonic()
            if shown == name:
                props.append((now - t1) * 1000)
                break
            if now - t1 > TIMEOUT_S:
                timeouts += 1
                props.append(TIMEOUT_S * 1000)
                break
            time.sleep(0.001)
        if i == 4 and timeouts == 5:
            sys.stderr.write("B showed none of A's first 5 writes within %.0f s each "
                             "(B: %s)\n" % (TIMEOUT_S, j))
            return 1

    print("writes=%d seen=%d timeouts=%d write_p50=%.1f write_p99=%.1f write_max=%.1f "
          "prop_p50=%.1f prop_p99=%.1f prop_max=%.1f"
          % (n, len(props) - timeouts, timeouts, pct(writes, 50), pct(writes, 99), max(writes),
             pct(props, 50), pct(props, 99), max(props)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
