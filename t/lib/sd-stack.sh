# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# Sourced by the scripts that run their own nginx with the module next to
# the SES simulator (t/prometheus/run.sh, t/webhooks/run.sh,
# t/reliability/binary-upgrade.sh, t/reliability/backup.sh):
#
#   . "$(dirname "$0")/../lib/sd-stack.sh"
#   sd_stack_init upgrade              # STATE=/tmp/sd-upgrade.XXXXXX
#   sd_sim_start                       # the simulator on $SES_PORT
#   sd_nginx_conf 'sender_domains_ses_rate 200;' '<more server lines>'
#   sd_nginx_start
#   sd_nginx_stop "$STATE/nginx.pid"   # QUIT, waits until it is gone
#
# It sets ROOT, NGINX_BIN, MODULE (both can be given), STATE (a fresh
# directory the nginx workers can read), PORT and SES_PORT (free ports on
# loopback), sim (the simulator's pid) and the pass/fail counters of
# check(); each script keeps its own cleanup trap and stops what it
# started by pid.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}
MODULE=${MODULE:-$ROOT/build/nginx/objs/ngx_http_sender_domains_module.so}
pass=0
fail=0
sim=

free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# sd_stack_init NAME: the state directory and the two ports
sd_stack_init() {
    STATE=$(mktemp -d "/tmp/sd-$1.XXXXXX")
    chmod 755 "$STATE"      # the workers run as the nginx user
    mkdir -p "$STATE/logs"
    PORT=$(free_port)
    SES_PORT=$(free_port)
}

# check DESCRIPTION 'shell condition': one "ok" or "FAIL" line, counted
check() {
    if eval "$2"; then
        echo "ok   - $1"; pass=$((pass + 1))
    else
        echo "FAIL - $1"; fail=$((fail + 1))
    fi
}

# The SES simulator (t/ses-sim, Debian's python3) on $SES_PORT, logging to
# $STATE/sim.log; returns once it listens.
sd_sim_start() {
    /usr/bin/python3 "$ROOT/t/ses-sim/ses_sim.py" --port "$SES_PORT" \
        > "$STATE/sim.log" 2>&1 &
    sim=$!
    for _ in $(seq 50); do
        grep -q listening "$STATE/sim.log" && return 0
        sleep 0.1
    done
    echo "the SES simulator did not start: $(cat "$STATE/sim.log")" >&2
    return 1
}

# sd_nginx_conf 'HTTP LINES' ['SERVER LINES']: an nginx.conf for a daemon
# with 2 workers, the store in $STATE, the simulator as SES and the API
# under /api/ (the caller from the X-WS, X-Role and X-Plan headers), plus
# the given lines in http{} and server{}.  SD_CONF, SD_PID, SD_DB, SD_PORT
# (default $STATE/nginx.conf, $STATE/nginx.pid, $STATE/senders.mdb, $PORT)
# and SD_MAIN (more main-context lines) may be set for a second server.
sd_nginx_conf() {
    cat > "${SD_CONF:-$STATE/nginx.conf}" <<CONF
load_module $MODULE;
${SD_MAIN:-}
daemon on;
master_process on;
worker_processes 2;
pid ${SD_PID:-$STATE/nginx.pid};
error_log $STATE/logs/error.log info;
env AWS_ACCESS_KEY_ID=AKIDSIMULATOR;
env AWS_SECRET_ACCESS_KEY=sim-secret-key;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $STATE/body;
    proxy_temp_path $STATE/proxy;
    fastcgi_temp_path $STATE/fastcgi;
    uwsgi_temp_path $STATE/uwsgi;
    scgi_temp_path $STATE/scgi;
    sender_domains_db ${SD_DB:-$STATE/senders.mdb} 32m;
    sender_domains_default_from "Platform Reports <reports@platform.example>";
    sender_domains_ses_endpoint http://127.0.0.1:$SES_PORT;
$1
    server {
        listen 127.0.0.1:${SD_PORT:-$PORT};
        location /api/ {
            sender_domains_api;
            sender_domains_workspace \$http_x_ws;
            sender_domains_role \$http_x_role;
            sender_domains_plan \$http_x_plan;
        }
${2:-}
    }
}
CONF
}

# Starts nginx on $STATE/nginx.conf; returns once the API answers.
sd_nginx_start() {
    "$NGINX_BIN" -p "$STATE" -c "$STATE/nginx.conf"
    for _ in $(seq 50); do
        curl -s -o /dev/null "http://127.0.0.1:$PORT/api/" && return 0
        sleep 0.1
    done
    return 0
}

# sd_nginx_stop PIDFILE: QUIT to the master whose pid the file holds;
# waits (10 s at most) until it is gone; status 1 when it did not go
sd_nginx_stop() {
    local pid
    [ -f "$1" ] || return 0
    pid=$(cat "$1")
    kill -QUIT "$pid" 2>/dev/null || return 0
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    return 1
}
