#!/usr/bin/env bash
# Fuzz each target for MINUTES (default 5), one after another, one fuzz process at a time:
#
#     fuzz/run.sh [MINUTES] [TARGET...]        e.g.  fuzz/run.sh 30 xmp_regions
#     FUZZ_RUNS=1000000 fuzz/run.sh 30         stop a target at 1 M executions or 30 min
#
# Needs `cargo install cargo-fuzz --locked` and a C++ compiler (libFuzzer). Runs on stable Rust:
# RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass its -Z flags, with AddressSanitizer (FUZZ_SANITIZER=none
# for plain libFuzzer). Builds into fuzz/target only. Seeds: fuzz/seeds/<target>/ (copied into
# the working corpus fuzz/corpus/<target>/, not committed). Prints executions per target and
# exits non-zero when any target crashed; the input is then in fuzz/artifacts/<target>/.
set -uo pipefail
cd "$(dirname "$0")"
MINUTES=${1:-5}
shift $(($# > 0 ? 1 : 0))
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(xmp_regions sidecar_merge exif raw_previews heif_avif)
export RUSTC_BOOTSTRAP=1
# The app links mimalloc with its malloc override, which breaks AddressSanitizer (a segfault in
# __asan_init) and would hide the heap from it. -D_DLL turns off mimalloc's alloc-override.c,
# for this build only: the fuzz targets allocate with ASan's malloc.
export CFLAGS="-D_DLL${CFLAGS:+ $CFLAGS}"
SAN=(--sanitizer "${FUZZ_SANITIZER:-address}")
RUNS=${FUZZ_RUNS:--1}
NICE=(nice -n 19)

"${NICE[@]}" cargo fuzz build "${SAN[@]}" || exit 2
failed=()
for t in "${TARGETS[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    for s in "seeds/$t/"*; do [ -e "corpus/$t/${s##*/}" ] || cp "$s" "corpus/$t/"; done
    dict=()
    case $t in xmp_regions | sidecar_merge) dict=(-dict=dicts/xmp.dict) ;; esac
    log="artifacts/$t/last-run.log"
    echo "== $t: up to $MINUTES min${FUZZ_RUNS:+ or $RUNS runs}"
    # libFuzzer runs one process unless -jobs/-workers/-fork ask for more (none are given).
    "${NICE[@]}" cargo fuzz run "${SAN[@]}" "$t" "corpus/$t" -- \
        -max_total_time=$((MINUTES * 60)) -runs="$RUNS" -timeout=30 -rss_limit_mb=3072 \
        -print_final_stats=1 "${dict[@]}" 2>&1 | tee "$log" | grep -E '^(==|INFO: Seed|#[0-9]+ +(INITED|DONE)|SUMMARY|Done)|panicked|ERROR' 
    rc=${PIPESTATUS[0]}
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    secs=$(sed -n 's/.*Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
    echo "== $t: ${execs:-?} executions in ${secs:-?} s (${rate:-?} exec/s), exit $rc"
    [ "$rc" -eq 0 ] || failed+=("$t")
done
[ ${#failed[@]} -eq 0 ] || { echo "CRASHED: ${failed[*]} (inputs in fuzz/artifacts/)"; exit 1; }
