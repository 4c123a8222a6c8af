#!/bin/bash
# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
#
# t/bench/cluster.sh: the cluster benchmarks of issue 18 (figures in
# docs/performance.md), on the harness of t/cluster/ (3 etcd members on
# loopback, tmpfs data dirs; nginx nodes with the module; one SES
# simulator):
#
#   propagation  BENCH_WRITES (1000) PATCHes of a sender name on node A,
#                each followed by GET /resolve on node B every ~1 ms until
#                B's From header shows it: p50 / p99 from A's answer to B
#                showing it (target p99 <= 100 ms on one machine)
#   write        the same PATCHes' round trip on A, a write through etcd
#                (target p99 <= 20 ms with 3 members on loopback)
#   resolve      wrk on /api/resolve (a verified domain) and on a bare
#                "return 200" of the same nginx, BENCH_RUNS interleaved
#                runs of BENCH_SECONDS, medians: resolve / bare req/s on
#                cluster node A and on node C, a single node (no cluster
#                directives, ND_SINGLE=3); the two ratios must agree within
#                noise (the send path does not change in cluster mode)
#
#   bash t/bench/cluster.sh          (make -f Makefile.dev bench-cluster)
#
# Knobs: BENCH_ONLY="propagation resolve" (one of them: only that part),
# BENCH_WRITES=1000 BENCH_RUNS=5 BENCH_SECONDS=4
# BENCH_CONNECTIONS=16 BENCH_OUT (also append the table to this file).
# One worker a node (ND_WORKERS=1), no CPU pinning: on a shared 2-core
# machine the ratios are what to read, not the req/s.  A missed target
# prints MISSED and the script still exits 0; it exits 1 only when it
# could not measure (e.g. B never shows A's writes).

set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../cluster/lib.sh"
. "$HERE/../cluster/nodes.sh"

BENCH_WRITES=${BENCH_WRITES:-1000}
BENCH_RUNS=${BENCH_RUNS:-5}
BENCH_SECONDS=${BENCH_SECONDS:-4}
BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-16}
BENCH_OUT=${BENCH_OUT:-}
ND_WORKERS=${ND_WORKERS:-1}
ND_SINGLE=${ND_SINGLE:-3}
WRK=${WRK:-wrk}
BENCH_ONLY=${BENCH_ONLY:-propagation resolve}

declare -a TABLE

row() {
    TABLE+=("$(printf '| %s | %s | %s | %s |' "$1" "$2" "$3" "$4")")
}

median() {
    sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}

# req/s of one wrk run against URL (as the service role of workspace bench)
wrk_rps() {
    "$WRK" -t1 -c"$BENCH_CONNECTIONS" -d"${BENCH_SECONDS}s" \
        -H 'X-WS: bench' -H 'X-Role: service' -H 'X-Plan: professional' "$1" 2>/dev/null \
        | awk '/^Requests\/sec:/ { print $2 }'
}

# resolve / bare of node $1 for address $2: BENCH_RUNS interleaved pairs;
# sets RATIO, R_RPS, B_RPS (medians)
ratio() {
    local i=$1 addr=$2 r b rs= bs=
    for ((k = 1; k <= BENCH_RUNS; k++)); do
        b=$(wrk_rps "$(nd_url "$i")/bare")
        r=$(wrk_rps "$(nd_url "$i")/api/resolve?from=$addr")
        [ -n "$b" ] && [ -n "$r" ] || cl_die "wrk failed against $(nd_name "$i")"
        bs="$bs$b"$'\n'
        rs="$rs$r"$'\n'
    done
    B_RPS=$(printf '%s' "$bs" | median)
    R_RPS=$(printf '%s' "$rs" | median)
    RATIO=$(awk -v r="$R_RPS" -v b="$B_RPS" 'BEGIN { printf "%.2f", r / b }')
}

command -v "$WRK" >/dev/null || cl_die "wrk not found (apt-get install wrk)"
cl_start 3
nd_start 3

nd_add_verified 1 bench bench-acme.com \
    || cl_die "bench-acme.com not verified through A: $ND_CODE $ND_BODY"
nd_add_verified 3 bench bench-solo.com \
    || cl_die "bench-solo.com not verified on the single node C: $ND_CODE $ND_BODY"
if [[ " $BENCH_ONLY " == *" propagation "* ]]; then
    b_resolves() { [ "$(nd_resolve 2 bench reports@bench-acme.com | cut -d' ' -f1)" = domain ]; }
    cl_until 10 "B does not resolve bench-acme.com, added on A: cluster mode does not replicate" \
        b_resolves

    cl_log "propagation: $BENCH_WRITES writes on A, each polled on B"
    out=$(nice -n "$CL_NICE" "$ND_PY" "$HERE/cluster_prop.py" "${ND_PORT[1]}" "${ND_PORT[2]}" \
              bench bench-acme.com "$BENCH_WRITES") || cl_die "propagation not measured"
    cl_log "$out"
    eval "$(printf '%s' "$out" | tr ' ' '\n' | sed 's/^/P_/')"
    verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print (v <= t ? "ok" : "MISSED") }'; }
    row "propagation A -> B, p50 / p99 / max ($P_writes writes, $P_timeouts not seen in 5 s)" \
        "$P_prop_p50 / $P_prop_p99 / $P_prop_max ms" "p99 <= 100 ms" "$(verdict "$P_prop_p99" 100)"
    row "write (PATCH on A through etcd), p50 / p99 / max" \
        "$P_write_p50 / $P_write_p99 / $P_write_max ms" "p99 <= 20 ms" "$(verdict "$P_write_p99" 20)"
fi

if [[ " $BENCH_ONLY " == *" resolve "* ]]; then
    cl_log "resolve / bare: cluster node A, then single node C ($BENCH_RUNS x ${BENCH_SECONDS}s each)"
    ratio 1 reports%40bench-acme.com
    c_ratio=$RATIO
    row "resolve / bare req/s, cluster node A" "$c_ratio ($R_RPS / $B_RPS)" "" ""
    ratio 3 reports%40bench-solo.com
    s_ratio=$RATIO
    row "resolve / bare req/s, single node C" "$s_ratio ($R_RPS / $B_RPS)" "" ""
    rel=$(awk -v c="$c_ratio" -v s="$s_ratio" 'BEGIN { printf "%.2f", c / s }')
    row "cluster ratio / single ratio" "$rel" ">= 0.90 (noise)" \
        "$(awk -v r="$rel" 'BEGIN { print (r >= 0.90 ? "ok" : "MISSED") }')"
fi

{
    echo
    echo "cluster benchmarks ($(date -u +%Y-%m-%dT%H:%MZ), load $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs)"
    echo
    echo "| what | measured | target | |"
    echo "|---|---|---|---|"
    printf '%s\n' "${TABLE[@]}"
} | tee ${BENCH_OUT:+-a "$BENCH_OUT"}
