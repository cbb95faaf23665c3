#!/usr/bin/env python3
"""Generates a JSON Lines file of mixed valid and invalid video requests.

Templates are the spec cases in tests/cases/<family>/{ok,err}/*.json (read at
run time, so new cases join the mix by themselves). Every line names its model
in a `model` field: Midjourney cases carry none, so they get
`"model": "midjourney-video"` (its schema accepts that selector), and a case of
a family with two model ids (viduq3 / viduq3-mix, veo3.1 fast / quality) also
serves as a template for the sibling id. Each line varies the template in ways
that do not change its verdict: fresh prompt words, image URL paths and
in-range seeds. Non-object cases cannot name a model and are skipped.

Seeded: the same arguments always write the same file.

    python3 bench/gen_requests.py --lines 100000 --seed 5 --out bench/requests.jsonl
"""

import argparse
import glob
import json
import os
import random
import re
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

# The model a case folder is checked against when the case names none.
FAMILY_DEFAULT_MODEL = {"midjourney-video": "midjourney-video"}

WORDS = (
    "a corgi runs through sunflowers at golden hour cinematic slow motion "
    "neon alley rain reflections camera pans left dolly zoom close-up of a "
    "hummingbird over a red flower waves crash on black sand beach drone shot "
    "snowy mountain village at dawn smoke rises from chimneys cat turns its "
    "head toward the lens soft light shallow depth of field"
).split()

URL = re.compile(r"^(https?://example\.com/)([^/?#]+?)(\.[A-Za-z0-9]+)$")


def load_templates(cases_dir, known_models):
    """(model, intended_valid, request) per usable case, siblings included."""
    families = {}
    for path in sorted(glob.glob(os.path.join(cases_dir, "*", "*", "*.json"))):
        kind = os.path.basename(os.path.dirname(path))
        family = os.path.basename(os.path.dirname(os.path.dirname(path)))
        if kind not in ("ok", "err"):
            continue
        with open(path, encoding="utf-8") as handle:
            request = json.load(handle)
        if not isinstance(request, dict):
            continue  # a non-object cannot carry a model field
        if "model" not in request:
            model = FAMILY_DEFAULT_MODEL.get(family)
            if model is None:
                continue
            request = {"model": model, **request}
        families.setdefault(family, []).append((kind == "ok", request))

    templates = []
    for family, cases in sorted(families.items()):
        # The known model ids this family's cases name: siblings of each other.
        ids = sorted(
            {r["model"] for _, r in cases if isinstance(r.get("model"), str)}
            & known_models
        )
        for intended_valid, request in cases:
            named = request.get("model")
            owner = named if named in known_models else (ids[0] if ids else named)
            templates.append((owner, intended_valid, request))
            if named in known_models:
                for sibling in ids:
                    if sibling != named:
                        templates.append((sibling, None, {**request, "model": sibling}))
    return templates


def prompt(rng, length_hint):
    target = max(8, min(160, length_hint + rng.randint(-20, 20)))
    out = []
    while len(" ".join(out)) < target:
        out.append(rng.choice(WORDS))
    return " ".join(out)


def vary(rng, value, key=None):
    """A copy of `value` with verdict-neutral changes."""
    if isinstance(value, dict):
        return {k: vary(rng, v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [vary(rng, item, key) for item in value]
    if isinstance(value, str):
        if key in ("prompt", "negative_prompt") and 0 < len(value) <= 200 and value.strip():
            return prompt(rng, len(value))
        match = URL.match(value)
        if match:
            stem = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(10))
            return f"{match.group(1)}{stem}{match.group(3)}"
        return value
    if key == "seed" and isinstance(value, int) and not isinstance(value, bool):
        if 0 <= value <= 2147483647:
            return rng.randint(0, 2147483647)
    return value


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--valid-share", type=float, default=0.7,
                        help="share of lines drawn from ok/ cases (default 0.7)")
    parser.add_argument("--cases", default=os.path.join(ROOT, "tests", "cases"))
    parser.add_argument("--schemas", default=os.path.join(ROOT, "schemas", "models"))
    parser.add_argument("--out", default="-")
    args = parser.parse_args()

    known = {os.path.splitext(os.path.basename(p))[0]
             for p in glob.glob(os.path.join(args.schemas, "*.json"))}
    templates = load_templates(args.cases, known)
    by_model = {}
    for model, intended_valid, request in templates:
        if model not in known:
            continue
        bucket = by_model.setdefault(model, {True: [], False: [], None: []})
        bucket[intended_valid].append(request)
    models = sorted(by_model)
    missing = sorted(known - set(models))
    if missing:
        sys.exit(f"gen_requests: no case templates for {', '.join(missing)}")

    rng = random.Random(args.seed)
    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")
    with out:
        for _ in range(args.lines):
            bucket = by_model[rng.choice(models)]
            want_valid = rng.random() < args.valid_share
            pool = bucket[want_valid] or bucket[None] or bucket[not want_valid]
            if bucket[None] and rng.random() < 0.15:
                pool = bucket[None]  # sibling-derived templates, verdict not known in advance
            request = vary(rng, rng.choice(pool))
            out.write(json.dumps(request, ensure_ascii=False, separators=(",", ":")))
            out.write("\n")
    print(
        f"gen_requests: {args.lines} lines, {len(models)} models, "
        f"{len(templates)} templates, seed {args.seed}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
