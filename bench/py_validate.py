#!/usr/bin/env python3
"""What a user would otherwise reach for: Python's jsonschema on JSON Lines.

    py_validate.py validate FILE.jsonl SCHEMA_DIR > VERDICTS
        One verdict per line of FILE, `1` (valid) or `0` (invalid), validated
        with jsonschema.Draft202012Validator (format checker on, like vidspec)
        against SCHEMA_DIR/<model>.json, the schema picked by the line's
        `model` field. A line that is not a JSON object, names no model or
        names one without a schema is invalid. Validators are built once per
        model; the time printed on stderr covers reading, parsing and
        validating every line (interpreter start and imports excluded).

    py_validate.py compare FILE.jsonl VIDSPEC_OUT PYTHON_VERDICTS
        Compares `vidspec check --batch` output (one JSON object per line with
        a boolean `valid`) with the verdicts above, line by line. Prints
        `lines=N agree=A vidspec_valid=V` on stdout and every mismatch (line
        number, both verdicts, the request, first ones only) on stderr; exits
        1 on any mismatch or a line-count difference.
"""

import json
import os
import sys
import time


def validate(path, schema_dir):
    from jsonschema import Draft202012Validator

    validators = {}

    def validator_for(model):
        if model not in validators:
            schema_path = os.path.join(schema_dir, f"{model}.json")
            if isinstance(model, str) and "/" not in model and os.path.isfile(schema_path):
                with open(schema_path, encoding="utf-8") as handle:
                    schema = json.load(handle)
                validators[model] = Draft202012Validator(
                    schema, format_checker=Draft202012Validator.FORMAT_CHECKER
                )
            else:
                validators[model] = None
        return validators[model]

    started = time.perf_counter()
    verdicts = []
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            try:
                request = json.loads(line)
            except ValueError:
                verdicts.append("0")
                continue
            model = request.get("model") if isinstance(request, dict) else None
            validator = validator_for(model) if isinstance(model, str) else None
            verdicts.append("1" if validator is not None and validator.is_valid(request) else "0")
    elapsed = time.perf_counter() - started
    sys.stdout.write("\n".join(verdicts))
    sys.stdout.write("\n")
    print(f"py_validate: {len(verdicts)} lines in {elapsed:.3f} s (loop only)", file=sys.stderr)


def compare(requests_path, vidspec_path, python_path):
    with open(requests_path, encoding="utf-8") as handle:
        requests = handle.read().splitlines()
    with open(vidspec_path, encoding="utf-8") as handle:
        vidspec = []
        for number, line in enumerate(handle, 1):
            try:
                vidspec.append(bool(json.loads(line)["valid"]))
            except (ValueError, KeyError, TypeError) as error:
                sys.exit(f"compare: vidspec output line {number} is not a result object: {error}")
    with open(python_path, encoding="utf-8") as handle:
        python = [line.strip() == "1" for line in handle.read().splitlines()]

    ok = True
    if not len(requests) == len(vidspec) == len(python):
        print(
            f"compare: line counts differ: requests={len(requests)} "
            f"vidspec={len(vidspec)} python={len(python)}",
            file=sys.stderr,
        )
        ok = False
    mismatches = [
        number
        for number, (ours, theirs) in enumerate(zip(vidspec, python), 1)
        if ours != theirs
    ]
    for number in mismatches[:20]:
        request = requests[number - 1] if number <= len(requests) else ""
        if len(request) > 300:
            request = request[:300] + "…"
        print(
            f"mismatch: line {number}: vidspec={'valid' if vidspec[number - 1] else 'invalid'} "
            f"python={'valid' if python[number - 1] else 'invalid'}: {request}",
            file=sys.stderr,
        )
    if len(mismatches) > 20:
        print(f"mismatch: … and {len(mismatches) - 20} more", file=sys.stderr)
    compared = min(len(vidspec), len(python))
    print(f"lines={len(requests)} agree={compared - len(mismatches)} vidspec_valid={sum(vidspec)}")
    if mismatches:
        ok = False
    return 0 if ok else 1


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "validate":
        validate(sys.argv[2], sys.argv[3])
        return 0
    if len(sys.argv) == 5 and sys.argv[1] == "compare":
        return compare(sys.argv[2], sys.argv[3], sys.argv[4])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
