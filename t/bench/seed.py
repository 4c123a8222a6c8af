#!/usr/bin/python3
# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
"""Fast seeder for the benchmarks: drives the module's public API only.

    seed.py add   --port P --ws NAME [--workspaces W] --prefix p --count N
                  [--start S] [--threads T]
    seed.py patch --port P --ws NAME [--workspaces W] --prefix p --count N
                  [--start S] [--threads T]

"add" POSTs {"identity": "<prefix><i>.com"} for i in [S, S+N) (each add makes
the module call CreateEmailIdentity and PutEmailIdentityMailFromAttributes
on the simulator); "patch" PATCHes the sender name of those rows (a store
write with no SES call).  Identity i belongs to workspace NAME when W is 1,
else NAME-<i mod W>.  T threads each keep one HTTP/1.1 keep-alive
connection.  A row that is already there (409 already_exists) counts as
done, so a run can be resumed.

Prints one line: "SEED op=add ok=N exists=N failed=N seconds=S rate=R/s
p50_ms=.. p99_ms=.." and exits 1 if any request failed.
"""

import argparse
import http.client
import json
import sys
import threading
import time


def ws_of(args, i):
    if args.workspaces <= 1:
        return args.ws
    return "%s-%d" % (args.ws, i % args.workspaces)


def name_of(args, i):
    return "%s%07d.com" % (args.prefix, i)


def worker(args, next_index, lock, stats):
    conn = None
    lat = []
    ok = exists = failed = 0
    errors = {}

    while True:
        with lock:
            i = next_index[0]
            if i >= args.start + args.count:
                break
            next_index[0] = i + 1

        ident = name_of(args, i)
        headers = {"X-WS": ws_of(args, i), "X-Role": "admin",
                   "X-Plan": "professional",
                   "Content-Type": "application/json"}
        if args.op == "add":
            method, path = "POST", args.path
            body = json.dumps({"identity": ident})
        else:
            method, path = "PATCH", args.path + ident
            body = json.dumps({"sender_name": "Reports %d" % (i % 1000)})

        for attempt in range(3):
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", args.port,
                                                      timeout=60)
                t0 = time.monotonic()
                conn.request(method, path, body, headers)
                resp = conn.getresponse()
                data = resp.read()
                lat.append(time.monotonic() - t0)
                status = resp.status
                if resp.getheader("connection", "").lower() == "close":
                    conn.close()
                    conn = None
                break
            except (OSError, http.client.HTTPException):
                if conn is not None:
                    conn.close()
                conn = None
                status, data = 0, b""
                time.sleep(0.1)

        if status in (200, 201):
            ok += 1
        elif status == 409 and b"already_exists" in data:
            exists += 1
        else:
            failed += 1
            key = "%s %s" % (status, data[:120].decode("utf-8", "replace"))
            errors[key] = errors.get(key, 0) + 1

    if conn is not None:
        conn.close()

    with lock:
        stats["ok"] += ok
        stats["exists"] += exists
        stats["failed"] += failed
        stats["lat"].extend(lat)
        for k, v in errors.items():
            stats["errors"][k] = stats["errors"].get(k, 0) + v


def pct(sorted_vals, p):
    if not sorted_vals:
        return 0.0
    k = min(len(sorted_vals) - 1, int(round(p / 100.0 * (len(sorted_vals) - 1))))
    return sorted_vals[k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("op", choices=["add", "patch"])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", default="/api/")
    ap.add_argument("--ws", required=True)
    ap.add_argument("--workspaces", type=int, default=1)
    ap.add_argument("--prefix", required=True)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--threads", type=int, default=8)
    args = ap.parse_args()

    lock = threading.Lock()
    next_index = [args.start]
    stats = {"ok": 0, "exists": 0, "failed": 0, "lat": [], "errors": {}}

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker,
                                args=(args, next_index, lock, stats))
               for _ in range(max(1, min(args.threads, args.count)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    secs = time.monotonic() - t0

    lat = sorted(stats["lat"])
    done = stats["ok"] + stats["exists"]
    print("SEED op=%s ok=%d exists=%d failed=%d seconds=%.1f rate=%.0f/s "
          "p50_ms=%.1f p99_ms=%.1f"
          % (args.op, stats["ok"], stats["exists"], stats["failed"], secs,
             done / secs if secs > 0 else 0, pct(lat, 50) * 1000,
             pct(lat, 99) * 1000))
    for k, v in sorted(stats["errors"].items(), key=lambda kv: -kv[1])[:5]:
        print("SEED error x%d: %s" % (v, k), file=sys.stderr)
    sys.stdout.flush()
    return 1 if stats["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
