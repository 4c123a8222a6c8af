#!/usr/bin/python3
# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
"""Worker CPU per GET / (the card list), measured from /proc.

    /usr/bin/python3 t/bench/list_cpu.py [--module SO] [--nginx BIN]
                                         [--rows 10,1000] [--seconds 3]

Starts the SES simulator and nginx (one worker, t/bench/nginx.conf.in) in a
fresh folder under /tmp, seeds one workspace per size through the public
API (t/bench/seed.py), then, for each size, sends GET / one request after
another on one keep-alive connection for about --seconds, and divides the
worker's CPU time (utime + stime from /proc/PID/stat) by the requests.  A
paged run ("?limit=100") follows "next" until it is null and counts each
page as a request; a module without paging answers every row instead.

Prints one line a measurement:

    LIST rows=1000 query=- requests=40 cpu_ms=21.3 bytes=4105222 pages=1
"""

import argparse
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BENCH = os.path.join(ROOT, "t", "bench")
HZ = os.sysconf("SC_CLK_TCK")


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port):
    import socket
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit("nothing listens on %d" % port)


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def start(args, state):
    ses_port, port = free_port(), free_port()
    sim = subprocess.Popen([sys.executable,
                            os.path.join(ROOT, "t", "ses-sim", "ses_sim.py"),
                            "--port", str(ses_port),
                            "--max-identities", "1000000"],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, start_new_session=True)
    wait_port(ses_port)

    with open(os.path.join(BENCH, "nginx.conf.in")) as f:
        conf = f.read()
    for k, v in (("@MODULE@", args.module), ("@STATE@", state),
                 ("@WORKERS@", "1"), ("@MAPSIZE@", "1024m"),
                 ("@SES_PORT@", str(ses_port)), ("@REFRESH@", "1h"),
                 ("@PORT@", str(port)),
                 ("@USER@", "user root;" if os.getuid() == 0 else "")):
        conf = conf.replace(k, v)
    with open(os.path.join(state, "nginx.conf"), "w") as f:
        f.write(conf)

    subprocess.check_call([args.nginx, "-p", state, "-c",
                           os.path.join(state, "nginx.conf"),
                           "-e", os.path.join(state, "error.log")])
    wait_port(port)

    with open(os.path.join(state, "nginx.pid")) as f:
        master = int(f.read())
    out = subprocess.check_output(["ps", "--ppid", str(master), "-o", "pid="])
    return sim, master, int(out.split()[0]), port


def get(conn, ws, query):
    conn.request("GET", "/api/" + query,
                 headers={"X-WS": ws, "X-Role": "member",
                          "X-Plan": "professional"})
    resp = conn.getresponse()
    body = resp.read()
    if resp.status != 200:
        sys.exit("GET /api/%s: %d %s" % (query, resp.status, body[:200]))
    return body


def measure(port, worker, ws, limit, seconds):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    requests = nbytes = pages = 0
    t0 = cpu_ticks(worker)
    deadline = time.monotonic() + seconds

    while time.monotonic() < deadline or requests < 5:
        after = None
        pages = 0
        nbytes = 0
        while True:
            q = ""
            if limit:
                q = "?limit=%d" % limit
                if after:
                    q += "&after=" + urllib.parse.quote(after, safe="")
            body = get(conn, ws, q)
            requests += 1
            pages += 1
            nbytes += len(body)
            after = json.loads(body).get("next") if limit else None
            if not after:
                break

    cpu = (cpu_ticks(worker) - t0) * 1000.0 / HZ
    conn.close()
    return requests, cpu / requests, nbytes, pages


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--module", default=os.path.join(
        ROOT, "build/nginx/objs/ngx_http_sender_domains_module.so"))
    ap.add_argument("--nginx", default="/usr/sbin/nginx")
    ap.add_argument("--rows", default="10,1000")
    ap.add_argument("--limit", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=3)
    args = ap.parse_args()

    state = tempfile.mkdtemp(prefix="sd-list-cpu-")
    sim = master = None
    try:
        sim, master, worker, port = start(args, state)
        sizes = [int(n) for n in args.rows.split(",")]

        for n in sizes:
            subprocess.check_call(
                [sys.executable, os.path.join(BENCH, "seed.py"), "add",
                 "--port", str(port), "--ws", "list%d" % n,
                 "--prefix", "l%d-" % n, "--count", str(n),
                 "--threads", "8"], stdout=subprocess.DEVNULL)

        for n in sizes:
            for limit in (0, args.limit):
                if limit and limit >= n:
                    continue
                reqs, ms, nbytes, pages = measure(port, worker,
                                                  "list%d" % n, limit,
                                                  args.seconds)
                print("LIST rows=%d query=%s requests=%d cpu_ms=%.2f "
                      "bytes=%d pages=%d"
                      % (n, "limit=%d" % limit if limit else "-", reqs, ms,
                         nbytes, pages), flush=True)
    finally:
        if master:
            os.kill(master, signal.SIGQUIT)
            time.sleep(0.5)
        if sim:
            os.killpg(sim.pid, signal.SIGTERM)
            sim.wait()
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
