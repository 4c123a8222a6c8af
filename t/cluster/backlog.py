#!/usr/bin/python3
# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
"""t/cluster/backlog.py: the "backlog" case of t/cluster/nodes_test.sh.

  backlog.py PORT THREADS SECONDS

On the node at 127.0.0.1:PORT, workspace wsK floods writes that nobody
waits for: THREADS clients each send PATCH /kb.example and close the
connection at once, for SECONDS.  Meanwhile a wsK client that reads its
answers PATCHes every 100 ms, workspace wsL (another tenant) PATCHes its
own row every 100 ms, and the node's /metrics is read every 50 ms for
sender_domains_cluster_outbox_entries.

Prints one line:
  max_outbox=<most entries seen> k_codes=<code:count,...>
  l_codes=<code:count,...>
exit 0 when it could run (the shell judges the figures), 1 when not.
"""

import http.client
import json
import socket
import sys
import threading
import time

PORT, THREADS, SECS = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])


def request(ws, method, path, body=None):
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=15)
    c.request(method, "/api" + path,
              body=json.dumps(body) if body is not None else None,
              headers={"X-WS": ws, "X-Role": "admin",
                       "X-Plan": "professional",
                       "Content-Type": "application/json"})
    r = c.getresponse()
    r.read()
    c.close()
    return r.status


def dropper(stop, i):
    body = json.dumps({"sender_name": "Drop %d" % i}).encode()
    req = (b"PATCH /api/kb.example HTTP/1.1\r\nHost: x\r\nX-WS: wsK\r\n"
           b"X-Role: admin\r\nX-Plan: professional\r\n"
           b"Content-Type: application/json\r\nContent-Length: "
           + str(len(body)).encode() + b"\r\n\r\n" + body)
    while not stop.is_set():
        try:
            s = socket.create_connection(("127.0.0.1", PORT), timeout=2)
            s.sendall(req)
            s.close()
        except OSError:
            time.sleep(0.01)


def paced(stop, ws, path, codes):
    n = 0
    while not stop.is_set():
        n += 1
        try:
            st = request(ws, "PATCH", path, {"sender_name": "Paced %d" % n})
        except OSError:
            st = 0
        codes[st] = codes.get(st, 0) + 1
        time.sleep(0.1)


def watch(stop, seen):
    while not stop.is_set():
        try:
            c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=5)
            c.request("GET", "/metrics")
            for line in c.getresponse().read().decode().splitlines():
                if line.startswith("sender_domains_cluster_outbox_entries "):
                    seen.append(int(line.split()[1]))
            c.close()
        except OSError:
            pass
        time.sleep(0.05)


def fmt(codes):
    return ",".join("%d:%d" % kv for kv in sorted(codes.items()))


def main():
    for ws, ident in (("wsK", "kb.example"), ("wsL", "lb.example")):
        if request(ws, "POST", "/", {"identity": ident}) not in (200, 201):
            print("could not add %s for %s" % (ident, ws))
            return 1

    stop = threading.Event()
    k_codes, l_codes, seen = {}, {}, []
    threads = [threading.Thread(target=dropper, args=(stop, i))
               for i in range(THREADS)]
    threads += [threading.Thread(target=paced,
                                 args=(stop, "wsK", "/kb.example", k_codes)),
                threading.Thread(target=paced,
                                 args=(stop, "wsL", "/lb.example", l_codes)),
                threading.Thread(target=watch, args=(stop, seen))]
    for t in threads:
        t.start()
    time.sleep(SECS)
    stop.set()
    for t in threads:
        t.join()

    print("max_outbox=%d k_codes=%s l_codes=%s"
          % (max(seen) if seen else -1, fmt(k_codes), fmt(l_codes)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
