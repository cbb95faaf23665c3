#!/usr/bin/env bash
# Side-by-side comparison: `vidspec check --batch` against Python's jsonschema
# (Draft202012Validator) on the same JSON Lines file of mixed valid and invalid
# requests for every model, each on one core (vidspec with --jobs 1, since by
# default it checks on every core it may use). Checks that both give the same
# verdict on every line (fails on any mismatch) and prints both throughputs and
# their ratio. Goal: `check --batch` >= 300,000 requests/s on one core (the
# `goal:` line). The ratio to Python is printed but is no goal: an earlier goal
# of 50x Python was withdrawn, since the Rust validator alone (the `floor:`
# line below) runs at about 60x.
#
#   bash bench/compare.sh                  # 100,000 lines, seed 5
#   LINES=1000000 SEED=7 RUNS=5 bash bench/compare.sh
#
# Needs cargo, python3 (3.8+) and PyPI (jsonschema is installed into
# bench/.venv, or with `pip install --user` where a venv cannot be made).
# Times are wall-clock times of whole processes (start-up included for both),
# the best of RUNS runs for vidspec; Python runs once (it takes long enough).
#
# A third contender shows the floor: the `raw_batch` example of vidspec-core,
# the Rust jsonschema crate alone doing what the Python script does (parse,
# pick the schema by `model`, is_valid, print a verdict). Its verdicts must
# match too; its throughput is printed on the `floor:` line, so the cost of
# what vidspec adds (modes, diagnostics, the body, the result object) shows.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"

lines="${LINES:-100000}"
seed="${SEED:-5}"
runs="${RUNS:-3}"
work="$here/out"
requests="$work/requests-$lines-$seed.jsonl"
mkdir -p "$work"

say() { printf 'compare: %s\n' "$*" >&2; }

# One core for each contender, when the machine lets us pin.
pin=()
if command -v taskset >/dev/null 2>&1 && taskset -c 0 true 2>/dev/null; then
    pin=(taskset -c 0)
else
    say "taskset is not available: runs are not pinned to one core"
fi

now_ns() { date +%s%N; }

# --- vidspec ---------------------------------------------------------------
say "building vidspec (release)"
cargo build --release --quiet -p vidspec-cli
target_dir="$(cargo metadata --format-version 1 --no-deps 2>/dev/null \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
vidspec="$target_dir/release/vidspec"
cargo build --release --quiet -p vidspec-core --example raw_batch
raw_batch="$target_dir/release/examples/raw_batch"
if ! "$vidspec" check --help 2>/dev/null | grep -q -- '--batch'; then
    say "this vidspec has no \`check --batch\`"
    exit 2
fi

# --- Python and jsonschema -------------------------------------------------
python_with_jsonschema() {
    local venv="$here/.venv"
    if [[ -x "$venv/bin/python" ]] && "$venv/bin/python" -c 'import jsonschema' 2>/dev/null; then
        echo "$venv/bin/python"
        return
    fi
    if python3 -m venv "$venv" >/dev/null 2>&1 && [[ -x "$venv/bin/python" ]]; then
        say "installing jsonschema into bench/.venv"
        if "$venv/bin/python" -m pip install --quiet --disable-pip-version-check jsonschema >&2; then
            echo "$venv/bin/python"
            return
        fi
    fi
    rm -rf "$venv"
    # No venv (python3-venv missing, say): the user's site-packages, allowing
    # an "externally managed" interpreter to take a --user install.
    if ! python3 -c 'import jsonschema' 2>/dev/null; then
        say "installing jsonschema with pip --user"
        local pip=(python3 -m pip install --quiet --disable-pip-version-check --user jsonschema)
        if ! "${pip[@]}" >&2 2>"$work/pip.err"; then
            if grep -q 'externally-managed-environment' "$work/pip.err"; then
                "${pip[@]}" --break-system-packages >&2
            else
                cat "$work/pip.err" >&2
                return 1
            fi
        fi
    fi
    echo python3
}
python="$(python_with_jsonschema)"
say "python: $("$python" -c 'import sys, jsonschema; from importlib.metadata import version; print(sys.version.split()[0], "jsonschema", version("jsonschema"))')"

# --- requests ----------------------------------------------------------------
if [[ ! -s "$requests" ]]; then
    say "generating $lines requests (seed $seed)"
    python3 "$here/gen_requests.py" --lines "$lines" --seed "$seed" --out "$requests.tmp"
    mv "$requests.tmp" "$requests"
fi
count="$(wc -l < "$requests" | tr -d ' ')"

# --- runs ----------------------------------------------------------------------
best_ns=""
for ((run = 1; run <= runs; run++)); do
    start="$(now_ns)"
    status=0
    "${pin[@]}" "$vidspec" check --batch --jobs 1 "$requests" > "$work/vidspec.jsonl" || status=$?
    end="$(now_ns)"
    if ((status != 0 && status != 1)); then
        say "vidspec check --batch exited with $status"
        exit 1
    fi
    elapsed=$((end - start))
    say "vidspec run $run: $(awk -v ns="$elapsed" 'BEGIN { printf "%.3f s", ns / 1e9 }') (exit $status)"
    if [[ -z "$best_ns" ]] || ((elapsed < best_ns)); then
        best_ns="$elapsed"
    fi
done

best_raw_ns=""
for ((run = 1; run <= runs; run++)); do
    start="$(now_ns)"
    "${pin[@]}" "$raw_batch" "$requests" "$root/schemas/models" > "$work/raw.txt"
    end="$(now_ns)"
    elapsed=$((end - start))
    say "raw jsonschema run $run: $(awk -v ns="$elapsed" 'BEGIN { printf "%.3f s", ns / 1e9 }')"
    if [[ -z "$best_raw_ns" ]] || ((elapsed < best_raw_ns)); then
        best_raw_ns="$elapsed"
    fi
done

say "running Python jsonschema (one run)"
start="$(now_ns)"
"${pin[@]}" "$python" "$here/py_validate.py" validate "$requests" "$root/schemas/models" > "$work/python.txt"
end="$(now_ns)"
python_ns=$((end - start))
say "python run: $(awk -v ns="$python_ns" 'BEGIN { printf "%.3f s", ns / 1e9 }')"

# --- verdicts ------------------------------------------------------------------
agreement_status=0
agreement="$("$python" "$here/py_validate.py" compare "$requests" "$work/vidspec.jsonl" "$work/python.txt")" \
    || agreement_status=$?
agree="$(sed -n 's/.*agree=\([0-9]*\).*/\1/p' <<< "$agreement")"
valid="$(sed -n 's/.*vidspec_valid=\([0-9]*\).*/\1/p' <<< "$agreement")"

read -r vidspec_rps python_rps ratio < <(awk -v n="$count" -v v="$best_ns" -v p="$python_ns" \
    'BEGIN { vr = n / (v / 1e9); pr = n / (p / 1e9); printf "%.0f %.0f %.1f\n", vr, pr, vr / pr }')
read -r raw_rps raw_ratio vidspec_vs_raw < <(awk -v n="$count" -v r="$best_raw_ns" -v p="$python_ns" -v v="$best_ns" \
    'BEGIN { rr = n / (r / 1e9); pr = n / (p / 1e9); printf "%.0f %.1f %.2f\n", rr, rr / pr, v / r }')
if ! cmp -s "$work/raw.txt" "$work/python.txt"; then
    say "raw_batch and Python disagree on some verdict (diff $work/raw.txt $work/python.txt)"
    agreement_status=1
fi

cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)"
echo
echo "machine: ${cpu:-unknown cpu}, $(nproc) core(s); pinned: ${pin[*]:-no}"
echo "vidspec: $(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown), best of $runs run(s), $(awk -v ns="$best_ns" 'BEGIN { printf "%.3f", ns / 1e9 }') s"
echo "python:  $("$python" -c 'import sys; from importlib.metadata import version; print("CPython", sys.version.split()[0], "jsonschema", version("jsonschema"))'), $(awk -v ns="$python_ns" 'BEGIN { printf "%.3f", ns / 1e9 }') s"
echo "requests: $count lines, $valid valid, $((count - valid)) invalid (seed $seed)"
echo "floor: raw_rps=$raw_rps raw_ratio=$raw_ratio vidspec_time_over_raw=$vidspec_vs_raw (jsonschema crate alone: parse + is_valid, verdicts only)"
echo "compare: lines=$count agree=$agree vidspec_rps=$vidspec_rps python_rps=$python_rps ratio=$ratio"
goal_rps=300000
if ((vidspec_rps >= goal_rps)); then
    echo "goal: vidspec_rps=$vidspec_rps >= $goal_rps on one core: met"
else
    echo "goal: vidspec_rps=$vidspec_rps < $goal_rps on one core: NOT met"
fi

if ((agreement_status != 0)); then
    say "vidspec and Python disagree (see the mismatches above)"
    exit 1
fi
