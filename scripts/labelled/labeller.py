"""Labels a capture from its plan: NAME.labels.tsv (one row per episode) and
NAME.frames.tsv (one row per frame).  Reads the pcap itself (no tshark).

Membership: a frame belongs to the episode of its far end, the side that is
not the edge (127.0.0.10:5260, [::1]:5260, or a scanned address): the
episode whose addresses contain it.  An episode address is an IP address
(any port) or an endpoint "IP:PORT" / "[IPv6]:PORT" (that port only: trunks
behind one address told apart by port); an endpoint wins over its address.  ICMP/ICMPv6 errors are judged by the
datagram they quote.  When one address has several episodes, each Call-ID
goes to the first episode whose rule matches the Call-ID's first INVITE
from that address (rules: PAI outside the partner's CLI ranges; called
number in a high-risk range; called number with a given prefix), else to the episode without a rule; frames
without a Call-ID (TCP handshakes, ICMP) go to the episode without a rule.

TCP: each direction of a connection is reassembled in sequence order; a SIP
message is attributed to the frame holding its first byte (a frame can
start several messages; their methods/status codes and Call-IDs are then
comma-separated).  frames.tsv `sip`: method or status code; `?` when the
bytes at a message boundary are not SIP; `-` for a segment that starts no
message (handshake, ACK, FIN, continuation); `icmp-unreach` for ICMP errors.
"""
import datetime
import ipaddress
import re
import struct

import lab

REQ_LINE = re.compile(rb"^([!-~]+) (\S+) SIP/[0-9]")
STATUS_LINE = re.compile(rb"^SIP/2\.0 ([0-9]{3})")
NUMBER = re.compile(r"^\+?[0-9]{3,20}$")
CLEN = re.compile(rb"(?im)^(?:content-length|l)[ \t]*:[ \t]*([^\r\n]*?)[ \t]*\r?$")


# -- pcap ---------------------------------------------------------------------------------
def ip_str(b):
    return str(ipaddress.ip_address(b))


def read_pcap(path):
    """Yields dicts: no, ts, proto (udp/tcp/icmp/icmp6/other), src, sport, dst,
    dport, payload, and for TCP flags/seq, for ICMP the quoted (src, sport, dst, dport)."""
    data = open(path, "rb").read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        raise SystemExit("%s: not a classic pcap file" % path)
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(e + "I", data[20:24])[0]
    off, no = 24, 0
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(e + "IIII", data[off:off + 16])
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        no += 1
        f = {"no": no, "ts": (sec, frac * (1 if nano else 1000)), "proto": "other", "src": "",
             "sport": 0, "dst": "", "dport": 0, "payload": b"", "inner": None}
        if linktype == 1:
            et, ip = pkt[12:14], pkt[14:]
        elif linktype == 113:
            et, ip = pkt[14:16], pkt[16:]
        elif linktype in (12, 101):
            et, ip = (b"\x86\xdd" if pkt[:1] and pkt[0] >> 4 == 6 else b"\x08\x00"), pkt
        else:
            et, ip = b"", b""
        parse_ip(et, ip, f)
        yield f


def parse_ip(et, ip, f):
    if et == b"\x08\x00" and len(ip) >= 20:
        ihl = (ip[0] & 15) * 4
        proto, src, dst, l4 = ip[9], ip_str(ip[12:16]), ip_str(ip[16:20]), ip[ihl:]
        total = struct.unpack(">H", ip[2:4])[0]
        l4 = l4[:max(0, total - ihl)]
        icmp = 1
    elif et == b"\x86\xdd" and len(ip) >= 40:
        proto, src, dst, l4 = ip[6], ip_str(ip[8:24]), ip_str(ip[24:40]), ip[40:]
        icmp = 58
    else:
        return
    f["src"], f["dst"] = src, dst
    if proto == 17 and len(l4) >= 8:
        f["proto"] = "udp"
        f["sport"], f["dport"] = struct.unpack(">HH", l4[:4])
        f["payload"] = l4[8:]
    elif proto == 6 and len(l4) >= 20:
        f["proto"] = "tcp"
        f["sport"], f["dport"], f["seq"] = struct.unpack(">HHI", l4[:8])
        doff = (l4[12] >> 4) * 4
        f["flags"] = l4[13]
        f["payload"] = l4[doff:]
    elif proto == icmp and len(l4) >= 8:
        f["proto"] = "icmp" if icmp == 1 else "icmp6"
        q = {"src": "", "sport": 0, "dst": "", "dport": 0}
        parse_ip(b"\x08\x00" if icmp == 1 else b"\x86\xdd", l4[8:], q)
        f["inner"] = (q["src"], q["sport"], q["dst"], q["dport"])


# -- SIP bits -------------------------------------------------------------------------------
def header(head, *names):
    for line in re.split(rb"\r?\n", head)[1:]:
        k, sep, v = line.partition(b":")
        if sep and k.strip().lower().decode("latin-1") in names:
            return v.strip().decode("latin-1")
    return ""


def clean(s):
    return "".join(c if " " < c < "\x7f" else "?" for c in s)


def uri_user(s):
    m = re.search(r"(?:sips?|tel):([^@;>\s]+)", s)
    return m.group(1) if m else ""


def classify(msg):
    """-> (sip column value, call-id, info dict for requests or None)."""
    m, st = REQ_LINE.match(msg), STATUS_LINE.match(msg)
    end = msg.find(b"\r\n\r\n")
    head = msg if end < 0 else msg[:end]
    if m:
        method = m.group(1).decode("latin-1")
        info = {"method": method, "ruri": m.group(2).decode("latin-1", "replace"),
                "pai": uri_user(header(head, "p-asserted-identity")),
                "from": uri_user(header(head, "from", "f"))}
        return method, clean(header(head, "call-id", "i")), info
    if st:
        return st.group(1).decode(), clean(header(head, "call-id", "i")), None
    return "?", "", None


def split_stream(buf, final):
    """Complete messages at the front of a TCP byte stream: [(start, end)]."""
    out, pos = [], 0
    while pos < len(buf):
        while buf[pos:pos + 2] == b"\r\n":
            pos += 2
        if pos >= len(buf):
            break
        end = buf.find(b"\r\n\r\n", pos)
        if end < 0:
            if final:
                out.append((pos, len(buf)))
                pos = len(buf)
            break
        m = CLEN.search(buf, pos, end + 2)
        clen = 0
        if m and m.group(1).strip().isdigit():
            clen = int(m.group(1).strip())
        if end + 4 + clen > len(buf):
            if final:
                out.append((pos, len(buf)))
                pos = len(buf)
            break
        out.append((pos, end + 4 + clen))
        pos = end + 4 + clen
    return out, pos


# -- labelling -------------------------------------------------------------------------------
def iso(ts):
    sec, ns = ts
    return datetime.datetime.fromtimestamp(sec, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S") + ".%06dZ" % (ns // 1000)


def epoch(ts):
    return "%d.%06d" % (ts[0], ts[1] // 1000)


def hp(ip, port):
    return ("[%s]:%d" % (ip, port)) if ":" in ip else ("%s:%d" % (ip, port))


def endpoints(eps):
    by_ip = {}
    for ip, port in eps:
        by_ip.setdefault(ip, set()).add(port)
    out = []
    for ip in sorted(by_ip, key=lambda a: (":" in a, ipaddress.ip_address(a))):
        ports = by_ip[ip]
        if len(ports) == 1:
            out.append(hp(ip, next(iter(ports))))
        else:
            out.append(("[%s]" % ip if ":" in ip else ip) + ":*(%d ports)" % len(ports))
    return ",".join(out)


def rule_matches(rule, info):
    if rule[0] == "pai_outside":
        calling = info["pai"] or info["from"]
        return not lab.in_ranges(calling, lab.PARTNER[rule[1]][5])
    if rule[0] == "called_highrisk":
        return lab.is_highrisk("+" + uri_user(info["ruri"]).lstrip("+"))
    if rule[0] == "called_prefix":
        return ("+" + uri_user(info["ruri"]).lstrip("+")).startswith(rule[1])
    raise ValueError(rule)


def ep_key(a):
    """An episode address: "IP" -> IP, "IP:PORT" or "[IPv6]:PORT" -> (IP, PORT)."""
    m = re.match(r"^\[([0-9a-fA-F:.]+)\]:([0-9]+)$", a) or re.match(r"^([0-9.]+):([0-9]+)$", a)
    return (m.group(1), int(m.group(2))) if m else a


def label(plan, pcap, labels_out, frames_out):
    by_addr = {}
    for ep in plan.episodes:
        for a in ep.addrs:
            by_addr.setdefault(ep_key(a), []).append(ep)
    frames = list(read_pcap(pcap))

    # per-frame SIP messages (UDP: the datagram; TCP: reassembled per direction)
    streams = {}
    for f in frames:
        f["msgs"] = []
        if f["proto"] == "udp" and f["payload"]:
            f["msgs"].append(classify(f["payload"]))
        elif f["proto"] == "tcp":
            key = (f["src"], f["sport"], f["dst"], f["dport"])
            s = streams.setdefault(key, {"next": None, "buf": b"", "base": 0, "segs": []})
            flags, seq, pl = f["flags"], f["seq"], f["payload"]
            if flags & 0x02:                      # SYN
                s["next"] = (seq + 1) & 0xFFFFFFFF
            if pl:
                if s["next"] is None:
                    s["next"] = seq
                if seq != s["next"]:              # retransmission or gap: not re-read
                    continue
                s["next"] = (seq + len(pl)) & 0xFFFFFFFF
                s["segs"].append((s["base"] + len(s["buf"]), f))
                s["buf"] += pl
                drain(s, False)
    for s in streams.values():
        drain(s, True)

    # far end of every frame, and Call-ID -> episode for shared addresses
    def far_of(f):
        """-> (key of by_addr, far IP address), or None."""
        if f["proto"] in ("icmp", "icmp6"):
            if f["inner"] is None:
                return None
            cands = ((f["inner"][0], f["inner"][1]), (f["inner"][2], f["inner"][3]))
        else:
            cands = ((f["src"], f["sport"]), (f["dst"], f["dport"]))
        for c in cands:
            if c in by_addr:
                return c, c[0]
        for c in cands:
            if c[0] in by_addr:
                return c[0], c[0]
        return None

    cid_ep = {}
    for f in frames:
        far = far_of(f)
        if far is None or len(by_addr[far[0]]) < 2 or f["src"] != far[1]:
            continue
        for sip, cid, info in f["msgs"]:
            if info and cid and cid not in cid_ep and info["method"] == "INVITE":
                cid_ep[cid] = next((ep for ep in by_addr[far[0]]
                                    if ep.rule and rule_matches(ep.rule, info)), None)
    rows = {ep.label: dict(frames=[], src=set(), dst=set(), requests=0, calls=[], calling=[],
                           called=[]) for ep in plan.episodes}
    out = []
    unlabelled = 0
    for f in frames:
        far = far_of(f)
        ep = None
        if far is not None:
            eps = by_addr[far[0]]
            default = next((e for e in eps if e.rule is None), eps[0])
            ep = default
            cids = [cid for _, cid, _ in f["msgs"] if cid]
            if len(eps) > 1 and cids:
                ep = cid_ep.get(cids[0]) or default
        if ep is None:
            unlabelled += 1
        if f["proto"] in ("udp", "tcp"):
            s, d = hp(f["src"], f["sport"]), hp(f["dst"], f["dport"])
        else:
            s, d = f["src"], f["dst"]
        if f["proto"] in ("icmp", "icmp6"):
            sipcol = "icmp-unreach"
        elif f["msgs"]:
            sipcol = ",".join(m[0] for m in f["msgs"])
        else:
            sipcol = "-"
        cidcol = ",".join(dict.fromkeys(m[1] for m in f["msgs"] if m[1]))
        out.append((f["no"], epoch(f["ts"]), s, d, f["proto"], sipcol, cidcol,
                    ep.label if ep else "", ep.kind if ep else ""))
        if ep is None:
            continue
        r = rows[ep.label]
        r["frames"].append((f["no"], f["ts"]))
        if f["src"] != far[1] or f["proto"] not in ("udp", "tcp"):
            continue
        for sip, cid, info in f["msgs"]:
            if info is None:
                continue
            r["src"].add((f["src"], f["sport"]))
            r["dst"].add((f["dst"], f["dport"]))
            r["requests"] += 1
            if cid and cid not in r["calls"]:
                r["calls"].append(cid)
            if info["method"] in ("INVITE", "MESSAGE"):
                calling = info["pai"] or info["from"]
                called = uri_user(info["ruri"])
                if NUMBER.match(calling) and calling not in r["calling"]:
                    r["calling"].append(calling)
                if NUMBER.match(called) and called not in r["called"]:
                    r["called"].append(called)

    cols = ["label", "kind", "src", "dst", "first_frame", "last_frame", "first_time", "last_time",
            "frames", "requests", "calls", "calling", "called", "tool", "note"]
    lines = ["\t".join(cols)]
    empty = []
    for ep in plan.episodes:
        r = rows[ep.label]
        fr = r["frames"]
        if not fr:
            empty.append(ep.label)
            continue
        lines.append("\t".join([ep.label, ep.kind, endpoints(r["src"]), endpoints(r["dst"]),
                                str(fr[0][0]), str(fr[-1][0]), iso(fr[0][1]), iso(fr[-1][1]),
                                str(len(fr)), str(r["requests"]), str(len(r["calls"])),
                                ",".join(r["calling"]), ",".join(r["called"]), ep.tool, ep.note]))
    with open(labels_out, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    with open(frames_out, "w") as fh:
        fh.write("frame\ttime\tsrc\tdst\tproto\tsip\tcall_id\tlabel\tkind\n")
        for row in out:
            fh.write("%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n" % row)
    return {"frames": len(out), "unlabelled": unlabelled, "empty": empty,
            "episodes": [(ep.label, ep.kind, len(rows[ep.label]["frames"])) for ep in plan.episodes]}


def drain(s, final):
    msgs, used = split_stream(s["buf"], final)
    for a, b in msgs:
        absa = s["base"] + a
        frame = None
        for start, f in s["segs"]:
            if start <= absa:
                frame = f
            else:
                break
        if frame is not None:
            frame["msgs"].append(classify(s["buf"][a:b]))
    if used:
        s["base"] += used
        s["buf"] = s["buf"][used:]
        s["segs"] = [(st, f) for st, f in s["segs"] if st + len(f["payload"]) > s["base"]]
