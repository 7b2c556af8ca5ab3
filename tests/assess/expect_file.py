#!/usr/bin/python3
"""Checks a sipwall assess JSON report against expectations, one per line
of the EXPECT file (blank lines and # comments skipped):

  finding ID RESULT [SEVERITY]     the check's result (and severity)
  evidence ID TEXT...              TEXT occurs in the finding's evidence
                                   (sent, received or note) or summary
  secret ID TEXT                   TEXT is among the finding's secrets
  control ID STATUS                a control's status (pass|fail|gap|unknown)
  answer ID RESULT [contradiction] a questionnaire answer's merged result
  only-pass-or-skipped PREFIX      every finding whose id starts with PREFIX
                                   is pass or skipped

usage: expect_file.py REPORT.json EXPECT   prints ok/FAIL lines; exit 1 on a FAIL
"""
import json
import sys


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    rep = json.load(open(argv[1]))
    fnd = {f["id"]: f for f in rep.get("findings", [])}
    ctl = {c["id"]: c for c in rep.get("controls", [])}
    ans = {a["id"]: a for a in rep.get("questionnaire", {}).get("answers", [])}
    fails = 0

    def out(ok, what):
        nonlocal fails
        print(("ok:   " if ok else "FAIL: ") + what)
        fails += 0 if ok else 1

    for raw in open(argv[2]):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        w = line.split()
        kind = w[0]
        if kind == "finding":
            f = fnd.get(w[1])
            got = (f["result"], f["severity"]) if f else ("missing", "-")
            want_sev = w[3] if len(w) > 3 else None
            ok = f is not None and got[0] == w[2] and (want_sev is None or got[1] == want_sev)
            out(ok, f"{w[1]} {w[2]}{' ' + want_sev if want_sev else ''} (got {got[0]} {got[1]}: "
                    f"{(f or {}).get('summary', '')[:160]})")
        elif kind == "evidence":
            f = fnd.get(w[1], {})
            text = line.split(None, 2)[2]
            hay = [f.get("summary", "")]
            for e in f.get("evidence", []):
                hay += [e.get("sent") or "", e.get("received") or "", e.get("note") or ""]
            out(any(text in h for h in hay), f"{w[1]} evidence holds {text!r}")
        elif kind == "secret":
            out(w[2] in fnd.get(w[1], {}).get("secrets", []), f"{w[1]} secret {w[2]!r} listed")
        elif kind == "control":
            c = ctl.get(w[1], {})
            out(c.get("status") == w[2], f"control {w[1]} {w[2]} (got {c.get('status')}, score {c.get('score')}, "
                                         f"coverage {c.get('coverage')})")
        elif kind == "answer":
            a = ans.get(w[1], {})
            contra = len(w) > 3 and w[3] == "contradiction"
            ok = a.get("merged_result") == w[2] and bool(a.get("contradiction")) == contra
            out(ok, f"answer {w[1]} {w[2]}{' contradiction' if contra else ''} (got {a.get('merged_result')}, "
                    f"contradiction {a.get('contradiction')})")
        elif kind == "only-pass-or-skipped":
            pre = w[1] if len(w) > 1 else ""
            bad = [f"{i}={f['result']}" for i, f in fnd.items()
                   if i.startswith(pre) and f["result"] not in ("pass", "skipped")]
            out(not bad, f"every {pre}* finding pass or skipped{' (not: ' + ', '.join(bad) + ')' if bad else ''}")
        else:
            out(False, f"unknown expectation: {line}")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
