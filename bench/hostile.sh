#!/usr/bin/env bash
# Time and peak memory of `vidspec check` on hostile single requests (each
# under the 16 MiB request cap): 1.6 million unknown keys, one million invalid
# array items, a 15 MB model id and a 15 MB unknown key. Prints one line per
# input: wall seconds, peak RSS and the last line vidspec printed.
#
#   bash bench/hostile.sh                          # builds the release binary
#   VIDSPEC=target/debug/vidspec bash bench/hostile.sh
#
# Needs python3 (to write the inputs) and GNU time (/usr/bin/time).
# Figures of 2026-11-25 (2 shared cores, release without LTO), before -> after
# listing at most 100 errors: 1.6 M unknown keys 6.2-7.0 s / 826 MB (text) and
# 7.2 s / 1,079 MB (json) -> 3.8-4.3 s / 301 MB; 15 MB model id 4.5 s -> 0.09 s.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"

if [ -z "${VIDSPEC:-}" ]; then
    cargo build -q --release -p vidspec-cli
    VIDSPEC="$root/target/release/vidspec"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python3 - "$work" <<'PY'
import json, string, sys
work = sys.argv[1]
letters = string.ascii_letters + string.digits
def key(index):
    out = ""
    for _ in range(4):
        out += letters[index % 62]
        index //= 62
    return out
with open(f"{work}/unknown-keys.json", "w") as out:
    out.write('{"model":"Omni-Flash-Ext","prompt":"a fox"')
    for index in range(1_600_000):
        out.write(',"%s":0' % key(index))
    out.write("}")
def write(name, request):
    with open(f"{work}/{name}.json", "w") as out:
        json.dump(request, out)
write("bad-items", {"model": "Omni-Flash-Ext", "prompt": "x", "image_urls": ["ftp://x"] * 1_000_000})
write("long-model-id", {"model": "O" * 15_000_000, "prompt": "x"})
write("long-unknown-key", {"model": "Omni-Flash-Ext", "prompt": "x", "y" * 15_000_000: 1})
PY

for name in unknown-keys bad-items long-model-id long-unknown-key; do
    for format in text json; do
        figures="$( { /usr/bin/time -f '%e s, %M KB peak' "$VIDSPEC" check --format "$format" "$work/$name.json" \
            | tail -c 160 | tail -n 1 > "$work/last"; } 2>&1 | tail -n 1 || true)"
        printf '%-17s %-4s %-22s %s\n' "$name" "$format" "$figures" "$(cut -c1-100 "$work/last")"
    done
done
