#!/usr/bin/python3
"""check_report.py REPORT.json EXPECTATION...: checks a `sipwall assess` JSON report.

Each EXPECTATION is one of
  ID=RESULT[/SEVERITY]      the finding's result (and severity)      SIP-AUTH-01=fail/critical
  ID=R1|R2                  one of several results                   SIP-ROBUST-01=pass|fail
  ID~TEXT                   TEXT in the summary                      SIP-CRED-01~1001/1234
  ID>sent:TEXT              TEXT in some evidence's sent bytes       SIP-AUTH-01>sent:CANCEL sip:
  ID>received:TEXT          TEXT in some evidence's received bytes
  ID>note:TEXT              TEXT in some evidence's note
  ID#secret:TEXT            TEXT among the finding's secrets
  exit=N                    summary.exit_code
  control:CN=STATUS         a control's status                       control:C1=fail
  evidence-ok               every evidence has a 64-hex sha256 of sent+received and an RFC 3339 ts
Prints ok/FAIL per expectation; exit 1 when any failed."""
import hashlib
import json
import re
import sys


def main():
    rep = json.load(open(sys.argv[1]))
    fnd = {f["id"]: f for f in rep["findings"]}
    fails = 0
    for e in sys.argv[2:]:
        ok, why = check(rep, fnd, e)
        print(("ok:   " if ok else "FAIL: ") + e + ("" if ok else "  (" + why + ")"))
        fails += not ok
    return 1 if fails else 0


def unesc(s, enc):
    if s is None:
        return b""
    if enc != "escaped":
        return s.encode("utf-8")
    out, i = bytearray(), 0
    while i < len(s):
        if s[i] == "\\" and s[i + 1] == "\\":
            out += b"\\"
            i += 2
        elif s[i] == "\\" and s[i + 1] == "x":
            out.append(int(s[i + 2:i + 4], 16))
            i += 4
        else:
            out += s[i].encode("utf-8")
            i += 1
    return bytes(out)


def check(rep, fnd, e):
    if e.startswith("exit="):
        got = rep["summary"]["exit_code"]
        return got == int(e[5:]), "exit_code %s" % got
    if e.startswith("control:"):
        cid, want = e[8:].split("=", 1)
        c = [c for c in rep["controls"] if c["id"] == cid][0]
        return c["status"] == want, "status %s" % c["status"]
    if e == "evidence-ok":
        for f in rep["findings"]:
            for ev in f["evidence"]:
                enc = ev.get("encoding", "text")
                h = hashlib.sha256(unesc(ev["sent"], enc) + unesc(ev["received"], enc)).hexdigest()
                if h != ev["sha256"]:
                    return False, "%s: sha256 %s != %s" % (f["id"], ev["sha256"], h)
                if not re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", ev["ts"]):
                    return False, "%s: ts %s" % (f["id"], ev["ts"])
        return True, ""
    m = re.match(r"^([A-Z0-9-]+)(=|~|>sent:|>received:|>note:|#secret:)(.*)$", e)
    if not m:
        return False, "bad expectation"
    fid, op, arg = m.groups()
    if fid not in fnd:
        return False, "no finding %s" % fid
    f = fnd[fid]
    if op == "=":
        res, _, sev = arg.partition("/")
        ok = f["result"] in res.split("|") and (not sev or f["severity"] == sev)
        return ok, "%s/%s: %s" % (f["result"], f["severity"], f["summary"])
    if op == "~":
        return arg in f["summary"], f["summary"]
    if op == "#secret:":
        return arg in f.get("secrets", []), str(f.get("secrets"))
    key = op[1:-1]
    for ev in f["evidence"]:
        v = ev.get(key)
        if v and arg in v:
            return True, ""
    return False, "not in any evidence %s of %d" % (key, len(f["evidence"]))


if __name__ == "__main__":
    sys.exit(main())
