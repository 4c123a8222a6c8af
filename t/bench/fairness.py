#!/usr/bin/python3
# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
"""Fairness benchmark (issue 13, docs/performance.md "Fair shares of SES").

    /usr/bin/python3 t/bench/fairness.py [--module PATH] [--nginx PATH]
        [--rate 1] [--flood-rps 100] [--adds 10] [--rounds 3] [--pause 2]
        [--flood-after 0] [--verbose] [--label TEXT]

One workspace ("flooder") floods the API at --flood-rps requests a second,
half refreshes of its own rows and half adds of new addresses (its
identity limit is lifted, sender_domains_max_identities 0, so every add
costs an SES call: the worst case), while another workspace ("calm") adds
--adds domains one after the other, --pause s apart (a domain is two SES
calls: create and MAIL FROM).  sender_domains_ses_rate is --rate (1: what SES allows an
account).  Reports the calm workspace's add latency (p50, p99, max) and
statuses, the flooder's statuses, and the most SES calls the simulator saw
in one second.  Target: p99 <= 2 s at rate 1, no 503 for the calm adds.

Starts its own SES simulator (t/ses-sim) and nginx (Debian's, with the
module) in a temporary folder and stops both at the end.  Exit status 0
when it measured (a missed target prints MISSED), 1 when it could not.
"""

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

CONF = """
load_module {module};
{user}
daemon on;
master_process on;
worker_processes 2;
pid {state}/nginx.pid;
error_log {state}/error.log warn;
env AWS_ACCESS_KEY_ID=AKIDSIMULATOR;
env AWS_SECRET_ACCESS_KEY=sim-secret-key;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {state}/client_body;
    proxy_temp_path {state}/proxy;
    fastcgi_temp_path {state}/fastcgi;
    uwsgi_temp_path {state}/uwsgi;
    scgi_temp_path {state}/scgi;
    sender_domains_db {state}/senders.mdb 64m;
    sender_domains_default_from "Platform Reports <reports@platform.example>";
    sender_domains_ses_endpoint http://127.0.0.1:{ses_port};
    sender_domains_ses_rate {rate};
    sender_domains_ses_timeout 10s;
    sender_domains_refresh_interval 1h;
    {extra}
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location /api/ {{
            sender_domains_api;
            sender_domains_workspace $http_x_ws;
            sender_domains_role $http_x_role;
            sender_domains_plan $http_x_plan;
        }}
    }}
}}
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


async def request(port, method, path, body, ws, role="admin"):
    """One HTTP/1.0 request; returns (status, seconds)."""
    t0 = time.monotonic()
    try:
        r, w = await asyncio.open_connection("127.0.0.1", port)
        data = body.encode()
        w.write(("%s /api%s HTTP/1.0\r\nHost: bench\r\nX-WS: %s\r\n"
                 "X-Role: %s\r\nX-Plan: professional\r\n"
                 "Content-Type: application/json\r\nContent-Length: %d\r\n"
                 "\r\n" % (method, path, ws, role, len(data))).encode()
                + data)
        await w.drain()
        resp = await r.read()
        w.close()
        status = int(resp.split(b" ", 2)[1])
    except (OSError, ValueError, IndexError):
        status = 0
    return status, time.monotonic() - t0


STARTS = {}
LAT = {}


def pct(values, p):
    v = sorted(values)
    if not v:
        return float("nan")
    k = max(0, min(len(v) - 1, int(round(p / 100.0 * len(v) + 0.5)) - 1))
    return v[k]


async def flood(port, rps, seeded, stop, counts):
    n = 0
    tasks = []
    interval = 1.0 / rps
    next_t = time.monotonic()
    while not stop.is_set():
        n += 1
        if n % 2:
            ident = random.choice(seeded)
            coro = request(port, "POST", "/%s/refresh" % ident, "", "flooder")
        else:
            coro = request(port, "POST", "/",
                           '{"identity":"f%d@flood.example"}' % n, "flooder")

        async def one(c):
            st, _ = await c
            counts[st] = counts.get(st, 0) + 1

        tasks.append(asyncio.ensure_future(one(coro)))
        next_t += interval
        await asyncio.sleep(max(0, next_t - time.monotonic()))
    await asyncio.gather(*tasks)


async def run_round(port, args, rnd, seeded):
    stop = asyncio.Event()
    counts = {}
    flooder = asyncio.ensure_future(
        flood(port, args.flood_rps, seeded, stop, counts))
    await asyncio.sleep(args.warmup)
    lat, sts = [], {}
    for i in range(args.adds):
        t0 = time.time()
        st, t = await request(port, "POST", "/",
                              '{"identity":"d%d-r%d.calm.example"}' % (i, rnd),
                              "calm")
        STARTS["d%d-r%d.calm.example" % (i, rnd)] = t0
        LAT["d%d-r%d.calm.example" % (i, rnd)] = t
        lat.append(t)
        if args.pause:
            await asyncio.sleep(args.pause)
        sts[st] = sts.get(st, 0) + 1
    # the flood goes on a while: do the MAIL FROMs that followed an answer
    # get done meanwhile?
    await asyncio.sleep(args.flood_after)
    stop.set()
    await flooder
    return lat, sts, counts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--module", default=os.path.join(
        ROOT, "build/nginx/objs/ngx_http_sender_domains_module.so"))
    ap.add_argument("--nginx", default="/usr/sbin/nginx")
    ap.add_argument("--rate", type=int, default=1)
    ap.add_argument("--flood-rps", type=int, default=100)
    ap.add_argument("--adds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seed-rows", type=int, default=50)
    ap.add_argument("--warmup", type=float, default=3.0)
    ap.add_argument("--pause", type=float, default=2.0,
                    help="seconds between the calm workspace's adds (a "
                         "person typing the next name); 0: back to back")
    ap.add_argument("--flood-after", type=float, default=0.0,
                    help="seconds the flood goes on after the calm adds")
    ap.add_argument("--label", default="")
    ap.add_argument("--verbose", action="store_true",
                    help="list the calm workspace's SES calls")
    args = ap.parse_args()

    state = tempfile.mkdtemp(prefix="sd-fairness-")
    sim = nginx_started = None
    try:
        sim = subprocess.Popen(
            ["/usr/bin/python3", os.path.join(ROOT, "t/ses-sim/ses_sim.py"),
             "--port", "0"], stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, start_new_session=True, text=True)
        line = sim.stdout.readline()
        ses_port = int(line.rsplit(":", 1)[1])
        port = free_port()

        def write_conf(rate, extra):
            with open(os.path.join(state, "nginx.conf"), "w") as f:
                f.write(CONF.format(module=args.module, state=state,
                                    user="user root;" if os.geteuid() == 0
                                    else "",
                                    ses_port=ses_port, rate=rate, port=port,
                                    extra=extra))

        # an old module knows no sender_domains_max_identities (and has
        # no limit): try with it, then without
        extra = "sender_domains_max_identities 0;"
        write_conf(1000, extra)
        if subprocess.call([args.nginx, "-t", "-q", "-p", state, "-c",
                            os.path.join(state, "nginx.conf")],
                           stderr=subprocess.DEVNULL) != 0:
            extra = ""
            write_conf(1000, extra)
        subprocess.check_call([args.nginx, "-p", state, "-c",
                               os.path.join(state, "nginx.conf")])
        nginx_started = True
        time.sleep(0.5)

        # seed the flooder's rows at a high rate, then reload at --rate
        seeded = []
        loop = asyncio.new_event_loop()
        for i in range(args.seed_rows):
            ident = "s%d@flood-seed.example" % i
            st, _ = loop.run_until_complete(
                request(port, "POST", "/", '{"identity":"%s"}' % ident,
                        "flooder"))
            if st == 201:
                seeded.append(ident)
        if not seeded:
            print("could not seed the flooder's rows (last: %d)" % st,
                  file=sys.stderr)
            return 1
        write_conf(args.rate, extra)
        subprocess.check_call([args.nginx, "-p", state, "-c",
                               os.path.join(state, "nginx.conf"),
                               "-s", "reload"])
        time.sleep(2)
        urllib.request.urlopen(urllib.request.Request(
            "http://127.0.0.1:%d/_sim/calls" % ses_port, method="DELETE"))

        lat, sts, fl = [], {}, {}
        for rnd in range(args.rounds):
            l, s, c = loop.run_until_complete(
                run_round(port, args, rnd, seeded))
            lat += l
            for k, v in s.items():
                sts[k] = sts.get(k, 0) + v
            for k, v in c.items():
                fl[k] = fl.get(k, 0) + v
            time.sleep(6)       # let the flood's waiting calls drain

        calls = json.load(urllib.request.urlopen(
            "http://127.0.0.1:%d/_sim/calls" % ses_port))
        per_s = {}
        for c in calls:
            per_s[int(c["time"])] = per_s.get(int(c["time"]), 0) + 1
        busiest = max(per_s.values()) if per_s else 0

        if args.verbose:
            for c in calls:
                if c.get("identity") in STARTS:
                    print("  %s %s +%.2f s" % (c["identity"], c["action"],
                          c["time"] - STARTS[c["identity"]]))

        # each calm domain's MAIL FROM: in its add's answer, or after it
        mf = {}
        for c in calls:
            if (c.get("identity") in STARTS
                    and c["action"] == "PutEmailIdentityMailFromAttributes"):
                mf.setdefault(c["identity"], c["time"] - STARTS[c["identity"]])
        late = sorted(t for i, t in mf.items()
                      if t > LAT.get(i, 0) + 0.001)

        p99 = pct(lat, 99)
        ok = p99 <= 2.0 and sts.get(503, 0) == 0 and set(sts) == {201}
        print("fairness%s: ses_rate %d, flood %d req/s (refresh + add), "
              "%d rounds x %d domain adds, %.1f s apart"
              % (" " + args.label if args.label else "", args.rate,
                 args.flood_rps, args.rounds, args.adds, args.pause))
        print("  calm adds: p50 %.2f s, p99 %.2f s, max %.2f s; statuses %s"
              % (pct(lat, 50), p99, max(lat),
                 ", ".join("%d x %d" % (v, k) for k, v in sorted(sts.items()))))
        print("  flooder: %s" % ", ".join(
            "%d x %d" % (v, k) for k, v in sorted(fl.items())))
        print("  MAIL FROM: %d in the add's answer, %d after it (%s), %d "
              "not set by the end"
              % (len(mf) - len(late), len(late),
                 "p50 %.1f s, max %.1f s after the add started"
                 % (pct(late, 50), late[-1]) if late else "-",
                 len(STARTS) - len(mf)))
        print("  SES calls: %d in %d s, at most %d in one second"
              % (len(calls), len(per_s), busiest))
        print("  target p99 <= 2 s, no 503: %s" % ("met" if ok else "MISSED"))
        return 0
    finally:
        if nginx_started:
            subprocess.call([args.nginx, "-p", state, "-c",
                             os.path.join(state, "nginx.conf"), "-s", "stop"],
                            stderr=subprocess.DEVNULL)
            time.sleep(0.5)
        if sim:
            os.killpg(sim.pid, signal.SIGTERM)
            sim.wait()
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
