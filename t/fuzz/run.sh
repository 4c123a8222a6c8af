#!/usr/bin/env bash
# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
#
# Custom Sender Domains for nginx: build and run the libFuzzer targets.
#
#   t/fuzz/run.sh [options] [seconds-per-target]      (default 60)
#
#   --merge          after each run, merge the inputs that add coverage
#                    into t/fuzz/corpus/<name>/ (never done otherwise)
#   --only a,b       run only these targets (names without "fuzz_")
#   --build-only     build build/fuzz/fuzz_* and stop
#   --jobs N         run N targets at a time (default 1)
#   --list           print the target names
#
# Every target is built with clang-14 -fsanitize=fuzzer,address,undefined
# (UBSan findings abort) against the pure core in src/, into build/fuzz/.
# New inputs found during a run go to build/fuzz/work/<name>/, not to the
# corpus.  The script exits non-zero when any target crashed (a sanitizer
# report, a failed property check, a timeout or an out-of-memory), after
# printing the path of the crashing input: reproduce with
#
#   build/fuzz/fuzz_<name> <path>
#
# Environment: CC (default clang-14), FUZZ_FLAGS (extra libFuzzer flags).

set -u
set -o pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FUZZ_SRC=$ROOT/t/fuzz
OUT=$ROOT/build/fuzz
CC=${CC:-clang-14}

SECONDS_PER_TARGET=60
MERGE=0
ONLY=
BUILD_ONLY=0
JOBS=1

TARGETS="api_body identity from ses_classify ses_xml ses_identity ses_list
         jwt credentials time sigv4 row_view dnswire etcd"

# the pure core: no nginx types (every file in src/core)
CORE="store time identity dns jsonw from sigv4 credentials jwt sesparse backoff
      row quota prom whsign events dnswire diagnose etcd ownership"

usage() {
    sed -n '3,20p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
}

while [ $# -gt 0 ]; do
    case "$1" in
    --merge) MERGE=1 ;;
    --only) shift; ONLY=$(echo "${1:-}" | tr ',' ' ') ;;
    --only=*) ONLY=$(echo "${1#--only=}" | tr ',' ' ') ;;
    --build-only) BUILD_ONLY=1 ;;
    --jobs) shift; JOBS=${1:-1} ;;
    --jobs=*) JOBS=${1#--jobs=} ;;
    --list) echo $TARGETS; exit 0 ;;
    -h|--help) usage ;;
    [0-9]*) SECONDS_PER_TARGET=$1 ;;
    *) echo "run.sh: unknown argument: $1" >&2; usage ;;
    esac
    shift
done

if [ -n "$ONLY" ]; then
    for t in $ONLY; do
        case " $(echo $TARGETS) " in
        *" $t "*) ;;
        *) echo "run.sh: no target \"$t\" (have: $(echo $TARGETS))" >&2
           exit 2 ;;
        esac
    done
    TARGETS=$ONLY
fi

if ! command -v "$CC" >/dev/null 2>&1; then
    echo "run.sh: $CC not found: apt-get install clang-14 libclang-rt-14-dev" \
         "llvm-14" >&2
    exit 2
fi


# ---- build ---------------------------------------------------------------

CFLAGS="-std=gnu99 -g -O1 -fno-omit-frame-pointer -Wall -Wextra
        -Wno-unused-parameter -Werror -D_GNU_SOURCE -I$ROOT/src/core
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
# the core is built without the fuzzer's main: -fsanitize=fuzzer-no-link
CORE_CFLAGS="-std=gnu99 -g -O1 -fno-omit-frame-pointer -I$ROOT/src/core
        -fsanitize=fuzzer-no-link,address,undefined
        -fno-sanitize-recover=undefined"
LIBS="-llmdb -ljansson -lcrypto -lidn2"

mkdir -p "$OUT/obj" "$OUT/work" "$OUT/artifacts" "$OUT/logs"

build() {
    local objs="" name src obj

    for name in $CORE; do
        src=$ROOT/src/core/sd_$name.c
        obj=$OUT/obj/$name.o

        if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] \
           || [ -n "$(find "$ROOT/src/core" -name '*.h' -newer "$obj" 2>/dev/null)" ] \
           || [ "$0" -nt "$obj" ]
        then
            $CC $CORE_CFLAGS -c "$src" -o "$obj" || return 1
        fi

        objs="$objs $obj"
    done

    for name in $TARGETS; do
        src=$FUZZ_SRC/fuzz_$name.c

        if [ ! -x "$OUT/fuzz_$name" ] || [ "$src" -nt "$OUT/fuzz_$name" ] \
           || [ "$FUZZ_SRC/fuzz_common.h" -nt "$OUT/fuzz_$name" ] \
           || [ -n "$(find $objs -newer "$OUT/fuzz_$name")" ] \
           || [ "$FUZZ_SRC/fuzz_ses_classify.c" -nt "$OUT/fuzz_$name" ]
        then
            echo "build: fuzz_$name"
            $CC $CFLAGS -o "$OUT/fuzz_$name" "$src" $objs $LIBS || return 1
        fi
    done
}

if ! build; then
    echo "run.sh: build failed" >&2
    exit 2
fi

if [ "$BUILD_ONLY" = 1 ]; then
    exit 0
fi


# ---- run -----------------------------------------------------------------

# longest input per target: a bearer token may be 8 KiB (and more, to
# reach the size check); a request body is capped at 64 KiB by the API,
# but small bodies cover its paths; the rest are short values
max_len() {
    case "$1" in
    jwt) echo 9000 ;;
    api_body|ses_identity|ses_list|ses_classify|ses_xml|row_view|etcd) echo 8192 ;;
    credentials) echo 8192 ;;
    dnswire) echo 4096 ;;
    *) echo 1024 ;;
    esac
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:symbolize=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run_one() {
    local name=$1 bin=$OUT/fuzz_$1 corpus=$FUZZ_SRC/corpus/$1
    local work=$OUT/work/$1 art=$OUT/artifacts/$1/ log=$OUT/logs/$1.log
    local dict="" rc execs crash

    mkdir -p "$corpus" "$work" "$art"

    if [ -f "$FUZZ_SRC/dict/$name.dict" ]; then
        dict=-dict=$FUZZ_SRC/dict/$name.dict
    fi

    # the first directory receives new inputs: the scratch one
    "$bin" -max_total_time="$SECONDS_PER_TARGET" -max_len="$(max_len "$name")" \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$art" $dict ${FUZZ_FLAGS:-} \
        "$work" "$corpus" >"$log" 2>&1
    rc=$?

    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)

    if [ $rc -ne 0 ]; then
        echo "FAIL fuzz_$name: exit $rc after ${execs:-?} executions" \
             "(log: $log)"
        grep -m 5 -E 'ERROR: |runtime error|property violated|SUMMARY' "$log" \
            | sed 's/^/    /'
        if [ -n "$crash" ]; then
            echo "    crashing input: $crash"
            echo "    reproduce: $bin $crash"
        fi
        return 1
    fi

    echo "ok   fuzz_$name: ${execs:-?} executions in ${SECONDS_PER_TARGET}s," \
         "corpus $(ls "$corpus" | wc -l) + $(ls "$work" | wc -l) new" \
         "(cov $(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2))"

    if [ "$MERGE" = 1 ]; then
        "$bin" -merge=1 -max_len="$(max_len "$name")" "$corpus" "$work" \
            >"$OUT/logs/$name.merge.log" 2>&1 \
            || { echo "FAIL fuzz_$name: merge failed" \
                      "(log: $OUT/logs/$name.merge.log)"; return 1; }
        echo "     merged: corpus now $(ls "$corpus" | wc -l) inputs"
    fi
}

failed=0
running=0
status_dir=$(mktemp -d)
trap 'rm -rf "$status_dir"' EXIT

for name in $TARGETS; do
    if [ "$JOBS" -le 1 ]; then
        run_one "$name" || failed=1
        continue
    fi

    ( run_one "$name" > "$status_dir/$name.out" 2>&1
      echo $? > "$status_dir/$name.rc" ) &
    running=$((running + 1))

    if [ $running -ge "$JOBS" ]; then
        wait -n
        running=$((running - 1))
    fi
done

if [ "$JOBS" -gt 1 ]; then
    wait
    for name in $TARGETS; do
        cat "$status_dir/$name.out"
        [ "$(cat "$status_dir/$name.rc")" = 0 ] || failed=1
    done
fi

if [ $failed -ne 0 ]; then
    echo "run.sh: at least one target crashed (see above)" >&2
    exit 1
fi

echo "run.sh: all targets ran without a crash"
