#!/usr/bin/env bash
# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# End-to-end tests of the Custom Sender Domains card (conf-examples/html/) in
# headless Chromium (Debian's /usr/bin/chromium driven by playwright-core).
#
#   bash t/e2e/run.sh                 run all tests
#   bash t/e2e/run.sh -k 'legacy'     only tests whose name matches a pattern
#   bash t/e2e/run.sh --docs-images   also refresh docs/images/card-*.png
#
# It installs what it needs (chromium via apt-get, playwright-core via npm ci),
# starts its OWN sandbox (make -f Makefile.dev run) on free ports with a fresh
# temporary state folder, runs the tests with Node's built-in test runner, and
# stops the sandbox again (the whole process group) however it ends.
# Screenshots of each state land in t/e2e/output/ (not committed), with the
# sandbox's log (sandbox.log) and a TAP copy of the results (results.tap).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT="$HERE/output"
CHROMIUM=${SD_CHROMIUM:-/usr/bin/chromium}

docs=0
pattern=()
while [ $# -gt 0 ]; do
    case "$1" in
        --docs-images) docs=1 ;;
        -k|--pattern) shift; pattern+=(--test-name-pattern "${1:?-k needs a pattern}") ;;
        -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "run.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
    esac
    shift
done

say() { printf 'e2e: %s\n' "$*"; }
started=$(date +%s)

# ---- 1. tools: Node 20+, Chromium, playwright-core ---------------------------

command -v node >/dev/null || { echo "e2e: node is missing (apt-get install nodejs npm)" >&2; exit 1; }
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || { echo "e2e: Node 20 or newer is needed (have $(node -v))" >&2; exit 1; }

if [ ! -x "$CHROMIUM" ]; then
    say "installing Debian's chromium"
    [ "$(id -u)" -eq 0 ] || { echo "e2e: $CHROMIUM is missing; run as root or apt-get install chromium" >&2; exit 1; }
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 \
        || { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null; }
fi

cd "$HERE"
if [ -f package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error >/dev/null
else
    npm install --no-audit --no-fund --loglevel=error >/dev/null
fi

# ---- 2. our own sandbox on free ports, fresh state ---------------------------

mkdir -p "$OUT"
read -r PORT SES_PORT < <(python3 -c '
import socket
a, b = socket.socket(), socket.socket()
a.bind(("127.0.0.1", 0)); b.bind(("127.0.0.1", 0))
print(a.getsockname()[1], b.getsockname()[1])')
STATE=$(mktemp -d "${TMPDIR:-/tmp}/sd-e2e-state.XXXXXX")
chmod 755 "$STATE"   # nginx's workers (user nobody under root) open the LMDB file in it
LOG="$OUT/sandbox.log"

pgid=""
cleanup() {
    local rc=$?
    if [ -n "$pgid" ] && kill -0 -- "-$pgid" 2>/dev/null; then
        kill -TERM -- "-$pgid" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 -- "-$pgid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL -- "-$pgid" 2>/dev/null || true
    fi
    rm -rf "$STATE"
    return $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "starting the sandbox on 127.0.0.1:$PORT (SES simulator :$SES_PORT, state $STATE)"
cd "$ROOT"
# setsid: the sandbox (make, nginx, the simulator) gets a process group of its own
setsid make -f Makefile.dev run PORT="$PORT" SES_PORT="$SES_PORT" STATE="$STATE" >"$LOG" 2>&1 &
sandbox=$!
pgid=$sandbox

api="http://127.0.0.1:$PORT/api/sender-domains/"
deadline=$(( $(date +%s) + ${SD_START_TIMEOUT:-300} ))   # the first build takes a while
bad_since=""
while :; do
    code=$(curl -s -o "$OUT/.probe" -w '%{http_code}' "$api" 2>/dev/null || true)
    [ "$code" = 200 ] && break
    now=$(date +%s)
    if ! kill -0 "$sandbox" 2>/dev/null; then
        echo "e2e: the sandbox did not start; the end of $LOG:" >&2
        grep -v 'keepalive connection' "$LOG" | tail -30 >&2
        exit 1
    fi
    # nginx answers, but not 200: give it a few seconds, then say why
    if [ -n "$code" ] && [ "$code" != 000 ]; then
        bad_since=${bad_since:-$now}
        if [ $(( now - bad_since )) -gt 15 ]; then
            echo "e2e: GET $api answers $code: $(head -c 300 "$OUT/.probe")" >&2
            grep -E '\[(alert|emerg|crit|error)\]' "$LOG" | tail -10 >&2
            exit 1
        fi
    fi
    if [ "$now" -gt "$deadline" ]; then
        echo "e2e: the API did not answer within ${SD_START_TIMEOUT:-300} s; the end of $LOG:" >&2
        grep -v 'keepalive connection' "$LOG" | tail -30 >&2
        exit 1
    fi
    sleep 0.3
done
rm -f "$OUT/.probe"
say "sandbox up after $(( $(date +%s) - started )) s"

# ---- 3. the tests ------------------------------------------------------------

export SD_BASE_URL="http://127.0.0.1:$PORT"
export SD_DOCS_IMAGES=$docs
export SD_RUN_ID=""          # fresh state: plain names (acme.com, …)
export SD_CHROMIUM="$CHROMIUM"
cd "$HERE"
set +e
node --test --test-concurrency=1 --test-timeout=180000 "${pattern[@]}" \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$OUT/results.tap" \
    tests/*.test.mjs
rc=$?
set -e

say "$( [ $rc -eq 0 ] && echo passed || echo FAILED ) in $(( $(date +%s) - started )) s; screenshots in ${OUT#"$ROOT"/}/"
[ $docs -eq 1 ] && say "docs/images/card-{empty,pending,verified,locked,dns-appended-twice,dns-proxied}.png refreshed (of the tests that ran)"
exit $rc
