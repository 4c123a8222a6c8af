#!/usr/bin/env bash
# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# The Debian package, end to end (docs/building.md, "Install on Debian 12"):
#
#   1. build it (make -f Makefile.dev deb: dpkg-buildpackage, then lintian
#      on the .deb and the .changes, failing on any error or warning);
#   2. apt-get install ./libnginx-mod-http-sender-domains_*.deb into the
#      machine's Debian nginx; check the module, its modules-available
#      snippet and enabled link, the examples, the store folder (www-data,
#      0700), the nginx ABI dependency, and that Debian's own configuration
#      still passes `nginx -t` with the module loaded;
#   3. start Debian's /usr/sbin/nginx -- a private instance: its own config,
#      port and pid file, never the system service -- with the packaged
#      load snippet and the packaged example snippets (pointed at the SES
#      simulator) plus a test server block; add a domain through the API,
#      "publish" its DNS in the simulator, refresh it, resolve a From
#      address on it;
#   4. apt-get remove: the module and its snippet go, the enabled link is
#      parked as *.removed, the store (and its data) stays;
#      apt-get install again: the link comes back, the data is still there;
#   5. apt-get purge: the store and the parked link go too.
#
# It installs and purges the package, so it refuses to run where the package
# is installed already or a store folder exists (an operator's data).
# Run as root (CI is).  DEB=path/to/the.deb tests a package already built.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PKG=libnginx-mod-http-sender-domains
STORE=/var/lib/nginx/sender-domains
ENABLED=/etc/nginx/modules-enabled/50-mod-http-sender-domains.conf
AVAILABLE=/usr/share/nginx/modules-available/mod-http-sender-domains.conf
SO=/usr/lib/nginx/modules/ngx_http_sender_domains_module.so
EXAMPLES=/usr/share/doc/$PKG/examples
PYTHON=/usr/bin/python3
APT=(apt-get -y -qq -o DPkg::Lock::Timeout=600)
export DEBIAN_FRONTEND=noninteractive

pass=0
ok()   { pass=$((pass + 1)); echo "ok $pass - $*"; }
fail() { echo "not ok - $*" >&2; exit 1; }
check() {  # check <description> <command...>
    local d=$1; shift
    if "$@"; then ok "$d"; else fail "$d"; fi
}

[ "$(id -u)" = 0 ] || fail "package.sh installs a package: run it as root"

if dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null \
       | grep -qE ' (installed|config-files|unpacked|half-installed|half-configured|triggers-[a-z]+)$'; then
    echo "package.sh: $PKG is installed on this machine; this test installs and"
    echo "purges it (purge deletes $STORE), so it leaves it alone." >&2
    exit 1
fi
if [ -e "$STORE" ]; then
    echo "package.sh: $STORE exists (someone's store); refusing to purge it." >&2
    exit 1
fi

TMP=$(mktemp -d /tmp/sd-package.XXXXXX)
chmod 0755 "$TMP"            # the workers (www-data) use the temp folders in it
NGINX_PID=$TMP/nginx.pid
SIM_PID=""
installed=no
done=no

cleanup() {
    set +e
    if [ -s "$NGINX_PID" ]; then
        kill -QUIT "$(cat "$NGINX_PID")" 2>/dev/null
        for _ in $(seq 50); do [ -s "$NGINX_PID" ] || break; sleep 0.1; done
    fi
    [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null
    if [ "$installed" = yes ]; then
        "${APT[@]}" purge "$PKG" >/dev/null 2>&1
    fi
    if [ "$done" = yes ]; then
        rm -rf "$TMP"
    else
        echo "package.sh: FAILED; the test nginx's files are in $TMP" >&2
        tail -20 "$TMP/error.log" >&2 2>/dev/null
    fi
}
trap cleanup EXIT

# 1. build (and lintian)
# (DEB=path/to/the.deb: test that one, already built)
if [ -z "${DEB:-}" ]; then
    start=$(date +%s)
    make -s -C "$ROOT" -f Makefile.dev deb
    DEB=$(ls "$ROOT"/build/deb/${PKG}_*_"$(dpkg --print-architecture)".deb)
    ok "built and lintian-clean: $(basename "$DEB") ($(( $(date +%s) - start )) s)"
fi

# 2. install into the machine's nginx
installed=yes
"${APT[@]}" install "$DEB" > "$TMP/install.log" 2>&1 \
    || { cat "$TMP/install.log"; fail "apt-get install $DEB"; }
ok "apt-get install ./$(basename "$DEB")"

abi=$(sed -n 's/^nginx:abi=//p' /usr/share/nginx/src/debian/libnginx-mod.abisubstvars 2>/dev/null \
      || true)
depends=$(dpkg-query -W -f='${Depends}' "$PKG")
check "Depends on the nginx ABI it was built for (${abi:-nginx-abi-*}): $depends" \
    grep -q "nginx-abi-[0-9]" <<< "$depends"
if [ -n "$abi" ]; then
    check "ABI $abi" grep -q "$abi" <<< "$depends"
fi
check "Depends on its libraries (shlibs)" \
    grep -q 'liblmdb0.*' <<< "$depends"
check "the module is in Debian's module folder" test -f "$SO"
check "modules-available has the load_module line" \
    grep -qx 'load_module modules/ngx_http_sender_domains_module.so;' "$AVAILABLE"
check "modules-enabled links to it" \
    test "$(readlink "$ENABLED")" = "$AVAILABLE"
check "the examples are in $EXAMPLES" \
    test -f "$EXAMPLES/sender-domains-http.conf" -a -f "$EXAMPLES/sender-domains-location.conf"
check "the store folder: www-data, 0700" \
    test "$(stat -c '%U:%G %a' "$STORE")" = "www-data:www-data 700"
check "Debian's nginx.conf loads the module and passes nginx -t" \
    /usr/sbin/nginx -t -q

# 3. a private nginx with the packaged snippets against the SES simulator
free_port() {
    "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
PORT=$(free_port)

setsid "$PYTHON" "$ROOT/t/ses-sim/ses_sim.py" --port 0 --region eu-west-1 > "$TMP/sim.log" 2>&1 &
SIM_PID=$!
for _ in $(seq 100); do
    SES_PORT=$(sed -n 's|.*listening on http://[0-9.]*:\([0-9]*\).*|\1|p' "$TMP/sim.log")
    [ -n "$SES_PORT" ] && break
    sleep 0.1
done
[ -n "$SES_PORT" ] || fail "the SES simulator did not start: $(cat "$TMP/sim.log")"

printf '[default]\naws_access_key_id = AKIDSIMULATOR\naws_secret_access_key = sim-secret-key\n' \
    > "$TMP/aws-credentials"
chmod 0600 "$TMP/aws-credentials"

# the packaged examples, as an operator would copy them: the credentials
# file, the simulator as the endpoint, the session check on this server
sed -e "s|/etc/nginx/sender-domains/aws-credentials|$TMP/aws-credentials|" \
    "$EXAMPLES/sender-domains-http.conf" > "$TMP/sender-domains-http.conf"
echo "sender_domains_ses_endpoint http://127.0.0.1:$SES_PORT;" >> "$TMP/sender-domains-http.conf"
sed -e "s|proxy_pass http://127.0.0.1:3000/internal/session;|proxy_pass http://127.0.0.1:$PORT/_session;|" \
    "$EXAMPLES/sender-domains-location.conf" > "$TMP/sender-domains-location.conf"
grep -q "_session;" "$TMP/sender-domains-location.conf" || fail "the location example changed"

cat > "$TMP/nginx.conf" <<EOF
include $ENABLED;
user www-data;
worker_processes 2;
pid $NGINX_PID;
error_log $TMP/error.log info;

events {}

http {
    access_log $TMP/access.log;
    client_body_temp_path $TMP/body;
    proxy_temp_path $TMP/proxy;
    fastcgi_temp_path $TMP/fastcgi;
    uwsgi_temp_path $TMP/uwsgi;
    scgi_temp_path $TMP/scgi;

    include $TMP/sender-domains-http.conf;

    server {
        listen 127.0.0.1:$PORT;

        include $TMP/sender-domains-location.conf;

        # the application's session check, for this test
        location = /_session {
            add_header X-Workspace acme;
            add_header X-Role admin;
            add_header X-Plan professional;
            return 204;
        }

        location /_sim/ {
            proxy_pass http://127.0.0.1:$SES_PORT;
        }
    }
}
EOF

/usr/sbin/nginx -t -q -c "$TMP/nginx.conf" -e "$TMP/error.log" \
    || fail "nginx -t of the test configuration"
/usr/sbin/nginx -c "$TMP/nginx.conf" -e "$TMP/error.log" \
    || fail "start nginx: $(tail -5 "$TMP/error.log")"
for _ in $(seq 50); do [ -s "$NGINX_PID" ] && break; sleep 0.1; done
ok "Debian's nginx started with the packaged snippets (port $PORT, pid $(cat "$NGINX_PID"))"

api() {  # api METHOD PATH [BODY] -> "status body"
    local data=()
    [ $# -ge 3 ] && data=(--data "$3")
    curl -s -m 30 -o "$TMP/answer" -w '%{http_code}' -X "$1" \
         -H 'Content-Type: application/json' "${data[@]}" \
         "http://127.0.0.1:$PORT$2" || true
}

st=$(api POST /api/sender-domains/ '{"identity":"acme.example","type":"domain"}')
check "add acme.example: 201 ($(head -c 120 "$TMP/answer"))" test "$st" = 201
check "its DKIM records are shown" grep -q '"dkim_status":"pending"' "$TMP/answer"
st=$(api POST /_sim/dns/publish '{"identity":"acme.example"}')
check "publish its DNS records in the simulator: $st" test "$st" = 200
st=$(api POST /api/sender-domains/acme.example/refresh)
check "refresh: verified ($(grep -o '"dkim_status":"[a-z]*"' "$TMP/answer"))" \
    grep -q '"verified_for_sending":true' "$TMP/answer"
st=$(api GET '/api/sender-domains/resolve?from=reports%40acme.example')
check "resolve reports@acme.example: its own address ($(head -c 160 "$TMP/answer"))" \
    grep -q '"source":"domain"' "$TMP/answer"
check "the store is in the package's folder, owned by www-data" \
    test "$(stat -c %U "$STORE/senders.mdb")" = www-data

kill -QUIT "$(cat "$NGINX_PID")"
for _ in $(seq 100); do [ -s "$NGINX_PID" ] || break; sleep 0.1; done
[ -s "$NGINX_PID" ] && fail "nginx did not stop"
kill "$SIM_PID"; SIM_PID=""
ok "the test nginx stopped"

# the import tool (cluster mode's migration) reads the store nginx wrote:
# etcd unreachable is said and exits 1; with Debian's etcd at hand, a dry
# run against a private member finds the row to import
TOOL=/usr/sbin/sender-domains-cluster-import
check "the import tool is installed with its manual page" \
    test -x "$TOOL" -a -f /usr/share/man/man8/sender-domains-cluster-import.8.gz
set +e
"$TOOL" > "$TMP/tool.out" 2>&1; rc=$?
set -e
check "the import tool without arguments: usage, exit 1 (exit $rc)" \
    grep -q '^usage: ' "$TMP/tool.out"
set +e
"$TOOL" --db "$STORE/senders.mdb" --endpoints "http://127.0.0.1:$(free_port)" \
    > "$TMP/tool.out" 2>&1; rc=$?
set -e
check "the import tool with etcd out of reach: exit 1 ($(tail -1 "$TMP/tool.out"))" test "$rc" = 1
if command -v etcd >/dev/null 2>&1; then
    ETCD_PORT=$(free_port)
    setsid etcd --data-dir "$TMP/etcd" --listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
        --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
        --listen-peer-urls "http://127.0.0.1:$(free_port)" > "$TMP/etcd.log" 2>&1 &
    ETCD_PID=$!
    for _ in $(seq 100); do
        curl -s -m 1 "http://127.0.0.1:$ETCD_PORT/health" | grep -q true && break
        sleep 0.1
    done
    set +e
    "$TOOL" --db "$STORE/senders.mdb" --endpoints "http://127.0.0.1:$ETCD_PORT" --dry-run \
        > "$TMP/tool.out" 2>&1; rc=$?
    set -e
    kill "$ETCD_PID"; wait "$ETCD_PID" 2>/dev/null || true
    check "the import tool's dry run against etcd finds acme.example (exit $rc: $(tail -1 "$TMP/tool.out"))" \
        grep -q 'acme.example' "$TMP/tool.out"
else
    echo "# etcd is not installed: the import tool's dry run is skipped"
fi

# 4. remove: the module goes, the data stays
"${APT[@]}" remove "$PKG" > "$TMP/remove.log" 2>&1 || { cat "$TMP/remove.log"; fail "apt-get remove"; }
ok "apt-get remove $PKG"
check "the module is gone" test ! -e "$SO"
check "the modules-available snippet is gone" test ! -e "$AVAILABLE"
check "the enabled link is parked as .removed" \
    test ! -e "$ENABLED" -a -L "$ENABLED.removed"
check "Debian's nginx.conf passes nginx -t without the module" /usr/sbin/nginx -t -q
check "the store stays on remove, with its data" test -s "$STORE/senders.mdb"

"${APT[@]}" install "$DEB" > "$TMP/install.log" 2>&1 || { cat "$TMP/install.log"; fail "reinstall"; }
check "reinstalled: the link is enabled again" \
    test "$(readlink "$ENABLED")" = "$AVAILABLE" -a ! -e "$ENABLED.removed"
check "reinstalled: the store was kept as it was" \
    test "$(stat -c '%U:%G %a' "$STORE")" = "www-data:www-data 700" -a -s "$STORE/senders.mdb"

# 5. purge: everything goes
"${APT[@]}" purge "$PKG" > "$TMP/purge.log" 2>&1 || { cat "$TMP/purge.log"; fail "apt-get purge"; }
installed=no
ok "apt-get purge $PKG"
check "purge removes the store" test ! -e "$STORE"
check "purge removes the enabled link" test ! -e "$ENABLED" -a ! -L "$ENABLED.removed"
check "dpkg knows nothing of it" \
    test -z "$(dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -v not-installed || true)"

done=yes
echo "package.sh: all $pass checks passed"
