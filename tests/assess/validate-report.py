#!/usr/bin/python3
"""Validates sipwall assess JSON reports against docs/assess-report.schema.json
(JSON Schema draft 2020-12, python3-jsonschema).

usage: validate-report.py SCHEMA REPORT...   exit 0 all valid, 1 one is not, 2 usage
"""
import json
import sys

import jsonschema


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    with open(argv[1]) as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    v = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    bad = 0
    for path in argv[2:]:
        with open(path) as f:
            report = json.load(f)
        errors = sorted(v.iter_errors(report), key=lambda e: list(e.path))
        for e in errors[:20]:
            loc = "/".join(str(p) for p in e.path)
            print(f"{path}: /{loc}: {e.message[:300]}")
        if errors:
            bad = 1
        else:
            print(f"{path}: valid")
    return bad


if __name__ == "__main__":
    sys.exit(main(sys.argv))
