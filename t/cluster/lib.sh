# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
#
# t/cluster/lib.sh: a throw-away etcd cluster for the cluster tests (issue
# 18, docs/cluster.md).  Sourced, not run:
#
#   . t/cluster/lib.sh
#   cl_start 3                  # 3 members on free loopback ports, own data
#                               # dirs under one temp dir; waits for health
#   cl_put KEY VALUE            # through the gRPC gateway's /v3/ JSON API
#   cl_get KEY                  # prints the value ("" and status 1: absent)
#   cl_post PATH JSON [i]       # any /v3/ call, to member i or the first up
#   cl_leader                   # the index of the leader member
#   cl_kill i | cl_stop i | cl_cont i | cl_restart i
#   cl_curl ARGS...             # curl with the TLS files when CL_TLS=1
#   cl_etcdctl ARGS...          # etcdctl on every endpoint (TLS files too)
#
# CL_TLS=1 before cl_start: the members serve clients over TLS only and
# ask for a client certificate (--client-cert-auth); cl_start makes a
# throw-away CA, a server certificate for 127.0.0.1 and a client
# certificate with openssl into $CL_TLS_DIR (ca.crt, server.crt,
# server.key, client.crt, client.key; cl_tls_ca DIR makes another CA).
# Peers stay http on loopback.  Every helper here speaks TLS then.
#
# Everything it starts is stopped by pid on exit (an EXIT/INT/TERM trap that
# calls cl_cleanup); nothing is found by name.  Every wait is bounded.
# Needs Debian's etcd-server and curl (make -f Makefile.dev deps-cluster) and
# /usr/bin/python3 for the JSON of the answers.

CL_ETCD=${CL_ETCD:-/usr/bin/etcd}
CL_PY=/usr/bin/python3
CL_WAIT=${CL_WAIT:-20}          # seconds for a member set to become healthy
CL_CURL_MAX=${CL_CURL_MAX:-3}   # seconds for one gateway request
# the data dirs: tmpfs when there is one (etcd fsyncs every commit; the
# tests need speed, not durability across a machine crash)
if [ -z "${CL_TMP:-}" ]; then
    if [ -d /dev/shm ] && [ -w /dev/shm ]; then
        CL_TMP=/dev/shm
    else
        CL_TMP=${TMPDIR:-/tmp}
    fi
fi
CL_NICE=$(( 10 - $(nice) ))
[ "$CL_NICE" -ge 0 ] || CL_NICE=0
CL_N=0
CL_DIR=
CL_TLS=${CL_TLS:-}
CL_TLS_DIR=
CL_TRAPPED=
declare -a CL_PID CL_CPORT CL_PPORT

cl_log() {
    printf '# %s %s\n' "$(date +%H:%M:%S.%3N)" "$*" >&2
}

cl_die() {
    cl_log "FAIL: $*"
    exit 1
}

# $1 free loopback ports, bound at once so they differ (a small race with
# other programs remains; a member that cannot bind fails cl_start loudly)
cl_free_ports() {
    "$CL_PY" - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

cl_url() {
    if [ -n "$CL_TLS" ]; then
        printf 'https://127.0.0.1:%s' "${CL_CPORT[$1]}"
    else
        printf 'http://127.0.0.1:%s' "${CL_CPORT[$1]}"
    fi
}

# a CA (DIR/ca.crt, DIR/ca.key) that signs for one day, P-256 keys
cl_tls_ca() {
    mkdir -p "$1"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
        -nodes -days 1 -subj "/CN=sd-test-ca-$$" \
        -addext basicConstraints=critical,CA:TRUE \
        -addext keyUsage=critical,keyCertSign,cRLSign \
        -keyout "$1/ca.key" -out "$1/ca.crt" 2>/dev/null \
        || cl_die "openssl could not make a CA in $1"
}

# cl_tls_cert DIR NAME CN EXTENSIONS: DIR/NAME.crt and DIR/NAME.key signed
# by DIR/ca.crt; the key readable by its owner only
cl_tls_cert() {
    local d=$1 name=$2
    printf '%b' "$4" > "$d/$name.ext"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -subj "/CN=$3" -keyout "$d/$name.key" -out "$d/$name.csr" 2>/dev/null \
        && openssl x509 -req -in "$d/$name.csr" -CA "$d/ca.crt" \
            -CAkey "$d/ca.key" -CAcreateserial -days 1 \
            -extfile "$d/$name.ext" -out "$d/$name.crt" 2>/dev/null \
        || cl_die "openssl could not make $d/$name.crt"
    chmod 600 "$d/$name.key"
}

# the CA, the members' certificate (also a client's: etcd's gRPC gateway
# dials its own member with it under --client-cert-auth) and a client's
cl_tls_make() {
    CL_TLS_DIR=$CL_DIR/tls
    cl_tls_ca "$CL_TLS_DIR"
    cl_tls_cert "$CL_TLS_DIR" server etcd \
        'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n'
    cl_tls_cert "$CL_TLS_DIR" client sd-node \
        'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n'
}

# curl, with the CA and the client certificate when the members speak TLS
cl_curl() {
    if [ -n "$CL_TLS" ]; then
        curl --cacert "$CL_TLS_DIR/ca.crt" --cert "$CL_TLS_DIR/client.crt" \
             --key "$CL_TLS_DIR/client.key" "$@"
    else
        curl "$@"
    fi
}

# etcdctl on every endpoint (v3 API), with the TLS files when on
cl_etcdctl() {
    if [ -n "$CL_TLS" ]; then
        ETCDCTL_API=3 etcdctl --endpoints "$(cl_endpoints)" \
            --cacert "$CL_TLS_DIR/ca.crt" --cert "$CL_TLS_DIR/client.crt" \
            --key "$CL_TLS_DIR/client.key" "$@"
    else
        ETCDCTL_API=3 etcdctl --endpoints "$(cl_endpoints)" "$@"
    fi
}

# the endpoints as a comma-separated list (for etcdctl --endpoints)
cl_endpoints() {
    local i out=
    for ((i = 1; i <= CL_N; i++)); do
        out="${out:+$out,}$(cl_url "$i")"
    done
    printf '%s' "$out"
}

cl_initial_cluster() {
    local i out=
    for ((i = 1; i <= CL_N; i++)); do
        out="${out:+$out,}m$i=http://127.0.0.1:${CL_PPORT[$i]}"
    done
    printf '%s' "$out"
}

# starts member $1 (its data dir is kept across cl_kill + cl_restart)
cl_spawn() {
    local i=$1 state=${2:-new} tls=()

    if [ -n "$CL_TLS" ]; then
        tls=(--cert-file "$CL_TLS_DIR/server.crt"
             --key-file "$CL_TLS_DIR/server.key"
             --trusted-ca-file "$CL_TLS_DIR/ca.crt" --client-cert-auth)
    fi

    # niceness 10, like the project's other background work (not 10 more
    # than a "nice bash" that runs this: 19 starves etcd on a busy machine)
    nice -n "$CL_NICE" "$CL_ETCD" --name "m$i" --data-dir "$CL_DIR/m$i" \
        --listen-client-urls "$(cl_url "$i")" \
        --advertise-client-urls "$(cl_url "$i")" \
        --listen-peer-urls "http://127.0.0.1:${CL_PPORT[$i]}" \
        --initial-advertise-peer-urls "http://127.0.0.1:${CL_PPORT[$i]}" \
        --initial-cluster "$(cl_initial_cluster)" \
        --initial-cluster-token "sd-cluster-$$" \
        --initial-cluster-state "$state" \
        "${tls[@]}" \
        --logger zap --log-outputs stderr \
        >>"$CL_DIR/m$i.log" 2>&1 &
    CL_PID[$i]=$!
    # no "Killed" line from bash when a test kills it on purpose; the pid
    # is still this shell's child (kill -0 and the cleanup work as before)
    disown "${CL_PID[$i]}"
}

cl_alive() {
    [ -n "${CL_PID[$1]:-}" ] && kill -0 "${CL_PID[$1]}" 2>/dev/null
}

# 0 when member $1 answers /health with "true" (it has a leader)
cl_healthy() {
    cl_curl -s -m "$CL_CURL_MAX" "$(cl_url "$1")/health" 2>/dev/null \
        | grep -q '"health":"true"'
}

# waits (bounded) until every member named in $@ is healthy
cl_wait_healthy() {
    local deadline=$((SECONDS + CL_WAIT)) i ok

    while :; do
        ok=1
        for i in "$@"; do
            cl_alive "$i" || cl_die "member m$i (pid ${CL_PID[$i]}) exited; log: $(tail -3 "$CL_DIR/m$i.log")"
            cl_healthy "$i" || { ok=0; break; }
        done
        [ $ok = 1 ] && return 0
        [ $SECONDS -ge $deadline ] && cl_die "members $* not healthy within ${CL_WAIT}s"
        sleep 0.2
    done
}

cl_start() {
    local n=${1:-3} i ports

    command -v "$CL_ETCD" >/dev/null \
        || cl_die "$CL_ETCD not found: make -f Makefile.dev deps-cluster"
    CL_N=$n
    CL_DIR=$(mktemp -d "$CL_TMP/sd-cluster.XXXXXX")
    if [ -z "$CL_TRAPPED" ]; then
        trap cl_cleanup EXIT
        trap 'exit 130' INT
        trap 'exit 143' TERM
        CL_TRAPPED=1
    fi

    [ -z "$CL_TLS" ] || cl_tls_make

    read -r -a ports <<<"$(cl_free_ports $((2 * n)))"
    for ((i = 1; i <= n; i++)); do
        CL_CPORT[$i]=${ports[$((2 * i - 2))]}
        CL_PPORT[$i]=${ports[$((2 * i - 1))]}
    done

    for ((i = 1; i <= n; i++)); do
        cl_spawn "$i" new
    done

    cl_wait_healthy $(seq 1 "$n")
    cl_log "etcd cluster up${CL_TLS:+ (TLS, client certificates)}: $(cl_endpoints) (pids ${CL_PID[*]}, dir $CL_DIR)"
}

# signals member $1 by its pid; waits (bounded) until a killed one is gone
cl_signal() {
    local i=$1 sig=$2 deadline=$((SECONDS + 10))

    cl_alive "$i" || cl_die "member m$i is not running"
    kill "-$sig" "${CL_PID[$i]}"
    case $sig in
    KILL|TERM)
        while kill -0 "${CL_PID[$i]}" 2>/dev/null; do
            [ $SECONDS -ge $deadline ] && cl_die "m$i (pid ${CL_PID[$i]}) survived SIG$sig"
            sleep 0.1
        done
        CL_PID[$i]=
        ;;
    esac
}

cl_kill()  { cl_log "SIGKILL m$1 (pid ${CL_PID[$1]})"; cl_signal "$1" KILL; }
cl_term()  { cl_log "SIGTERM m$1 (pid ${CL_PID[$1]})"; cl_signal "$1" TERM; }
cl_stop()  { cl_log "SIGSTOP m$1 (pid ${CL_PID[$1]})"; cl_signal "$1" STOP; }
cl_cont()  { cl_log "SIGCONT m$1 (pid ${CL_PID[$1]})"; cl_signal "$1" CONT; }

# starts a stopped or killed member again on its data dir and waits for it
cl_restart() {
    local i=$1

    if cl_alive "$i"; then
        cl_term "$i"
    fi
    cl_spawn "$i" existing
    cl_wait_healthy "$i"
    cl_log "m$i restarted (pid ${CL_PID[$i]})"
}

# runs "$@" until it succeeds, every 0.2 s for at most $1 seconds; on
# timeout fails the test with the sentence $2
cl_until() {
    local limit=$1 what=$2 deadline
    shift 2
    deadline=$((SECONDS + limit))
    until "$@"; do
        [ $SECONDS -ge $deadline ] && cl_die "$what (within $limit s)"
        sleep 0.2
    done
}

# POSTs JSON $2 to /v3/$1 on member $3, or on the first member that
# answers; prints the body.  Status 1 when no member answered with 200.
cl_post() {
    local path=$1 body=$2 only=${3:-} i out code

    for ((i = 1; i <= CL_N; i++)); do
        [ -n "$only" ] && [ "$only" != "$i" ] && continue
        cl_alive "$i" || continue
        out=$(cl_curl -s -m "$CL_CURL_MAX" -w '\n%{http_code}' \
                   -X POST -H 'Content-Type: application/json' \
                   --data-binary "$body" "$(cl_url "$i")/v3/$path" 2>/dev/null) \
            || continue
        code=${out##*$'\n'}
        [ "$code" = 200 ] || continue
        printf '%s\n' "${out%$'\n'*}"
        return 0
    done
    return 1
}

cl_b64() {
    printf '%s' "$1" | base64 -w0
}

cl_unb64() {
    printf '%s' "$1" | base64 -d
}

# prints the field named by the Python expression $1 (over "j") of JSON stdin
cl_json() {
    "$CL_PY" -c "import json,sys; j=json.load(sys.stdin); v=$1; print('' if v is None else v)"
}

cl_put() {
    cl_post kv/put "{\"key\":\"$(cl_b64 "$1")\",\"value\":\"$(cl_b64 "$2")\"}" ${3:-} >/dev/null
}

# the value of key $1 (a linearizable read), or status 1 when absent
cl_get() {
    local out v

    out=$(cl_post kv/range "{\"key\":\"$(cl_b64 "$1")\"}" ${2:-}) || return 2
    v=$(printf '%s' "$out" | cl_json "(j.get('kvs') or [{}])[0].get('value')")
    [ -n "$v" ] || return 1
    cl_unb64 "$v"
}

# the index of the member that is the raft leader (from any live member)
cl_leader() {
    local i st leader id

    for ((i = 1; i <= CL_N; i++)); do
        cl_alive "$i" || continue
        st=$(cl_post maintenance/status '{}' "$i") || continue
        leader=$(printf '%s' "$st" | cl_json "j.get('leader')")
        id=$(printf '%s' "$st" | cl_json "j['header']['member_id']")
        [ "$leader" = "$id" ] && { echo "$i"; return 0; }
    done
    for ((i = 1; i <= CL_N; i++)); do
        cl_alive "$i" || continue
        st=$(cl_post maintenance/status '{}' "$i") || continue
        id=$(printf '%s' "$st" | cl_json "j['header']['member_id']")
        [ "$id" = "$leader" ] && { echo "$i"; return 0; }
    done
    return 1
}

# stops every member still running, by pid (TERM, then KILL after 3 s)
cl_cleanup() {
    local rc=$? i deadline

    for ((i = 1; i <= CL_N; i++)); do
        [ -n "${CL_PID[$i]:-}" ] || continue
        kill -CONT "${CL_PID[$i]}" 2>/dev/null
        kill -TERM "${CL_PID[$i]}" 2>/dev/null
    done
    deadline=$((SECONDS + 3))
    for ((i = 1; i <= CL_N; i++)); do
        [ -n "${CL_PID[$i]:-}" ] || continue
        while kill -0 "${CL_PID[$i]}" 2>/dev/null && [ $SECONDS -lt $deadline ]; do
            sleep 0.1
        done
        kill -KILL "${CL_PID[$i]}" 2>/dev/null
        CL_PID[$i]=
    done
    if [ -n "$CL_DIR" ] && [ -d "$CL_DIR" ]; then
        if [ $rc != 0 ]; then
            for ((i = 1; i <= CL_N; i++)); do
                [ -f "$CL_DIR/m$i.log" ] || continue
                cl_log "m$i.log (last lines):"
                tail -5 "$CL_DIR/m$i.log" | sed 's/^/#   /' >&2
            done
        fi
        [ -n "${CL_KEEP:-}" ] || rm -rf "$CL_DIR"
    fi
    return $rc
}
