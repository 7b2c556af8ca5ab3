#!/usr/bin/env python3
"""Checks a Prometheus text exposition (format 0.0.4) beyond `promtool check
metrics`, which accepts duplicate series and histograms without +Inf:

  metrics_check.py check FILE [NAME...]
      every sample belongs to a family declared by # HELP and # TYPE lines
      (once each), no series appears twice, every histogram series has
      _bucket{le="+Inf"} equal to its _count and non-decreasing buckets,
      the text ends with a newline, and every NAME (a family) is present.
  metrics_check.py monotonic BEFORE AFTER
      every counter series (and histogram _bucket/_sum/_count) of BEFORE is
      in AFTER with a value not lower.
  metrics_check.py value FILE NAME [LABEL=VALUE...]
      prints the sum of NAME's samples whose labels match (0 when none).
  metrics_check.py grafana DASHBOARD FILE
      every metric name used in the dashboard's expressions is a family
      (or a histogram's _bucket/_sum/_count) of FILE.
Exit 0 when all holds, 1 with a reason per problem on stderr."""
import json
import re
import sys

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


def parse(path):
    text = open(path, encoding="utf-8").read()
    problems = []
    if text and not text.endswith("\n"):
        problems.append("no final newline")
    types, helps, samples = {}, {}, []
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith("# HELP "):
            name = line.split(" ", 3)[2]
            if name in helps:
                problems.append("line %d: second HELP for %s" % (n, name))
            helps[name] = n
        elif line.startswith("# TYPE "):
            parts = line.split(" ")
            if parts[2] in types:
                problems.append("line %d: second TYPE for %s" % (n, parts[2]))
            types[parts[2]] = parts[3]
        elif line.startswith("#") or not line:
            continue
        else:
            m = SAMPLE.match(line)
            if not m:
                problems.append("line %d: not a sample: %s" % (n, line[:80]))
                continue
            labels, rest = [], m.group(3) or ""
            pos = 0
            while pos < len(rest):
                lm = LABEL.match(rest, pos)
                if not lm:
                    problems.append("line %d: bad labels: %s" % (n, rest[:80]))
                    break
                labels.append((lm.group(1), lm.group(2)))
                pos = lm.end()
            samples.append((n, m.group(1), tuple(labels), float(m.group(4))))
    return types, helps, samples, problems


def family_of(name, types):
    if name in types:
        return name
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and types.get(name[: -len(suffix)]) == "histogram":
            return name[: -len(suffix)]
    return None


def check(path, names):
    types, helps, samples, problems = parse(path)
    seen = set()
    hist = {}
    for n, name, labels, value in samples:
        fam = family_of(name, types)
        if fam is None:
            problems.append("line %d: %s has no # TYPE" % (n, name))
            continue
        if fam not in helps:
            problems.append("line %d: %s has no # HELP" % (n, fam))
        key = (name, tuple(sorted(labels)))
        if key in seen:
            problems.append("line %d: duplicate series %s%s" % (n, name, dict(labels)))
        seen.add(key)
        if types[fam] == "counter" and value < 0:
            problems.append("line %d: negative counter" % n)
        if types[fam] == "histogram":
            base = tuple(sorted(l for l in labels if l[0] != "le"))
            h = hist.setdefault((fam, base), {"buckets": [], "count": None})
            if name.endswith("_bucket"):
                le = dict(labels).get("le")
                h["buckets"].append((float(le) if le != "+Inf" else float("inf"), value))
            elif name.endswith("_count"):
                h["count"] = value
    for (fam, base), h in hist.items():
        b = h["buckets"]
        inf = [v for le, v in b if le == float("inf")]
        if not inf:
            problems.append('%s%s: no le="+Inf" bucket' % (fam, dict(base)))
        elif h["count"] is None or inf[0] != h["count"]:
            problems.append('%s%s: le="+Inf" %s != _count %s' % (fam, dict(base), inf[0], h["count"]))
        vals = [v for _, v in sorted(b)]
        if vals != sorted(vals):
            problems.append("%s%s: buckets not cumulative" % (fam, dict(base)))
    for name in names:
        if name not in types:
            problems.append("required family %s missing" % name)
    return problems


def counters(path):
    types, _, samples, _ = parse(path)
    out = {}
    for _, name, labels, value in samples:
        fam = family_of(name, types)
        if fam and types[fam] in ("counter", "histogram"):
            out[(name, tuple(sorted(labels)))] = value
    return out


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "check" and len(argv) >= 3:
        problems = check(argv[2], argv[3:])
    elif cmd == "monotonic" and len(argv) == 4:
        a, b = counters(argv[2]), counters(argv[3])
        problems = []
        for key, v in sorted(a.items()):
            if key not in b:
                problems.append("series %s%s gone" % (key[0], dict(key[1])))
            elif b[key] < v:
                problems.append("%s%s went back: %s -> %s" % (key[0], dict(key[1]), v, b[key]))
        if not a:
            problems.append("no counters in %s" % argv[2])
    elif cmd == "value" and len(argv) >= 4:
        want = dict(a.split("=", 1) for a in argv[4:])
        _, _, samples, _ = parse(argv[2])
        total = sum(v for _, name, labels, v in samples
                    if name == argv[3] and all(dict(labels).get(k) == x for k, x in want.items()))
        print("%.17g" % total if total != int(total) else int(total))
        return 0
    elif cmd == "grafana" and len(argv) == 4:
        types, _, _, problems = parse(argv[3])
        dash = json.load(open(argv[2], encoding="utf-8"))
        exprs = []

        def walk(o):
            if isinstance(o, dict):
                for k, v in o.items():
                    if k == "expr" and isinstance(v, str):
                        exprs.append(v)
                    else:
                        walk(v)
            elif isinstance(o, list):
                for v in o:
                    walk(v)
        walk(dash)
        if not exprs:
            problems.append("no expr in the dashboard")
        for e in exprs:
            # metric names: identifiers that are not PromQL functions,
            # keywords or label names (those sit inside {} or by/without ())
            stripped = re.sub(r'\{[^}]*\}', '', e)
            stripped = re.sub(r'\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)', '', stripped)
            stripped = re.sub(r'\[[^\]]*\]', '', stripped)
            stripped = re.sub(r'"[^"]*"', '', stripped)
            if "sipwall_" not in stripped:
                problems.append("dashboard expr uses no sipwall_ metric: %s" % e)
            for name in re.findall(r'[a-zA-Z_:][a-zA-Z0-9_:]*', stripped):
                if not name.startswith("sipwall_"):
                    continue
                if family_of(name, types) is None:
                    problems.append("dashboard expr uses %s, not in the scrape: %s" % (name, e))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    for p in problems:
        print("metrics_check: " + p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
