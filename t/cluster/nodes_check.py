#!/usr/bin/python3
# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
"""t/cluster/nodes_check.py: the JSON side of t/cluster/nodes_test.sh.

  rows ETCD_URL PREFIX WS,WS... PORT...
      compares each node's rows (GET /api/ of each workspace, every page)
      with etcd's range read of PREFIX rows/ and legacy/rows/ (one
      revision);
      a row is (workspace, identity, kind, sender_name).  Prints one line
      per difference; exit 0 when every node equals etcd and etcd holds
      at least one row of the workspaces.
  polls SIM_PORT SINCE [UNTIL]
      the background polls (GetEmailIdentity, ListEmailIdentities) in the
      simulator's call log from SINCE to UNTIL (epoch seconds): prints
      "KEY=count ..." per access key, most first ("" when none).
  first-poll SIM_PORT SINCE EXCLUDED_KEY
      the seconds from SINCE to the first background poll made with
      another key than EXCLUDED_KEY; exit 1 when there is none.
  window SIM_PORT SINCE SECONDS
      the most SES calls (any action) in any SECONDS-long window after
      SINCE, and the window's start: "N at T".
  claims ETCD_URL PREFIX TREEKEY
      every claim key at or under TREEKEY (claims/<TREEKEY>...) and every
      ancestor of it, one "treekey=workspace" line each, sorted.
"""

import base64
import json
import sys
import urllib.error
import urllib.parse
import urllib.request

POLLS = ("GetEmailIdentity", "ListEmailIdentities")


def post(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


def b64(s):
    return base64.b64encode(s).decode()


def range_end(key):
    k = bytearray(key)
    k[-1] += 1
    return bytes(k)


def etcd_rows(url, prefix):
    """{(ws, identity): (kind, sender_name)} at one revision"""
    rows = {}
    rev = None
    for kind, sub in (("managed", b"rows/"), ("legacy", b"legacy/rows/")):
        start = prefix + sub
        end = range_end(start)
        key = start
        while True:
            body = {"key": b64(key), "range_end": b64(end), "limit": "1000"}
            if rev:
                body["revision"] = rev
            ans = post(url + "/v3/kv/range", body)
            rev = rev or ans["header"]["revision"]
            kvs = ans.get("kvs") or []
            for kv in kvs:
                k = base64.b64decode(kv["key"])[len(start):]
                ws, _, ident = k.partition(b"/")
                ws = urllib.parse.unquote_to_bytes(ws).decode()
                row = json.loads(base64.b64decode(kv.get("value", "")) or b"{}")
                ident = row.get("identity") or ident.decode()
                # a managed row hides its legacy twin (a migrated sender),
                # as the API's list does
                if kind == "legacy" and (ws, ident) in rows:
                    continue
                rows[(ws, ident)] = (kind, row.get("sender_name") or "")
            if not ans.get("more") or not kvs:
                break
            key = base64.b64decode(kvs[-1]["key"]) + b"\0"
    return rows


def node_rows(port, workspaces):
    rows = {}
    for ws in workspaces:
        after = None
        for _ in range(100):
            q = {"limit": "1000"}
            if after:
                q["after"] = after
            req = urllib.request.Request(
                "http://127.0.0.1:%s/api/?%s" % (port, urllib.parse.urlencode(q)),
                headers={"X-WS": ws, "X-Role": "admin", "X-Plan": "professional"})
            with urllib.request.urlopen(req, timeout=10) as r:
                ans = json.load(r)
            for row in ans.get("identities") or []:
                rows[(ws, row["identity"])] = (row.get("kind"), row.get("sender_name") or "")
            after = ans.get("next")
            if not after:
                break
    return rows


def cmd_rows(url, prefix, wss, *ports):
    workspaces = [w for w in wss.split(",") if w]
    try:
        want = {k: v for k, v in etcd_rows(url, prefix.encode()).items()
                if k[0] in workspaces}
    except (OSError, ValueError, KeyError) as e:
        print("etcd range read failed: %s" % e)
        return 1
    bad = 0
    if not want:
        print("etcd holds no row of %s under %s" % (wss, prefix))
        bad = 1
    for port in ports:
        try:
            got = node_rows(port, workspaces)
        except (OSError, ValueError, KeyError) as e:
            print("node :%s: GET / failed: %s" % (port, e))
            bad = 1
            continue
        missing = sorted(set(want) - set(got))
        extra = sorted(set(got) - set(want))
        differ = sorted(k for k in set(want) & set(got) if want[k] != got[k])
        if missing or extra or differ:
            bad = 1
            print("node :%s: %d rows, etcd %d; missing %d %s; extra %d %s; differ %d %s"
                  % (port, len(got), len(want), len(missing), missing[:3],
                     len(extra), extra[:3], len(differ),
                     [(k, got[k], want[k]) for k in differ[:2]]))
    return bad


def calls(port):
    with urllib.request.urlopen("http://127.0.0.1:%s/_sim/calls" % port, timeout=10) as r:
        return json.load(r)


def cmd_polls(port, since, until=None):
    since = float(since)
    until = float(until) if until else float("inf")
    n = {}
    for c in calls(port):
        if c["action"] in POLLS and since <= c["time"] <= until:
            n[c["access_key"]] = n.get(c["access_key"], 0) + 1
    print(" ".join("%s=%d" % kv for kv in sorted(n.items(), key=lambda kv: -kv[1])))
    return 0


def cmd_first_poll(port, since, excluded):
    since = float(since)
    ts = [c["time"] for c in calls(port)
          if c["action"] in POLLS and c["time"] >= since and c["access_key"] != excluded]
    if not ts:
        return 1
    print("%.1f" % (min(ts) - since))
    return 0


def cmd_window(port, since, seconds):
    since = float(since)
    w = float(seconds)
    ts = sorted(c["time"] for c in calls(port) if c["time"] >= since)
    best, at, j = 0, since, 0
    for i, t in enumerate(ts):
        while ts[j] <= t - w:
            j += 1
        if i - j + 1 > best:
            best, at = i - j + 1, ts[j]
    print("%d at %.1f" % (best, at - since))
    return 0


def cmd_claims(url, prefix, treekey):
    start = prefix.encode() + b"claims/"
    tk = treekey.encode()
    keys = [tk[:i + 1] for i in range(len(tk) - 1) if tk[i:i + 1] == b"."]
    out = []
    for k in keys:
        ans = post(url + "/v3/kv/range", {"key": b64(start + k)})
        for kv in ans.get("kvs") or []:
            out.append((k, base64.b64decode(kv.get("value", ""))))
    ans = post(url + "/v3/kv/range", {"key": b64(start + tk),
                                      "range_end": b64(range_end(start + tk))})
    for kv in ans.get("kvs") or []:
        out.append((base64.b64decode(kv["key"])[len(start):],
                    base64.b64decode(kv.get("value", ""))))
    for k, v in sorted(set(out)):
        print("%s=%s" % (k.decode(), v.decode()))
    return 0


def main(argv):
    cmds = {"rows": cmd_rows, "polls": cmd_polls, "first-poll": cmd_first_poll,
            "window": cmd_window, "claims": cmd_claims}
    if len(argv) < 2 or argv[1] not in cmds:
        sys.stderr.write(__doc__)
        return 2
    return cmds[argv[1]](*argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
