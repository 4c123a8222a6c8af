#!/usr/bin/env bash
# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# Backup and restore exactly as docs/operations.md says: the two shell
# blocks marked "t/reliability/backup.sh runs this block" there are read
# from the document and run as they stand, with only the paths moved into a
# temporary directory (/var/lib/nginx/ -> the live or the restored store's
# directory, /var/backups/ -> a backups directory) and the `systemctl` lines
# replaced by stopping and starting this script's own nginx.
#
#   1. nginx runs on a store; a writer adds rows through the API;
#   2. while it writes, the "backup" block runs;
#   3. the live nginx is stopped, the "restore" block restores into a fresh
#      path, and a new nginx starts on it;
#   4. every row acknowledged (201) before the backup began is there, the
#      restored store is owned by the worker user with mode 0600, and the
#      restored nginx takes writes.
#
# Runs its own nginx and SES simulator on free ports; prints
# "N passed, N failed" last and exits non-zero on a failure.
set -euo pipefail

. "$(dirname "$0")/../lib/sd-stack.sh"
sd_stack_init backup
DOC=$ROOT/docs/operations.md

# The documented restore gives the file to Debian's worker user; as root
# the test runs its workers as that user.  Not root: no chown possible, the
# owner check is skipped (said in the output).
WORKER_USER=www-data
if [ "$(id -u)" -ne 0 ]; then
    WORKER_USER=
fi

cleanup() {
    [ -n "${writer:-}" ] && kill "$writer" 2>/dev/null || true
    sd_nginx_stop "$STATE/live.pid" || true
    sd_nginx_stop "$STATE/restored.pid" || true
    [ -n "${sim:-}" ] && kill "$sim" 2>/dev/null || true
    rm -rf "$STATE"
}
trap cleanup EXIT
trap "exit 1" INT TERM

# The fenced block after the marker "t/reliability/backup.sh runs this
# block: $1" in docs/operations.md, paths moved ($2: the store's directory).
doc_block() {
    awk -v want="t/reliability/backup.sh runs this block: $1" '
        index($0, want)                 { found = 1; next }
        found && /^```sh$/              { inside = 1; next }
        inside && /^```$/               { exit }
        inside                          { print }
    ' "$DOC" | sed -e "s#/var/lib/nginx/#$2/#g" -e "s#/var/backups/#$STATE/backups/#g"
}

# nginx on the store in $1 (a directory), pid file $2, port $3
start_nginx() {
    local conf
    conf="$STATE/$(basename "$2" .pid).conf"
    SD_CONF=$conf SD_PID=$2 SD_DB=$1/sender-domains.mdb SD_PORT=$3 \
    SD_MAIN=${WORKER_USER:+user $WORKER_USER;} \
        sd_nginx_conf '    sender_domains_ses_rate 500;'
    "$NGINX_BIN" -p "$STATE" -c "$conf"
}

for cmd in mdb_copy curl; do
    command -v "$cmd" > /dev/null || { echo "FAIL - $cmd is missing (make -f Makefile.dev deps)"; exit 1; }
done

BACKUP_CMDS=$(doc_block backup "$STATE/live")
RESTORE_CMDS=$(doc_block restore "$STATE/restored")
check "docs/operations.md has a backup block (mdb_copy -n)" \
    'grep -q "mdb_copy -n" <<< "$BACKUP_CMDS"'
check "docs/operations.md has a restore block" '[ -n "$RESTORE_CMDS" ]'

mkdir -p "$STATE/logs" "$STATE/live" "$STATE/restored" "$STATE/backups"
sd_sim_start

start_nginx "$STATE/live" "$STATE/live.pid" "$PORT"

H=(-H 'X-WS: acme' -H 'X-Role: admin' -H 'X-Plan: professional' -H 'Content-Type: application/json')

# The writer: one row after the other, each logged with the time its 201
# came back (ns since the epoch).
(
    n=0
    end=$((SECONDS + 5))
    while [ $SECONDS -lt $end ]; do
        code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' "${H[@]}" \
               -d "{\"identity\":\"w$n.example\"}" "http://127.0.0.1:$PORT/api/")
        [ "$code" = 201 ] && echo "$(date +%s%N) w$n.example" >> "$STATE/added"
        n=$((n + 1))
    done
) &
writer=$!

sleep 2
began=$(date +%s%N)
if (cd "$STATE" && bash -euo pipefail -c "$BACKUP_CMDS") > "$STATE/backup.out" 2>&1; then
    backup_rc=0
else
    backup_rc=$?
fi
wait "$writer"
writer=

check "the documented backup ran under write load (exit $backup_rc)" \
    '[ "$backup_rc" -eq 0 ] || { cat "$STATE/backup.out"; false; }'
check "the backup is one file" '[ -f "$STATE/backups/sender-domains.mdb" ]'

before=$(awk -v t="$began" '$1 < t { print $2 }' "$STATE/added" | wc -l)
after=$(awk -v t="$began" '$1 >= t { print $2 }' "$STATE/added" | wc -l)
check "rows were added before ($before) and while or after ($after) the backup began" \
    '[ "$before" -gt 0 ] && [ "$after" -gt 0 ]'

# the troubleshooting command of docs/operations.md, on the live store
claims=$(mdb_dump -n -s claims -p "$STATE/live/sender-domains.mdb" 2>&1 || true)
check "mdb_dump -n -s claims -p reads the live store" 'grep -q "w0.example" <<< "$claims"'

# restore: the systemctl lines are this script's own stop and start
check "the live nginx stops" 'sd_nginx_stop "$STATE/live.pid"'
cmds=$(grep -v '^systemctl ' <<< "$RESTORE_CMDS")
if [ -z "$WORKER_USER" ]; then
    echo "# not root: restoring without -o/-g, the owner is not checked"
    cmds=$(sed 's/ -o [^ ]* -g [^ ]*//' <<< "$cmds")
fi
touch "$STATE/restored/sender-domains.mdb-lock"     # a stale lock, as after a stop
if (cd "$STATE" && bash -euo pipefail -c "$cmds") > "$STATE/restore.out" 2>&1; then
    restore_rc=0
else
    restore_rc=$?
fi
check "the documented restore ran into a fresh path (exit $restore_rc)" \
    '[ "$restore_rc" -eq 0 ] || { cat "$STATE/restore.out"; false; }'

RPORT=$(free_port)
check "nginx starts on the restored store" 'start_nginx "$STATE/restored" "$STATE/restored.pid" "$RPORT"'

lost=0 have=0
while read -r t id; do
    code=$(curl -s -o /dev/null -w '%{http_code}' "${H[@]}" "http://127.0.0.1:$RPORT/api/$id")
    if [ "$code" = 200 ]; then
        have=$((have + 1))
    elif [ "$t" -lt "$began" ]; then
        lost=$((lost + 1)); echo "# lost: $id ($code)"
    fi
done < "$STATE/added"
check "every row acknowledged before the backup is restored ($before rows, lost $lost; $have rows in all)" \
    '[ "$lost" -eq 0 ] && [ "$have" -ge "$before" ]'

code=$(curl -s -o "$STATE/card.json" -w '%{http_code}' "${H[@]}" "http://127.0.0.1:$RPORT/api/")
check "the restored card answers 200 ($code)" '[ "$code" = 200 ]'

code=$(curl -s -o /dev/null -w '%{http_code}' "${H[@]}" -d '{"identity":"after-restore.example"}' "http://127.0.0.1:$RPORT/api/")
check "the restored nginx takes writes ($code)" '[ "$code" = 201 ]'

mode=$(stat -c %a "$STATE/restored/sender-domains.mdb")
owner=$(stat -c %U:%G "$STATE/restored/sender-domains.mdb")
check "the restored store's mode is 600 ($mode)" '[ "$mode" = 600 ]'
if [ -n "$WORKER_USER" ]; then
    check "the restored store belongs to the worker user ($owner)" \
        '[ "$owner" = "$WORKER_USER:$WORKER_USER" ]'
fi
check "no alert, emerg or crash in the error log" \
    '! grep -E "\[alert\]|\[emerg\]|exited on signal" "$STATE/logs/error.log"'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
