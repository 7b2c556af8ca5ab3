#!/usr/bin/env python3
"""Generates the small crafted captures in tests/data/pcap/ for the capture
layer's unit tests (tests/unit/capture/).

Standard library only: pcap and pcapng bytes are written with struct.  The
output is deterministic (fixed timestamps, addresses and payloads), so the
committed files can be compared with a fresh run:

    python3 tests/captures/make_test_pcaps.py [OUTDIR]
    python3 tests/captures/make_test_pcaps.py --check   # exit 1 on drift

Every SIP message carries a distinct Call-ID so the tests can assert which
messages came out, in which order, from which frame.  The expectations are
written next to each capture below and asserted in
tests/unit/capture/test_capture_files.c.
"""
import os
import struct
import sys

BASE_TS = 1700000000  # 2023-11-14T22:13:20Z

# Link types (LINKTYPE_* values of the file formats).
LT_NULL, LT_ETHERNET, LT_RAW, LT_LOOP = 0, 1, 101, 108
LT_LINUX_SLL, LT_LINUX_SLL2, LT_IPV4 = 113, 276, 228


# ---- SIP messages -----------------------------------------------------------

def sip_request(method, call_id, cseq=1, body=b"", ruri="sip:bob@example.net",
                transport="UDP", content_length=None):
    lines = [
        "%s %s SIP/2.0" % (method, ruri),
        "Via: SIP/2.0/%s 192.0.2.10:5060;branch=z9hG4bK-%s" % (transport, call_id),
        "Max-Forwards: 70",
        "From: <sip:alice@example.com>;tag=a-%s" % call_id,
        "To: <sip:bob@example.net>",
        "Call-ID: %s" % call_id,
        "CSeq: %d %s" % (cseq, method),
        "Contact: <sip:alice@192.0.2.10:5060>",
    ]
    if body:
        lines.append("Content-Type: application/sdp")
    cl = len(body) if content_length is None else content_length
    lines.append("Content-Length: %s" % cl)
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def sip_response(code, reason, call_id, method, cseq=1, transport="UDP"):
    lines = [
        "SIP/2.0 %d %s" % (code, reason),
        "Via: SIP/2.0/%s 192.0.2.10:5060;branch=z9hG4bK-%s" % (transport, call_id),
        "From: <sip:alice@example.com>;tag=a-%s" % call_id,
        "To: <sip:bob@example.net>;tag=b-%s" % call_id,
        "Call-ID: %s" % call_id,
        "CSeq: %d %s" % (cseq, method),
        "Content-Length: 0",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def sdp(size):
    """An SDP body padded with a=x- attribute lines to about `size` bytes."""
    head = (b"v=0\r\no=alice 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\n"
            b"t=0 0\r\nm=audio 49170 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\n")
    out = head
    i = 0
    while len(out) < size:
        out += b"a=x-pad:%04d 0123456789abcdef0123456789abcdef\r\n" % i
        i += 1
    return out


def invite(call_id, size=2500, transport="UDP"):
    return sip_request("INVITE", call_id, body=sdp(size), transport=transport)


def options(call_id, transport="UDP"):
    return sip_request("OPTIONS", call_id, transport=transport)


# ---- packet builders -----------------------------------------------------

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip4addr(s):
    return bytes(int(x) for x in s.split("."))


def ip6addr(s):
    """Expands an IPv6 address with at most one '::' (no embedded IPv4)."""
    if "::" in s:
        left, right = s.split("::")
        lp = left.split(":") if left else []
        rp = right.split(":") if right else []
        parts = lp + ["0"] * (8 - len(lp) - len(rp)) + rp
    else:
        parts = s.split(":")
    return b"".join(struct.pack("!H", int(p, 16)) for p in parts)


def ipv4(src, dst, proto, payload, ident=1, frag_off=0, more=False, total=None):
    flags = (0x2000 if more else 0) | (frag_off // 8)
    tl = 20 + len(payload) if total is None else total
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, tl, ident, flags, 64, proto, 0,
                      ip4addr(src), ip4addr(dst))
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def ipv6(src, dst, nh, payload):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nh, 64,
                       ip6addr(src), ip6addr(dst)) + payload


def pseudo4(src, dst, proto, length):
    return ip4addr(src) + ip4addr(dst) + struct.pack("!BBH", 0, proto, length)


def pseudo6(src, dst, proto, length):
    return ip6addr(src) + ip6addr(dst) + struct.pack("!IxxxB", length, proto)


def udp(src, dst, sport, dport, payload, v6=False, length=None):
    ln = 8 + len(payload) if length is None else length
    hdr = struct.pack("!HHHH", sport, dport, ln, 0)
    ph = (pseudo6 if v6 else pseudo4)(src, dst, 17, 8 + len(payload))
    c = csum(ph + hdr + payload) or 0xFFFF
    return struct.pack("!HHHH", sport, dport, ln, c) + payload


def tcp(src, dst, sport, dport, seq, ack, flags, payload=b"", v6=False):
    """flags: a string of S, A, F, R, P."""
    f = 0
    for ch, bit in (("F", 1), ("S", 2), ("R", 4), ("P", 8), ("A", 16)):
        if ch in flags:
            f |= bit
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      5 << 4, f, 65535, 0, 0)
    ph = (pseudo6 if v6 else pseudo4)(src, dst, 6, len(hdr) + len(payload))
    c = csum(ph + hdr + payload)
    return hdr[:16] + struct.pack("!H", c) + hdr[18:] + payload


def udp4(src, sport, dst, dport, payload):
    return ipv4(src, dst, 17, udp(src, dst, sport, dport, payload))


def udp6(src, sport, dst, dport, payload):
    return ipv6(src, dst, 17, udp(src, dst, sport, dport, payload, v6=True))


ETH_DST = bytes.fromhex("020000000002")
ETH_SRC = bytes.fromhex("020000000001")


def eth(ethertype, payload, tags=()):
    """tags: (tpid, vid) pairs, outermost first."""
    out = ETH_DST + ETH_SRC
    for tpid, vid in tags:
        out += struct.pack("!HH", tpid, vid)
    return out + struct.pack("!H", ethertype) + payload


def eth4(pkt, tags=()):
    return eth(0x0800, pkt, tags)


def eth6(pkt, tags=()):
    return eth(0x86DD, pkt, tags)


def fragments_v4(src, dst, ident, datagram, size):
    """Splits an IPv4 payload (UDP header + data) into fragments of `size`
    bytes (a multiple of 8).  Returns the list of IP packets in order."""
    out = []
    for off in range(0, len(datagram), size):
        chunk = datagram[off:off + size]
        more = off + size < len(datagram)
        out.append(ipv4(src, dst, 17, chunk, ident=ident, frag_off=off, more=more))
    return out


def fragments_v6(src, dst, ident, datagram, size, pre_ext=b"", pre_nh=None):
    """IPv6 fragments of an upper-layer payload (UDP) with a Fragment header;
    pre_ext is an extension header placed before it (its own next header
    must be 44)."""
    out = []
    for off in range(0, len(datagram), size):
        chunk = datagram[off:off + size]
        more = off + size < len(datagram)
        fh = struct.pack("!BBHI", 17, 0, off | (1 if more else 0), ident)
        if pre_ext:
            out.append(ipv6(src, dst, pre_nh, pre_ext + fh + chunk))
        else:
            out.append(ipv6(src, dst, 44, fh + chunk))
    return out


def ext_hdr(nh, data_len=6):
    """A hop-by-hop / destination options header with PadN: 8 bytes."""
    assert data_len == 6
    return struct.pack("!BB", nh, 0) + b"\x01\x04\0\0\0\0"


def routing_hdr(nh):
    """Type 0 routing header with segments left 0 and no addresses: 8 bytes."""
    return struct.pack("!BBBBI", nh, 0, 0, 0, 0)


# ---- file writers -------------------------------------------------------------

def ts_of(i):
    """Frame i (0-based) is 10 ms after frame i-1."""
    return BASE_TS, i * 10000  # seconds, microseconds


def pcap_bytes(linktype, frames, nsec=False, snaplen=262144):
    """frames: list of bytes, or (bytes, origlen) tuples, or
    (bytes, origlen, sec, frac)."""
    magic = 0xA1B23C4D if nsec else 0xA1B2C3D4
    out = struct.pack("<IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)
    for i, fr in enumerate(frames):
        if isinstance(fr, bytes):
            fr = (fr, len(fr))
        data, origlen = fr[0], fr[1]
        if len(fr) >= 4:
            sec, frac = fr[2], fr[3]
        else:
            sec, usec = ts_of(i)
            frac = usec * 1000 if nsec else usec
        out += struct.pack("<IIII", sec, frac, len(data), origlen) + data
    return out


def pcapng_block(btype, body):
    pad = (-len(body)) % 4
    ln = 12 + len(body) + pad
    return struct.pack("<II", btype, ln) + body + b"\0" * pad + struct.pack("<I", ln)


def pcapng_bytes(linktype, frames, tsresol=9):
    shb = pcapng_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    opts = struct.pack("<HHB3x", 9, 1, tsresol) + struct.pack("<HH", 0, 0)
    idb = pcapng_block(1, struct.pack("<HHI", linktype, 0, 262144) + opts)
    out = shb + idb
    for i, data in enumerate(frames):
        t = BASE_TS * 10 ** tsresol + 123456789 + i * 10 ** (tsresol - 2)
        body = struct.pack("<IIIII", 0, t >> 32, t & 0xFFFFFFFF, len(data), len(data))
        body += data + b"\0" * ((-len(data)) % 4)
        out += pcapng_block(6, body)
    return out


# ---- the captures -------------------------------------------------------------

C4, S4 = "10.0.0.1", "10.0.0.2"


def cap_udp_frag_ipv4():
    """Messages: frag4-plain (frame 1), frag4-inorder (4, reassembled),
    frag4-ooo (8, reassembled), frag4-after (11).  Frames 9-10 overlap and
    are dropped.  9 fragments, 2 reassembled, 1 set dropped."""
    f = [eth4(udp4(C4, 5060, S4, 5060, options("frag4-plain")))]
    d = udp(C4, S4, 5060, 5060, invite("frag4-inorder"))
    f += [eth4(p) for p in fragments_v4(C4, S4, 0x100, d, 1200)]       # 2, 3, 4
    d = udp(C4, S4, 5060, 5060, invite("frag4-ooo"))
    a, b, c = fragments_v4(C4, S4, 0x101, d, 1200)
    f += [eth4(c), eth4(a), eth4(a), eth4(b)]                           # 5 .. 8
    d = udp(C4, S4, 5060, 5060, invite("frag4-overlap"))
    f += [eth4(ipv4(C4, S4, 17, d[:1200], ident=0x102, more=True)),     # 9
          eth4(ipv4(C4, S4, 17, d[1192:], ident=0x102, frag_off=1192))]  # 10: overlaps 8 bytes
    f += [eth4(udp4(C4, 5060, S4, 5060, options("frag4-after")))]       # 11
    return pcap_bytes(LT_ETHERNET, f)


C6, S6 = "2001:db8::1", "2001:db8::2"


def cap_udp_frag_ipv6():
    """Messages: frag6-a (frame 2, reassembled), frag6-b (4, reassembled,
    hop-by-hop header before the fragment header, fragments reversed),
    frag6-atomic (5, an atomic fragment: not reassembled)."""
    d = udp(C6, S6, 5060, 5060, invite("frag6-a", 1800), v6=True)
    f = [eth6(p) for p in fragments_v6(C6, S6, 0x12345678, d, 1232)]
    d = udp(C6, S6, 5060, 5060, invite("frag6-b", 1800), v6=True)
    x, y = fragments_v6(C6, S6, 0x12345679, d, 1232, pre_ext=ext_hdr(44), pre_nh=0)
    f += [eth6(y), eth6(x)]
    d = udp(C6, S6, 5060, 5060, options("frag6-atomic"), v6=True)
    f += [eth6(ipv6(C6, S6, 44, struct.pack("!BBHI", 17, 0, 0, 0x1234567A) + d))]
    return pcap_bytes(LT_ETHERNET, f)


TC, TS = "10.1.0.1", "10.1.0.2"


def cap_tcp_sip():
    """Client 10.1.0.1:40000 -> server 10.1.0.2:5060.
    Delivered in order: tcp-1 (frame 4), tcp-2 (4), tcp-3 (8, spans 6-8),
    tcp-4 (8), tcp-5 (11, its tail arrived first in frame 10),
    200 OK for tcp-1 (12, server to client), tcp-6 (13, after an overlap).
    Frame 5 is a CRLF CRLF keep-alive, frame 9 a retransmission of 8."""
    cs, ss = 1000, 5000  # initial sequence numbers
    fr = []

    def c2s(seq, flags, data=b""):
        fr.append(eth4(ipv4(TC, TS, 6, tcp(TC, TS, 40000, 5060, seq, ss + 1, flags, data))))

    def s2c(seq, flags, data=b""):
        fr.append(eth4(ipv4(TS, TC, 6, tcp(TS, TC, 5060, 40000, seq, cs + 1, flags, data))))

    c2s(cs, "S")                                                        # 1
    s2c(ss, "SA")                                                       # 2
    c2s(cs + 1, "A")                                                    # 3
    seq = cs + 1
    seg = options("tcp-1", "TCP") + options("tcp-2", "TCP")
    c2s(seq, "PA", seg)                                                 # 4
    seq += len(seg)
    c2s(seq, "PA", b"\r\n\r\n")                                         # 5
    seq += 4
    m3 = invite("tcp-3", 1500, "TCP")
    m4 = options("tcp-4", "TCP")
    m5 = sip_request("MESSAGE", "tcp-5", body=b"x" * 300, transport="TCP")
    c2s(seq, "PA", m3[:700])                                            # 6
    seq += 700
    c2s(seq, "PA", m3[700:1400])                                        # 7
    seq += 700
    seg8 = m3[1400:] + m4 + m5[:100]
    c2s(seq, "PA", seg8)                                                # 8
    c2s(seq, "PA", seg8)                                                # 9: retransmission
    seq += len(seg8)
    c2s(seq + 200, "PA", m5[300:])                                      # 10: out of order
    c2s(seq, "PA", m5[100:300])                                         # 11: fills the gap
    seq += len(m5) - 100
    s2c(ss + 1, "PA", sip_response(200, "OK", "tcp-1", "OPTIONS", transport="TCP"))  # 12
    m6 = options("tcp-6", "TCP")
    c2s(seq - 10, "PA", m5[-10:] + m6)                                  # 13: overlaps 10 bytes
    seq += len(m6)
    c2s(seq, "FA")                                                      # 14
    s2c(ss + 1 + len(sip_response(200, "OK", "tcp-1", "OPTIONS", transport="TCP")), "FA")  # 15
    c2s(seq + 1, "A")                                                   # 16
    return pcap_bytes(LT_ETHERNET, fr)


def cap_tcp_framing():
    """Stream A (40001 -> 5060, SYN seen): bad-cl (frame 2, Content-Length
    "abc": delivered with framing_error), then good-after-bad (frame 3).
    Stream B (40002 -> 5060, no SYN: captured mid-connection): the tail of
    an earlier message, then mid-1 (frame 4) and mid-2 (frame 5).
    Stream C (40003 -> 5060): short-body, Content-Length 500 but 100 bytes
    sent in frame 7, then FIN (frame 8: delivered there with SW_EINCOMPLETE).
    Stream D (40004 -> 8080): HTTP, not SIP (frames 9-10)."""
    fr = []

    def seg(sport, dport, seq, flags, data=b""):
        fr.append(eth4(ipv4(TC, TS, 6, tcp(TC, TS, sport, dport, seq, 1, flags, data))))

    seg(40001, 5060, 100, "S")                                          # 1
    bad = options("bad-cl", "TCP").replace(b"Content-Length: 0", b"Content-Length: abc")
    seg(40001, 5060, 101, "PA", bad)                                    # 2
    seg(40001, 5060, 101 + len(bad), "PA", options("good-after-bad", "TCP"))  # 3
    tail = b"a=x-pad:0001 0123456789abcdef\r\na=sendrecv\r\n"
    seg(40002, 5060, 7000, "PA", tail + options("mid-1", "TCP"))        # 4
    seg(40002, 5060, 7000 + len(tail) + len(options("mid-1", "TCP")), "PA",
        options("mid-2", "TCP"))                                        # 5
    short = sip_request("MESSAGE", "short-body", body=b"y" * 100, transport="TCP",
                        content_length=500)
    seg(40003, 5060, 300, "S")                                          # 6
    seg(40003, 5060, 301, "PA", short)                                  # 7
    seg(40003, 5060, 301 + len(short), "FA")                            # 8
    seg(40004, 8080, 900, "S")                                          # 9
    seg(40004, 8080, 901, "PA", b"GET / HTTP/1.1\r\nHost: example.net\r\n\r\n")  # 10
    return pcap_bytes(LT_ETHERNET, fr)


def cap_tcp_ipv6():
    """[2001:db8::1]:40000 -> [2001:db8::2]:5060: SYN, then v6-tcp-1 and
    v6-tcp-2 in one segment (frame 2), v6-tcp-3 over frames 3-4, FIN."""
    fr = []

    def c2s(seq, flags, data=b""):
        fr.append(eth6(ipv6(C6, S6, 6, tcp(C6, S6, 40000, 5060, seq, 1, flags, data, v6=True))))

    c2s(10, "S")
    seq = 11
    seg = options("v6-tcp-1", "TCP") + options("v6-tcp-2", "TCP")
    c2s(seq, "PA", seg)
    seq += len(seg)
    m3 = invite("v6-tcp-3", 600, "TCP")
    c2s(seq, "PA", m3[:500])
    c2s(seq + 500, "PA", m3[500:])
    c2s(seq + len(m3), "FA")
    return pcap_bytes(LT_ETHERNET, fr)


def cap_vlan():
    """vlan-100 (802.1Q 100), qinq-200 (802.1ad 200 over 802.1Q 300),
    stacked-10 (802.1Q 10 over 802.1Q 20)."""
    f = [eth4(udp4(C4, 5060, S4, 5060, options("vlan-100")), [(0x8100, 100)]),
         eth4(udp4(C4, 5060, S4, 5060, options("qinq-200")), [(0x88A8, 200), (0x8100, 300)]),
         eth4(udp4(C4, 5060, S4, 5060, options("stacked-10")), [(0x8100, 10), (0x8100, 20)])]
    return pcap_bytes(LT_ETHERNET, f)


def cap_ipv6_udp():
    """v6-plain (frame 1), v6-ext (2: destination options + routing headers),
    200 OK for v6-plain (3, reversed addresses)."""
    d = udp(C6, S6, 5060, 5060, options("v6-ext"), v6=True)
    ext = ext_hdr(43) + routing_hdr(17)
    f = [eth6(udp6(C6, 5060, S6, 5060, options("v6-plain"))),
         eth6(ipv6(C6, S6, 60, ext + d)),
         eth6(udp6(S6, 5060, C6, 5060, sip_response(200, "OK", "v6-plain", "OPTIONS")))]
    return pcap_bytes(LT_ETHERNET, f)


def sll(proto, pkt):
    # packet type 0 (to us), ARPHRD_ETHER, address length 6, address, protocol
    return struct.pack("!HHH8sH", 0, 1, 6, ETH_SRC + b"\0\0", proto) + pkt


def sll2(proto, pkt):
    # protocol, reserved, interface index, ARPHRD_ETHER, packet type, address
    return struct.pack("!HHIHBB8s", proto, 0, 2, 1, 0, 6, ETH_SRC + b"\0\0") + pkt


def cap_sll(kind):
    fn = sll if kind == "sll" else sll2
    f = [fn(0x0800, udp4(C4, 5060, S4, 5060, options(kind + "-v4"))),
         fn(0x86DD, udp6(C6, 5060, S6, 5060, options(kind + "-v6")))]
    return pcap_bytes(LT_LINUX_SLL if kind == "sll" else LT_LINUX_SLL2, f)


def cap_raw():
    f = [udp4(C4, 5060, S4, 5060, options("raw-v4")),
         udp6(C6, 5060, S6, 5060, options("raw-v6"))]
    return pcap_bytes(LT_RAW, f)


def cap_ipv4_linktype():
    return pcap_bytes(LT_IPV4, [udp4(C4, 5060, S4, 5060, options("ipv4-lt"))])


def cap_null():
    """DLT_NULL in the writer's (little-endian) order: AF_INET 2 and macOS
    AF_INET6 30."""
    f = [struct.pack("<I", 2) + udp4("127.0.0.1", 5060, "127.0.0.1", 5070, options("null-v4")),
         struct.pack("<I", 30) + udp6("::1", 5060, "::1", 5070, options("null-v6"))]
    return pcap_bytes(LT_NULL, f)


def cap_loop():
    f = [struct.pack("!I", 2) + udp4("127.0.0.1", 5060, "127.0.0.1", 5070, options("loop-v4"))]
    return pcap_bytes(LT_LOOP, f)


def cap_pcapng():
    """ng-1 (frame 1), a DNS query (2, not SIP), ng-2 (3); nanosecond
    timestamps: frame 1 at 1700000000.123456789."""
    dns = bytes.fromhex("123401000001000000000000076578616d706c65036e65740000010001")
    f = [eth4(udp4(C4, 5060, S4, 5060, options("ng-1"))),
         eth4(udp4(C4, 33000, "10.0.0.53", 53, dns)),
         eth4(udp4(S4, 5060, C4, 5060, sip_response(200, "OK", "ng-1", "OPTIONS")))]
    # frame 3 is the response to ng-1; its Call-ID is ng-1 too
    return pcapng_bytes(LT_ETHERNET, f)


def sip_frames(prefix, n):
    return [eth4(udp4(C4, 5060, S4, 5060, options("%s-%d" % (prefix, i + 1)))) for i in range(n)]


def cap_truncated():
    """trunc-1..3, then frame 4 whose data stops after 50 of its bytes."""
    whole = pcap_bytes(LT_ETHERNET, sip_frames("trunc", 4))
    last = eth4(udp4(C4, 5060, S4, 5060, options("trunc-4")))
    return whole[:len(whole) - len(last) + 50]


def cap_truncated_header():
    """hdr-1, hdr-2, then 7 bytes of frame 3's record header."""
    whole = pcap_bytes(LT_ETHERNET, sip_frames("hdr", 3))
    last = eth4(udp4(C4, 5060, S4, 5060, options("hdr-3")))
    return whole[:len(whole) - len(last) - 16 + 7]


def cap_corrupt_record():
    """bad-1, bad-2, then a record header claiming 0x7fffffff bytes."""
    return (pcap_bytes(LT_ETHERNET, sip_frames("bad", 2)) +
            struct.pack("<IIII", BASE_TS, 0, 0x7FFFFFFF, 0x7FFFFFFF) + b"\0" * 64)


def cap_nanosecond():
    """One message, ns-1, at 1700000000.123456789 exactly."""
    data = eth4(udp4(C4, 5060, S4, 5060, options("ns-1")))
    return pcap_bytes(LT_ETHERNET, [(data, len(data), BASE_TS, 123456789)], nsec=True)


P1, P2 = "10.2.0.1", "10.2.0.2"


def cap_nonstd_port():
    """SIP found by content, not by port 5060.
    1: OPTIONS port-15060 to 10.2.0.2:15060 (looks like SIP)
    2: a damaged INVITE to the same endpoint, NUL in the method: delivered by
       the endpoint rule
    3: DNS from 10.2.0.1:33334: not SIP
    4: binary junk between two 5060 ports never seen with SIP: not SIP
    5: CRLF CRLF keep-alive to 10.2.0.2:15060: not delivered
    6: garbage after a valid start line: delivered (port-garbage)
    7-9: TCP SYN, SYN-ACK, REGISTER port-8088-tcp on port 8088 (frame 9)"""
    dmg = invite("port-damaged", 300).replace(b"INVITE sip:", b"INV\0TE sip:", 1)
    dns = bytes.fromhex("abcd0100000100000000000003736970076578616d706c650000010001")
    junk = bytes(range(0x80, 0xC0))
    garbage = b"OPTIONS sip:bob@example.net SIP/2.0\r\nCall-ID: port-garbage\r\n\x01\x02\xff\xfe\0junk"
    f = [eth4(udp4(P1, 33333, P2, 15060, options("port-15060"))),
         eth4(udp4("10.2.0.3", 44444, P2, 15060, dmg)),
         eth4(udp4(P1, 33334, "10.2.0.9", 53, dns)),
         eth4(udp4("10.2.0.5", 5060, "10.2.0.6", 5060, junk)),
         eth4(udp4(P1, 33333, P2, 15060, b"\r\n\r\n")),
         eth4(udp4("10.2.0.7", 5555, P2, 15060, garbage))]
    reg = sip_request("REGISTER", "port-8088-tcp", ruri="sip:example.net", transport="TCP")
    f += [eth4(ipv4(P1, P2, 6, tcp(P1, P2, 41000, 8088, 10, 0, "S"))),
          eth4(ipv4(P2, P1, 6, tcp(P2, P1, 8088, 41000, 20, 11, "SA"))),
          eth4(ipv4(P1, P2, 6, tcp(P1, P2, 41000, 8088, 11, 21, "PA", reg)))]
    return pcap_bytes(LT_ETHERNET, f)


def cap_damaged_frames():
    """Frames whose headers claim more than was captured, all counted as
    damaged and skipped: 1 snaplen-cut (caplen 100 of 600), 2 a UDP length
    beyond the IP payload, 3 a 10-byte frame, 4 an IPv4 header length of
    4 words below the minimum; then 5: ok-after-damage."""
    big = eth4(udp4(C4, 5060, S4, 5060, invite("cut", 500)))
    bad_udp = eth4(ipv4(C4, S4, 17, udp(C4, S4, 5060, 5060, options("bad-udp-len"), length=2000)))
    short_ihl = bytearray(eth4(udp4(C4, 5060, S4, 5060, options("bad-ihl"))))
    short_ihl[14] = 0x44
    f = [(big[:100], len(big)), bad_udp, b"\x02\0\0\0\0\x02\x02\0\0\0", bytes(short_ihl),
         eth4(udp4(C4, 5060, S4, 5060, options("ok-after-damage")))]
    return pcap_bytes(LT_ETHERNET, f)


CAPTURES = {
    "udp_frag_ipv4.pcap": cap_udp_frag_ipv4,
    "udp_frag_ipv6.pcap": cap_udp_frag_ipv6,
    "tcp_sip.pcap": cap_tcp_sip,
    "tcp_framing.pcap": cap_tcp_framing,
    "tcp_ipv6.pcap": cap_tcp_ipv6,
    "vlan.pcap": cap_vlan,
    "ipv6_udp.pcap": cap_ipv6_udp,
    "sll.pcap": lambda: cap_sll("sll"),
    "sll2.pcap": lambda: cap_sll("sll2"),
    "raw_ip.pcap": cap_raw,
    "ipv4_linktype.pcap": cap_ipv4_linktype,
    "null_loopback.pcap": cap_null,
    "loop.pcap": cap_loop,
    "sip.pcapng": cap_pcapng,
    "truncated.pcap": cap_truncated,
    "truncated_header.pcap": cap_truncated_header,
    "corrupt_record.pcap": cap_corrupt_record,
    "nanosecond.pcap": cap_nanosecond,
    "nonstd_port.pcap": cap_nonstd_port,
    "damaged_frames.pcap": cap_damaged_frames,
}


def main():
    args = sys.argv[1:]
    check = "--check" in args
    args = [a for a in args if a != "--check"]
    here = os.path.dirname(os.path.abspath(__file__))
    outdir = args[0] if args else os.path.join(here, "..", "data", "pcap")
    if check:
        # Compares what would be written with the committed files.
        drift = 0
        for name in sorted(CAPTURES):
            path = os.path.join(outdir, name)
            try:
                with open(path, "rb") as fh:
                    same = fh.read() == CAPTURES[name]()
            except OSError:
                same = False
            if not same:
                print("drift: %s" % path)
                drift += 1
        return 1 if drift else 0
    os.makedirs(outdir, exist_ok=True)
    for name in sorted(CAPTURES):
        with open(os.path.join(outdir, name), "wb") as fh:
            fh.write(CAPTURES[name]())
    print("wrote %d captures to %s" % (len(CAPTURES), os.path.normpath(outdir)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
