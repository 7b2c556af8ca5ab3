#!/usr/bin/env python3
"""Helpers of bench/proxy/run (numbers out of SIPp's files and a capture).

  analyze.py counts UAC_COUNTS.csv UAS_BEFORE UAS_COUNTS.csv
      messages the proxy delivered during one SIPp uac run: everything the
      uac received (its counts file, final row) plus what the long-running
      uas received since its row UAS_BEFORE (a row count, see `rows`).
  analyze.py rows FILE          number of data rows in a counts file
  analyze.py stat FILE COLUMN   the column of the last row of a -trace_stat file
  analyze.py latency PCAP PROXY_IP[,IP...]
      per message, the time from entering the proxy (a datagram to one of
      its addresses) to leaving it (the datagram it sent for that message:
      same From tag, CSeq and method or status), from kernel timestamps on
      lo; prints "pairs p50_us p99_us reordered_calls calls".  A call is
      reordered when two of its messages left the proxy toward the same
      side in another order than they entered it.
"""
import subprocess
import sys


def rows(path):
    try:
        lines = [l for l in open(path) if l.strip()]
    except OSError:
        return []
    if not lines:
        return []
    head = lines[0].rstrip("\n").split(";")
    return [dict(zip(head, l.rstrip("\n").split(";"))) for l in lines[1:]]


def received(row):
    """Messages received according to one -trace_counts row."""
    total = 0
    recv_prefixes = {k[:-len("_Recv")] for k in row if k.endswith("_Recv")}
    for k, v in row.items():
        try:
            n = int(v)
        except ValueError:
            continue
        prefix = k.rsplit("_", 1)[0]
        if k.endswith("_Recv") or k.endswith("_Unexp"):
            total += n
        elif k.endswith("_Retrans") and prefix in recv_prefixes:
            total += n
    return total


def cmd_counts(uac, uas_before, uas):
    u = rows(uac)
    s = rows(uas)
    before = int(uas_before)
    got_uac = received(u[-1]) if u else 0
    base = received(s[before - 1]) if 0 < before <= len(s) else 0
    got_uas = (received(s[-1]) if s else 0) - base
    print(got_uac + got_uas)


def cmd_latency(pcap, proxies):
    own = set(proxies.split(","))
    fields = ["frame.time_epoch", "ip.src", "ip.dst", "sip.from.tag", "sip.CSeq",
              "sip.Method", "sip.Status-Code"]
    args = ["tshark", "-r", pcap, "-n", "-Y", "sip", "-T", "fields", "-E", "separator=\t"]
    for port in (5060, 5070, 5080, 5082):
        args += ["-d", "udp.port==%d,sip" % port]
    for f in fields:
        args += ["-e", f]
    out = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         timeout=300).stdout.decode("utf-8", "replace")
    t_in, t_out = {}, {}
    order_in, order_out = {}, {}
    for line in out.splitlines():
        f = line.split("\t")
        if len(f) < 7 or not f[3]:
            continue
        ts, src, dst, tag, cseq, method, status = f[:7]
        key = (tag, cseq, method or status)
        t = float(ts)
        if dst in own and src not in own:
            if key not in t_in:
                t_in[key] = t
                order_in.setdefault((tag, "in"), []).append(key)
        elif src in own and dst not in own:
            if key not in t_out:
                t_out[key] = t
                order_out.setdefault((tag, dst), []).append(key)
    lat = sorted((t_out[k] - t_in[k]) * 1e6 for k in t_out if k in t_in and t_out[k] >= t_in[k])
    reordered = 0
    calls = {k[0] for k in order_in}
    for (tag, _dst), keys in order_out.items():
        seq = [t_in[k] for k in keys if k in t_in]
        if any(b < a for a, b in zip(seq, seq[1:])):
            reordered += 1
    if not lat:
        print("0 - - %d %d" % (reordered, len(calls)))
        return

    def pct(p):
        return lat[min(len(lat) - 1, int(p / 100.0 * len(lat)))]
    print("%d %.0f %.0f %d %d" % (len(lat), pct(50), pct(99), reordered, len(calls)))


def main():
    cmd = sys.argv[1]
    if cmd == "counts":
        cmd_counts(*sys.argv[2:5])
    elif cmd == "rows":
        print(len(rows(sys.argv[2])))
    elif cmd == "stat":
        r = rows(sys.argv[2])
        print(r[-1].get(sys.argv[3], "") if r else "")
    elif cmd == "latency":
        cmd_latency(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
