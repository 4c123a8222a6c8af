#!/usr/bin/python3
# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
"""Sends one GET after another on one keep-alive connection.

    /usr/bin/python3 t/bench/keepalive.py --port P --path /api/resolve?... \
        --count N [-H "X-WS: bench" ...]

For t/bench/run.sh's instructions benchmark: a steady stream of identical
requests to an nginx running under callgrind, where wrk's load would only
time out.  Exits 1 (and says why) on the first answer that is not 200.
"""

import argparse
import http.client
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("-H", dest="headers", action="append", default=[])
    args = ap.parse_args()

    headers = {}
    for h in args.headers:
        name, _, value = h.partition(":")
        headers[name.strip()] = value.strip()

    conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=60)
    for i in range(args.count):
        conn.request("GET", args.path, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            print("request %d of %s: %d %r" % (i + 1, args.path, resp.status,
                                               body[:200]), file=sys.stderr)
            return 1
    conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
