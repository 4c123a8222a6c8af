#!/usr/bin/env bash
# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
#
# Custom Sender Domains for nginx: the Test::Nginx suite under valgrind
# (memcheck), with t/valgrind.suppress.
#
#   t/reliability/valgrind.sh [--build-only] [--quick|--all] [test files...]
#
# Builds the module with gcc and Makefile.dev's flags (-g -O2 ...) into
# build/valgrind/ (build/nginx is left to `make -f Makefile.dev build`),
# then runs prove with TEST_NGINX_USE_VALGRIND set to
#
#   --tool=memcheck --leak-check=full --error-exitcode=99
#   --keep-debuginfo=yes
#   --show-leak-kinds=definite,indirect,possible
#   --errors-for-leak-kinds=definite,indirect
#
# (the runner adds -q --num-callers=100 --log-file=... and
# --suppressions=t/valgrind.suppress --gen-suppressions=all).  Why not the
# runner's own TEST_NGINX_USE_VALGRIND=1:
#   - it passes --show-possibly-lost=no but leaves "possibly lost" in
#     valgrind's default --errors-for-leak-kinds, so a possibly-lost block
#     makes nginx exit 99 and fails the block with an empty report;
#   - without --keep-debuginfo=yes the module's frames print as "???":
#     nginx dlclose()s the module before valgrind's exit-time leak check,
#     so a module leak could not even be recognised as one.
# Set TEST_NGINX_USE_VALGRIND yourself (1 included) to use other options.
#
# A block fails on an invalid access, a use of an uninitialised value, a
# definite or indirect leak, an overlap, a bad syscall argument or a
# valgrind abort (t/lib/Test/Nginx/Socket.pm, _stop_nginx: nginx exits
# 99, and the report is printed under the block).
#
# t/valgrind.suppress holds only nginx's own exit-time leaks and library
# initialisation noise; every entry is anchored so that no stack through
# ngx_http_sender_domains_* or sd_* can match it.  This script checks that
# (a suppression naming a module frame, or an unanchored "..." entry over
# libcrypto/libcurl, makes it stop) and, after the run, greps the valgrind
# output the runner printed for any report whose stack holds a module
# frame, so such a report fails the run even in a block that passed.
#
# Which tests (default): every t/*.t except t/000-runner.t, the runner's
# self-test against stock nginx.  (t/023 and t/061 SIGKILL workers that
# SdTest::worker_pids() finds as the master's children, whatever their
# process name: "memcheck-amd64-" under valgrind.)
# That is about 7 minutes on 2 cores.  --quick runs a representative
# subset (QUICK below: API and JSON, SES calls over libcurl and their
# failures, refresher, lease and reload, resolver, JWT, bad input) in
# about 4 minutes; --all is the default.  Or name the files.
#
# "possibly lost" blocks are shown but are not errors: with master_process
# off (the runner's default) nginx exit()s at once on SIGQUIT, so a
# request or SES call still in flight at the end of a block leaves its
# pool, jansson rows and curl handle "possibly lost".  A finished request
# leaves nothing (such blocks pass).  VALGRIND_STRICT=1 counts them too.
#
# Two files at a time (t/parallel.proverc, which keeps the timing-bound
# files apart; docs/building.md, "CI time", has the figures).
#
# Environment: NGINX_BIN (/usr/sbin/nginx), PROVE_ARGS (default
# --rc=t/parallel.proverc; empty: one file at a time), TEST_NGINX_TIMEOUT
# (default 15 here), VALGRIND_STRICT.

set -u
set -o pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$ROOT/build/valgrind
NGX_SRC=${NGX_SRC:-/usr/share/nginx/src}
NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}
MODULE=$BUILD/nginx/objs/ngx_http_sender_domains_module.so
SUPP=$ROOT/t/valgrind.suppress
OUT=$BUILD/prove.log

QUICK="t/002-card.t t/010-add-domain.t t/011-add-address.t
        t/012-sender-name.t t/013-delete.t t/014-legacy.t t/020-ses-faults.t
        t/030-refresher.t t/031-refresher-lease.t t/032-resolve.t
        t/040-jwt.t t/050-bad-input.t"

BUILD_ONLY=0
SELECT=default

while [ $# -gt 0 ]; do
    case "$1" in
    --build-only) BUILD_ONLY=1 ;;
    --quick) SELECT=quick ;;
    --all|--full) SELECT=all ;;
    -*) echo "valgrind.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
    esac
    shift
done

die() { echo "valgrind.sh: $*" >&2; exit 2; }

command -v valgrind >/dev/null || die "valgrind not found (apt-get install valgrind)"


# ---- the suppressions must not be able to hide the module ----------------

[ -f "$SUPP" ] || die "$SUPP is missing"

if grep -nE '(fun|obj):.*(ngx_http_sender_domains|sd_)' "$SUPP"; then
    die "$SUPP names a module frame (above): module reports must fail"
fi

# an entry may start with "..." only if the frames after it anchor it in
# nginx's or a library's own start-up code (checked by eye: the file says
# why for each); here we only refuse the catch-all form "malloc ... obj:lib"
if awk '/^{/ { n = 0; dots = 0; next }
        /^}/ { next }
        { n++ }
        n >= 3 && /^ *\.\.\. *$/ { dots = 1 }
        dots && /^ *obj:.*lib(crypto|curl|ssl)/ { bad = 1 }
        END { exit !bad }' "$SUPP"
then
    die "$SUPP has an entry ending in \"... obj:libcrypto/libcurl\": it" \
        "could hide a leak of the module through those libraries"
fi


# ---- build ---------------------------------------------------------------

mkdir -p "$BUILD"

if [ ! -f "$BUILD/nginx/objs/Makefile" ] || [ "$ROOT/config" -nt "$BUILD/nginx/objs/Makefile" ] \
   || [ "$0" -nt "$BUILD/nginx/objs/Makefile" ]
then
    echo "valgrind.sh: configuring nginx in $BUILD/nginx"
    rm -rf "$BUILD/nginx"
    cp -r "$NGX_SRC" "$BUILD/nginx" || die "cannot copy $NGX_SRC"
    ( cd "$BUILD/nginx" && ./configure --with-compat --with-debug \
          --with-cc-opt='-g -O2 -fstack-protector-strong -Wformat -Werror=format-security -fPIC -Wdate-time -D_FORTIFY_SOURCE=2' \
          --with-ld-opt='-Wl,-z,relro -Wl,-z,now -fPIC' \
          --add-dynamic-module="$ROOT" ) > "$BUILD/configure.log" 2>&1 \
        || { tail -30 "$BUILD/configure.log"; die "configure failed"; }
fi

make -C "$BUILD/nginx" -f objs/Makefile modules > "$BUILD/make.log" 2>&1 \
    || { tail -40 "$BUILD/make.log"; die "build failed (log: $BUILD/make.log)"; }

echo "valgrind.sh: module $MODULE"

[ "$BUILD_ONLY" = 1 ] && exit 0


# ---- run -------------------------------------------------------------------

if [ $# -eq 0 ]; then
    case $SELECT in
    quick) set -- $QUICK ;;
    *) set -- $(cd "$ROOT" && ls t/*.t | grep -v '^t/000-runner\.t$') ;;
    esac
fi

start=$(date +%s)

# the runner looks for t/valgrind.suppress relative to the current directory
VG_OPTS="--tool=memcheck --leak-check=full --error-exitcode=99
         --keep-debuginfo=yes
         --show-leak-kinds=definite,indirect,possible
         --errors-for-leak-kinds=definite,indirect${VALGRIND_STRICT:+,possible}"
export TEST_NGINX_USE_VALGRIND=${TEST_NGINX_USE_VALGRIND:-$(echo $VG_OPTS)}

# valgrind makes nginx 20-50 times slower: a card of many rows takes more
# than the runner's default 3 s client timeout (t/060)
export TEST_NGINX_TIMEOUT=${TEST_NGINX_TIMEOUT:-15}

cd "$ROOT" && \
    TEST_NGINX_RANDOMIZE=1 \
    TEST_NGINX_BINARY="$NGINX_BIN" TEST_NGINX_LOAD_MODULES="$MODULE" \
    prove -I t/lib ${PROVE_ARGS-"--rc=t/parallel.proverc"} "$@" 2>&1 | tee "$OUT"
prove_rc=$?

echo "valgrind.sh: prove exit $prove_rc after $(( $(date +%s) - start ))s" \
     "(output: $OUT)"

# the runner prints valgrind's report after each block ("... - valgrind:");
# a report whose stack goes through the module is a failure whatever the
# block's own verdict (say, an error in a block that expected a crash)
blocks=$(grep -c -- ' - valgrind:$' "$OUT")

# one line per valgrind report through the module: "<kind>\t<first line>"
module_reports=$(perl -ne '
    sub done { print "$hdr\n" if $hit && $hdr ne ""; ($hdr, $hit) = ("", 0) }
    if (/ - valgrind:$/) { done(); $in = 1; next }
    if ($in && !/^# /) { done(); $in = 0 }
    next unless $in;
    next if /^#\s+[{}]\s*$/ || /^#\s{3,}(fun|obj|Memcheck|match-leak|<insert)/;
    if (/^# ==\d+==\s*$/) { done(); next }
    if (/^# ==\d+== (.*\S.*)$/) {
        my $l = $1;
        $hdr = $l if $hdr eq "" && $l !~ /^\s*(at|by) /;
        $hit = 1 if $l =~ /ngx_http_sender_domains|\bsd_[a-z0-9_]+\b/;
    }
    END { done() }
' "$OUT" | sed 's/[0-9,]* bytes/N bytes/g; s/[0-9,]* blocks/N blocks/g;
               s/(N direct, N indirect) //; s/ in loss record [0-9]* of [0-9]*//')

if [ -n "${VALGRIND_STRICT:-}" ]; then
    fatal=$(echo "$module_reports" | grep -v '^$' | sort | uniq -c | sort -rn)
    possible=0
else
    fatal=$(echo "$module_reports" | grep -v -e '^$' -e 'possibly lost' \
            | sort | uniq -c | sort -rn)
    possible=$(echo "$module_reports" | grep -c 'possibly lost')
fi

echo "valgrind.sh: $blocks block(s) with valgrind output"

if [ "$possible" -gt 0 ]; then
    # master_process off: on SIGQUIT nginx exit()s at once, so whatever a
    # request still in flight holds (its pool, the module's jansson rows
    # and curl handles) is "possibly lost"; not a leak of a finished request
    echo "valgrind.sh: note: $possible \"possibly lost\" report(s) through" \
         "the module, from blocks that ended with a request in flight" \
         "(not counted as errors; see docs/reliability.md); blocks with output:"
    grep -- ' - valgrind:$' "$OUT" | sed 's/^# /    /; s/ - valgrind:$//' \
        | head -20
fi

if [ -n "$fatal" ]; then
    echo "valgrind.sh: FAIL: valgrind errors or leaks through the module's code:"
    echo "$fatal" | head -40
    exit 1
fi

[ $prove_rc -eq 0 ] || { echo "valgrind.sh: FAIL (prove)"; exit 1; }

echo "valgrind.sh: no valgrind errors, no leaks in the module"
exit 0
