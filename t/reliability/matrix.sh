#!/usr/bin/env bash
# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# The nginx version matrix (docs/building.md, "Supported nginx versions").
#
# For each nginx source tree: build nginx with the module as a dynamic module
# (--add-dynamic-module, -Werror), run the Test::Nginx suite against that
# nginx binary with that .so, then build it once more with the module linked
# in statically (--add-module, -Werror) and run a smoke test against it.
#
# The trees:
#   * Debian's nginx 1.22.1 (package nginx-dev): always; nginx-dev has the
#     headers and build scripts but not nginx's .c files, so the module alone
#     is built (Debian's configure flags) and tested with /usr/sbin/nginx;
#   * every nginx-X.Y.Z.tar.gz or nginx-X.Y.Z/ directory in $NGINX_SRC_DIR
#     (default t/nginx-src/: the tarballs kept in the repository, see its
#     README.md);
#   * every tree or tarball named in $NGINX_SRC (space-separated): always
#     honoured, and a missing one is an error.
#
# Which tests: the full suite against Debian's 1.22.1 and against the newest
# version found (the newest mainline), the smoke subset ($SMOKE) against the
# others.  MATRIX_FULL=all runs the full suite everywhere, MATRIX_FULL=none
# only the smoke subset.  MATRIX_STATIC=none skips the static builds,
# MATRIX_STATIC=ends builds statically only the oldest and newest tarballs.
# MATRIX_DEBIAN=smoke runs only the smoke subset against Debian's nginx (what
# `make test` does: its `prove` step has just run the full suite there);
# MATRIX_DEBIAN=none leaves Debian's out (to test one tree: NGINX_SRC=…).
#
# Builds run one at a time, under nice, with `make -j${MATRIX_JOBS:-1}`: the
# machine is shared.  The result table goes to build/matrix/results.md.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${MATRIX_DIR:-$ROOT/build/matrix}
SRC_DIR=${NGINX_SRC_DIR:-$ROOT/t/nginx-src}
DEBIAN_SRC=${DEBIAN_NGINX_SRC:-/usr/share/nginx/src}
JOBS=${MATRIX_JOBS:-1}
FULL=${MATRIX_FULL:-ends}
STATIC=${MATRIX_STATIC:-each}
DEBIAN_SUITE=${MATRIX_DEBIAN:-full}
SMOKE=${SMOKE:-t/001-directives.t t/002-card.t t/010-add-domain.t t/032-resolve.t}
EXPECTED="1.24.0 1.26.3 1.28.3 1.30.4 1.31.4"

# Debian's own flags (dpkg-buildflags) plus -Werror: a warning fails the build.
CC_OPT="-g -O2 -fstack-protector-strong -Wformat -Werror=format-security \
-fPIC -Wdate-time -D_FORTIFY_SOURCE=2 -Werror"
LD_OPT="-Wl,-z,relro -Wl,-z,now -fPIC"

# What the suite needs besides the defaults (a subset of Debian's build).
CONF_FLAGS=(--with-compat --with-debug --with-threads --with-pcre-jit
            --with-http_ssl_module --with-http_stub_status_module
            --with-http_realip_module --with-http_auth_request_module
            --with-http_v2_module --with-http_sub_module)

mkdir -p "$OUT"
RESULTS=$OUT/results.md
: > "$OUT/rows"

log() { printf 'matrix: %s\n' "$*"; }
now() { date +%s; }

# name<TAB>source, one per tree, oldest first
trees=()
if [ "$DEBIAN_SUITE" = none ]; then
    log "Debian's nginx skipped (MATRIX_DEBIAN=none)"
elif [ -f "$DEBIAN_SRC/src/core/nginx.h" ]; then
    v=$(sed -n 's/^#define NGINX_VERSION *"\(.*\)"/\1/p' "$DEBIAN_SRC/src/core/nginx.h")
    trees+=("$v-debian	$DEBIAN_SRC")
else
    log "Debian's nginx sources ($DEBIAN_SRC) are missing: apt-get install nginx-dev"
    exit 1
fi

missing=""
if [ -d "$SRC_DIR" ]; then
    for v in $EXPECTED; do
        if [ -e "$SRC_DIR/nginx-$v.tar.gz" ]; then
            trees+=("$v	$SRC_DIR/nginx-$v.tar.gz")
        elif [ -d "$SRC_DIR/nginx-$v" ]; then
            trees+=("$v	$SRC_DIR/nginx-$v")
        else
            missing="$missing $v"
        fi
    done
else
    missing=" $EXPECTED"
    log "no nginx source trees at $SRC_DIR (set NGINX_SRC_DIR or NGINX_SRC)"
fi

for s in ${NGINX_SRC:-}; do
    if [ ! -e "$s" ]; then
        log "NGINX_SRC: $s does not exist"
        exit 1
    fi
    v=$(basename "$s" | sed -n 's/^nginx-\([0-9][0-9.]*[0-9]\)\(\.tar\.gz\)\{0,1\}$/\1/p')
    [ -n "$v" ] || v=$(basename "$s")
    trees+=("$v	$s")
    missing=$(echo "$missing" | sed "s/ $v\b//")
done

# the newest version gets the full suite
newest=$(printf '%s\n' "${trees[@]}" | cut -f1 | sed 's/-debian$//' | sort -V | tail -1)
# and the oldest tarball, with the newest, a static build under
# MATRIX_STATIC=ends (the middle versions' static builds add little: the
# same module code, between two that pass)
oldest=$(printf '%s\n' "${trees[@]}" | cut -f1 | grep -v -- '-debian$' | sort -V | head -1)

# unpack or copy a tree into $1, print the configure script to use
prepare() {
    local src=$1 dst=$2
    rm -rf "$dst"
    mkdir -p "$dst"
    if [ -d "$src" ]; then
        cp -r "$src/." "$dst/"
    else
        tar xzf "$src" -C "$dst" --strip-components=1
    fi
    # the repository layout has auto/configure, a release tarball ./configure
    if [ -x "$dst/configure" ]; then
        echo ./configure
    else
        echo auto/configure
    fi
}

# build <tree-dir> <configure> <dynamic|static|debian> <log>
build() {
    local dir=$1 conf=$2 kind=$3 blog=$4 add
    if [ "$kind" = debian ]; then
        # nginx-dev ships headers and build scripts, not nginx's .c files:
        # the module alone, with Debian's own configure flags, for
        # Debian's /usr/sbin/nginx
        (
            cd "$dir" &&
            . ./conf_flags &&
            nice ./configure "${NGX_CONF_FLAGS[@]}" \
                --with-cc-opt="$CC_OPT" --with-ld-opt="$LD_OPT" \
                --add-dynamic-module="$ROOT" &&
            nice make -j"$JOBS" -f objs/Makefile modules
        ) > "$blog" 2>&1
        return
    fi
    if [ "$kind" = dynamic ]; then
        add=--add-dynamic-module=$ROOT
    else
        add=--add-module=$ROOT
    fi
    (
        cd "$dir" &&
        nice $conf --prefix="$dir/prefix" "${CONF_FLAGS[@]}" \
            --with-cc-opt="$CC_OPT" --with-ld-opt="$LD_OPT" "$add" &&
        nice make -j"$JOBS" -f objs/Makefile
    ) > "$blog" 2>&1
}

# suite <nginx> <module or ""> <log> <files...>; prints "passed/total"
suite() {
    local bin=$1 mod=$2 tlog=$3
    shift 3
    (
        cd "$ROOT" &&
        TEST_NGINX_BINARY=$bin TEST_NGINX_LOAD_MODULES=$mod \
        TEST_NGINX_RANDOMIZE=1 TEST_NGINX_RESPONSE_LOG=$OUT/responses.jsonl \
            nice prove -I t/lib --rc=t/parallel.proverc "$@"
    ) > "$tlog" 2>&1
}

summary() {  # the prove summary line of a log
    grep -E '^(Result|Files=)' "$1" | tr '\n' ' ' | sed 's/ *$//'
}

fail=0
for t in "${trees[@]}"; do
    name=${t%%	*}
    src=${t#*	}
    v=${name%-debian}
    dir=$OUT/nginx-$name
    log "nginx $name from $src"

    conf=$(prepare "$src" "$dir")

    kind=dynamic bin=$dir/nginx-dynamic
    if [ "$name" != "$v" ]; then
        kind=debian bin=/usr/sbin/nginx
    fi

    start=$(now)
    if build "$dir" "$conf" $kind "$OUT/build-$name-dynamic.log"; then
        dyn="ok ($(( $(now) - start )) s)"
        [ $kind = debian ] && dyn="module only, for $bin: $dyn"
    else
        dyn="FAILED (build-$name-dynamic.log)"
        tail -30 "$OUT/build-$name-dynamic.log"
        fail=1
    fi
    log "  dynamic build: $dyn"

    tests="-"
    if [ "${dyn%%FAILED*}" = "$dyn" ]; then
        [ $kind = dynamic ] && cp "$dir/objs/nginx" "$bin"
        if [ "$name" != "$v" ] && [ "$DEBIAN_SUITE" = smoke ]; then
            files=$SMOKE
            which="smoke (full suite: make prove)"
        elif [ "$FULL" = all ] || { [ "$FULL" = ends ] && \
               { [ "$name" != "$v" ] || [ "$v" = "$newest" ]; }; }; then
            files=$(cd "$ROOT" && ls t/*.t)
            which=full
        else
            files=$SMOKE
            which=smoke
        fi
        rm -f "$OUT/responses.jsonl"
        start=$(now)
        # shellcheck disable=SC2086
        suite "$bin" "$dir/objs/ngx_http_sender_domains_module.so" \
              "$OUT/test-$name.log" $files
        rc=$?
        tests="$which: $(summary "$OUT/test-$name.log") ($(( $(now) - start )) s)"
        if [ $rc -ne 0 ]; then
            fail=1
            tests="$tests FAILED (test-$name.log)"
            grep -E '^(not ok|#   Failed|t/.*(Dubious|Failed))' "$OUT/test-$name.log" | head -20
        fi
        log "  tests: $tests"
    fi

    stat="-"
    if [ $kind = debian ]; then
        stat="- (nginx-dev has no nginx .c files)"
    elif [ "$STATIC" = each ] || { [ "$STATIC" = ends ] && \
             { [ "$name" = "$newest" ] || [ "$name" = "$oldest" ]; }; }; then
        start=$(now)
        if build "$dir" "$conf" static "$OUT/build-$name-static.log"; then
            stat="ok ($(( $(now) - start )) s)"
            # linked in: no load_module, the smoke test of the directives
            if ! suite "$dir/objs/nginx" "" "$OUT/test-$name-static.log" \
                       t/001-directives.t; then
                stat="$stat, t/001 FAILED (test-$name-static.log)"
                fail=1
            else
                stat="$stat, t/001 $(summary "$OUT/test-$name-static.log" | sed 's/^.*Result: //')"
            fi
        else
            stat="FAILED (build-$name-static.log)"
            tail -30 "$OUT/build-$name-static.log"
            fail=1
        fi
        log "  static build: $stat"
    fi

    printf '| %s | %s | %s | %s |\n' "$name" "$dyn" "$tests" "$stat" >> "$OUT/rows"
    rm -rf "$dir/prefix"
done

{
    echo "| nginx | dynamic build (-Werror) | Test::Nginx suite | static build, t/001 |"
    echo "|---|---|---|---|"
    cat "$OUT/rows"
    if [ -n "${missing// /}" ]; then
        echo
        echo "Not tested (no source tree here):$missing"
    fi
} > "$RESULTS"

echo
cat "$RESULTS"
if [ -n "${missing// /}" ]; then
    log "NOT TESTED, no source tree at $SRC_DIR:$missing (NGINX_SRC=... or NGINX_SRC_DIR=...)"
fi
[ $fail -eq 0 ] && log "all built trees passed" || log "FAILURES above"
exit $fail
