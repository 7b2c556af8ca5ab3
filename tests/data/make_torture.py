#!/usr/bin/env python3
"""Writes sipwall's own SIP torture messages to tests/data/torture/.

Each message is spelled out below, byte for byte, so the output is
reproducible; the manifest (file, verdict, what) is written next to them.
They exercise what RFC 4475 exercises (folding, odd LWS, every legal token
character, escapes, framing errors, overlarge scalars, ...) but are our own
messages.  Addresses are documentation ranges, names are example.* domains.

A `valid` message must parse and pass sw_sip_validate; an `invalid` one
carries exactly one defect (named in `what`) and must be rejected.  All are
read as UDP datagrams (SW_SIP_DATAGRAM).

usage: make_torture.py [--out DIR] [--check]
  --check  compare with the files on disk instead of writing; exit 1 on drift
"""
import argparse
import base64
import json
import os
import sys

CRLF = b"\r\n"
HERE = os.path.dirname(os.path.abspath(__file__))


def enc(x):
    """str -> UTF-8 bytes (so '\\x00' stays one NUL byte); bytes unchanged."""
    return x if isinstance(x, bytes) else x.encode("utf-8")


def msg(lines, body=b"", eol=CRLF, terminate=True):
    """Start line + header lines, each ended by `eol`, the empty line, body.

    A header line may contain explicit "\\r\\n " folds: they are kept as written."""
    out = b"".join(enc(l) + eol for l in lines)
    if terminate:
        out += eol
    return out + enc(body)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def passport(orig, dest, attest, origid):
    """A PASSporT-shaped compact JWS with a fixed dummy signature (not a real one)."""
    hdr = {"alg": "ES256", "ppt": "shaken", "typ": "passport",
           "x5u": "https://cert.example.org/sti/test-cert.pem"}
    pay = {"attest": attest, "dest": {"tn": [dest]}, "iat": 1735689600,
           "orig": {"tn": orig}, "origid": origid}
    sig = bytes((i * 37 + 11) & 0xFF for i in range(64))
    return ".".join([b64url(json.dumps(hdr, separators=(",", ":"), sort_keys=True).encode()),
                     b64url(json.dumps(pay, separators=(",", ":"), sort_keys=True).encode()),
                     b64url(sig)])


SDP = CRLF.join([b"v=0", b"o=- 4711 1 IN IP4 192.0.2.10", b"s=-", b"c=IN IP4 192.0.2.10",
                 b"t=0 0", b"m=audio 49170 RTP/AVP 0 8", b"a=rtpmap:0 PCMU/8000",
                 b"a=rtpmap:8 PCMA/8000", b""])

MESSAGES = []  # (name, verdict, what, bytes)


def add(name, verdict, what, data):
    assert verdict in ("valid", "invalid")
    assert all(n != name for n, _, _, _ in MESSAGES), name
    MESSAGES.append((name, verdict, what, data))


def options(ruri="sip:bob@example.com", version="SIP/2.0", method="OPTIONS", cseq=None,
            extra=(), drop=(), first=None):
    """A plain OPTIONS (or other method) with every mandatory header; `drop`
    removes headers by name, `extra` appends lines, `first` replaces the
    start line verbatim.  Used for the one-defect invalid messages."""
    hdrs = [
        ("Via", "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK.t0rture.%s" % method.lower()),
        ("Max-Forwards", "70"),
        ("From", "<sip:alice@example.net>;tag=t0rt.af1"),
        ("To", "<sip:bob@example.com>"),
        ("Call-ID", "t0rture-%s-1@192.0.2.10" % method.lower()),
        ("CSeq", cseq or "1 %s" % method),
        ("Contact", "<sip:alice@192.0.2.10:5060>"),
        ("Accept", "application/sdp"),
        ("Content-Length", "0"),
    ]
    lines = [first or "%s %s %s" % (method, ruri, version)]
    lines += ["%s: %s" % (n, v) for n, v in hdrs if n not in drop and n != "Content-Length"]
    lines += list(extra)
    if "Content-Length" not in drop:
        lines.append("Content-Length: 0")
    return msg(lines)


def response(status_line, extra=()):
    return msg([status_line,
                "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK.t0rture.resp;received=192.0.2.10",
                "From: <sip:alice@example.net>;tag=t0rt.af1",
                "To: <sip:bob@example.com>;tag=t0rt.bt2",
                "Call-ID: t0rture-resp-1@192.0.2.10",
                "CSeq: 1 OPTIONS"] + list(extra) + ["Content-Length: 0"])


# --------------------------------------------------------------------------
# valid
# --------------------------------------------------------------------------
add("valid-folding", "valid",
    "header values folded over several lines (CRLF + SP/HTAB), incl. an empty Subject",
    msg(["INVITE sip:carol@example.com SIP/2.0",
         "Via: SIP/2.0/UDP\r\n 192.0.2.11:5060\r\n ;branch=z9hG4bK.fold.1",
         "Max-Forwards:\r\n\t70",
         "From: \"Dave\"\r\n   <sip:dave@example.net>\r\n  ;tag=fold-f1",
         "To:\r\n <sip:carol@example.com>",
         "Call-ID: fold.8c1e@192.0.2.11",
         "CSeq: 8\r\n INVITE",
         "Contact: <sip:dave@192.0.2.11:5060>",
         "Subject:",
         "X-Folded-Note: first part of a value\r\n\t second part\r\n  third part",
         "Content-Type: application/sdp",
         "Content-Length: %d" % len(SDP)], SDP))

add("valid-lws-tabs", "valid",
    "SP/HTAB around ':' ';' '=' '/' and ',' in header values",
    msg(["INVITE sip:carol@example.com SIP/2.0",
         "Via  :\tSIP / 2.0 /\tUDP   192.0.2.12:5060 ;\tbranch = z9hG4bK.lws.1 , SIP/2.0/TCP 192.0.2.13 ; branch=z9hG4bK.lws.0",
         "Max-Forwards\t: 70",
         "From :  \"Erin\"  <sip:erin@example.net> ;  tag =  lws-f1",
         "To\t:\t<sip:carol@example.com>\t",
         "Call-ID :  lws.33aa@192.0.2.12  ",
         "CSeq  :  21   INVITE",
         "Contact: <sip:erin@192.0.2.12> ; expires = 60 ; q = 0.5",
         "Content-Type :  application / sdp",
         "Content-Length :  %d" % len(SDP)], SDP))

add("valid-compact-mixed-case", "valid",
    "compact header names (v f t i m l c s k) and mixed-case long names",
    msg(["INVITE sip:carol@example.com SIP/2.0",
         "v: SIP/2.0/UDP 192.0.2.14:5060;branch=z9hG4bK.cmp.1",
         "mAX-fORWARDS: 70",
         "f: <sip:frank@example.net>;tag=cmp-f1",
         "t: <sip:carol@example.com>",
         "i: compact.4410@192.0.2.14",
         "cSeQ: 3 INVITE",
         "m: <sip:frank@192.0.2.14:5060>",
         "s: compact forms",
         "k: 100rel, timer",
         "CONTENT-TYPE: application/sdp",
         "l: %d" % len(SDP)], SDP))

add("valid-leading-zeros", "valid",
    "leading zeros in CSeq, Max-Forwards, Expires, Content-Length and the Via port",
    msg(["REGISTER sip:example.com SIP/2.0",
         "Via: SIP/2.0/UDP 192.0.2.15:05060;branch=z9hG4bK.zero.1",
         "Max-Forwards: 0070",
         "From: <sip:grace@example.com>;tag=zero-f1",
         "To: <sip:grace@example.com>",
         "Call-ID: zeros.77@192.0.2.15",
         "CSeq: 000000042 REGISTER",
         "Contact: <sip:grace@192.0.2.15:5060>",
         "Expires: 0003600",
         "Content-Length: 0000"]))

add("valid-token-chars", "valid",
    "every token char in method, branch and tags; every word char in Call-ID; odd R-URI userinfo",
    msg(["~Odd.Method-09_AZ!%*+`' sip:u_s-e.r!~*'()&=+$,;?/x:p-w_.!~*'()&=+$,@example.com;p_a-r.a!m~*'=v%41l SIP/2.0",
         "Via: SIP/2.0/UDP 192.0.2.16;branch=z9hG4bK-.!%*_+`'~AZaz09",
         "To: <sip:henry@example.com>;tag=-.!%*_+`'~AZaz09",
         "From: tok.en-1!%*_+`'~ <sip:ivy@example.net>;tag=~'`+_*%!.-09",
         "Call-ID: word-.!%*_+`'~()<>:\\\"/[]?{}@word.example",
         "CSeq: 2207 ~Odd.Method-09_AZ!%*+`'",
         "Max-Forwards: 255",
         "Content-Length: 0"]))

add("valid-display-quoted", "valid",
    "quoted display names with \\\" and \\\\ escapes and quoted-pair NUL, BEL, DEL",
    msg(["OPTIONS sip:judy@example.com SIP/2.0",
         "Via: SIP/2.0/UDP 192.0.2.17:5060;branch=z9hG4bK.dq.1",
         "Max-Forwards: 70",
         "From: \"Kim \\\"the \\\\ backslash\\\" Lee\" <sip:kim@example.net>;tag=dq-f1",
         "To: \"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f end\" <sip:judy@example.com>",
         "Call-ID: dquote.51@192.0.2.17",
         "CSeq: 5 OPTIONS",
         "Contact: \"\" <sip:kim@192.0.2.17>",
         "Content-Length: 0"]))

add("valid-pct-escapes", "valid",
    "%HH escapes in R-URI user (an embedded sips URI), From/To users and URI params",
    msg(["INVITE sips:sips%3Aleo%40example.com@gw.example.net;par%61m=val%41;lr SIP/2.0",
         "Via: SIP/2.0/TLS 192.0.2.18:5061;branch=z9hG4bK.pct.1",
         "Max-Forwards: 70",
         "From: <sips:m%61llory@example.net>;tag=pct-f1",
         "To: sips:%6Ceo@example.com",
         "Call-ID: pct.9@192.0.2.18",
         "CSeq: 1 INVITE",
         "Contact: <sips:mallory@192.0.2.18:5061;x%2Dtag=a%20b>",
         "Content-Type: application/sdp",
         "Content-Length: %d" % len(SDP)], SDP))

add("valid-pct00", "valid",
    "%00 in To/From/Contact user parts (two distinct contacts)",
    msg(["REGISTER sip:example.com SIP/2.0",
         "Via: SIP/2.0/UDP 192.0.2.19:5060;branch=z9hG4bK.nul.1",
         "Max-Forwards: 70",
         "From: <sip:null-%00-user@example.com>;tag=nul-f1",
         "To: <sip:null-%00-user@example.com>",
         "Call-ID: pct00.2@192.0.2.19",
         "CSeq: 9 REGISTER",
         "Contact: <sip:%00@192.0.2.19>",
         "Contact: <sip:%00%00@192.0.2.19>",
         "Expires: 600",
         "Content-Length: 0"]))

add("valid-pct-not-escape", "valid",
    "'%' as a token char: unknown method RE%47IST%45R (not REGISTER), % in a header name",
    msg(["RE%47IST%45R sip:example.com SIP/2.0",
         "Via: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bK.pne.1",
         "Max-Forwards: 70",
         "From: \"100% sure\" <sip:nina@example.com>;tag=pne-f1",
         "To: <sip:nina@example.com>",
         "Call-ID: pne.1@192.0.2.20",
         "CSeq: 3 RE%47IST%45R",
         "X-Per%63ent: %%%",
         "Contact: <sip:nina@192.0.2.20>",
         "Content-Length: 0"]))

add("valid-semicolon-user", "valid",
    "';' in the R-URI user part (user;par=u%40example.net), not a URI parameter",
    msg(["OPTIONS sip:oscar;par=u%40example.net@example.com SIP/2.0",
         "Via: SIP/2.0/UDP 192.0.2.21:5060;branch=z9hG4bK.semi.1",
         "Max-Forwards: 70",
         "From: <sip:pat@example.net>;tag=semi-f1",
         "To: <sip:oscar;par=u%40example.net@example.com>",
         "Call-ID: semiuser.4@192.0.2.21",
         "CSeq: 2 OPTIONS",
         "Content-Length: 0"]))

add("valid-tel-uri", "valid",
    "tel: URIs in Request-URI, To, From (global and local numbers with parameters)",
    msg(["INVITE tel:+447700900123 SIP/2.0",
         "Via: SIP/2.0/UDP 192.0.2.22:5060;branch=z9hG4bK.tel.1",
         "Max-Forwards: 70",
         "From: <tel:7042;phone-context=example.net>;tag=tel-f1",
         "To: <tel:+447700900123>",
         "Call-ID: tel.7@192.0.2.22",
         "CSeq: 1 INVITE",
         "Contact: <sip:7042@192.0.2.22>",
         "P-Asserted-Identity: <tel:+12025550100;cpc=ordinary>",
         "Content-Type: application/sdp",
         "Content-Length: %d" % len(SDP)], SDP))

SDP6 = CRLF.join([b"v=0", b"o=- 5 1 IN IP6 2001:db8::10", b"s=-", b"c=IN IP6 2001:db8::10",
                  b"t=0 0", b"m=audio 49172 RTP/AVP 0", b""])
add("valid-ipv6", "valid",
    "IPv6 references in R-URI, Via (sent-by and received), Route, Contact and SDP",
    msg(["INVITE sip:quinn@[2001:db8::20]:5060 SIP/2.0",
         "Via: SIP/2.0/UDP [2001:db8::10]:5060;branch=z9hG4bK.v6.1;received=2001:db8::10:1",
         "Via: SIP/2.0/UDP [2001:db8:0:0:0:0:0:11];branch=z9hG4bK.v6.0",
         "Route: <sip:[2001:db8::1];lr>",
         "Max-Forwards: 70",
         "From: \"Rita\" <sip:rita@[2001:db8::10]>;tag=v6-f1",
         "To: <sip:quinn@[2001:db8::20]>",
         "Call-ID: v6.abc@[2001:db8::10]",
         "CSeq: 1 INVITE",
         "Contact: <sip:rita@[2001:db8::10]:5060>",
         "Content-Type: application/sdp",
         "Content-Length: %d" % len(SDP6)], SDP6))

add("valid-unknown-scheme-headers", "valid",
    "unknown URI schemes (opaque) in To, From and Contact",
    msg(["OPTIONS sip:sam@example.com SIP/2.0",
         "Via: SIP/2.0/UDP 192.0.2.23:5060;branch=z9hG4bK.uks.1",
         "Max-Forwards: 70",
         "From: <http://www.example.com/~sam>;tag=uks-f1",
         "To: <isbn:9780000000002>",
         "Call-ID: unkscheme.1@192.0.2.23",
         "CSeq: 1 OPTIONS",
         "Contact: <x-private:opaque;stuff?and=more>",
         "Content-Length: 0"]))

add("valid-unknown-scheme-ruri", "valid",
    "Request-URI with an unknown scheme (well-formed absoluteURI, opaque)",
    msg(["OPTIONS noSuchScheme:opaque!content/here;x=1 SIP/2.0",
         "Via: SIP/2.0/UDP 192.0.2.24:5060;branch=z9hG4bK.uks.2",
         "Max-Forwards: 70",
         "From: <sip:tina@example.net>;tag=uks-f2",
         "To: <noSuchScheme:opaque!content/here;x=1>",
         "Call-ID: unkscheme.2@192.0.2.24",
         "CSeq: 1 OPTIONS",
         "Content-Length: 0"]))

add("valid-via-transports", "valid",
    "Via values with UDP, SCTP, TLS, WSS, an unknown transport token and TCP",
    msg(["OPTIONS sip:uma@example.com SIP/2.0",
         "Via: SIP/2.0/UDP 192.0.2.25;branch=z9hG4bK.tr.1",
         "Via: SIP/2.0/SCTP 192.0.2.26;branch=z9hG4bK.tr.2, SIP/2.0/TLS 192.0.2.27;branch=z9hG4bK.tr.3",
         "Via: SIP/2.0/WSS relay.example.net;branch=z9hG4bK.tr.4",
         "Via: SIP/2.0/Quantum-Foam 192.0.2.28;branch=z9hG4bK.tr.5",
         "Via: SIP/2.0/TCP 192.0.2.29:5060;branch=z9hG4bK.tr.6",
         "Max-Forwards: 70",
         "From: <sip:vic@example.net>;tag=tr-f1",
         "To: <sip:uma@example.com>",
         "Call-ID: transports.3@192.0.2.25",
         "CSeq: 1 OPTIONS",
         "Content-Length: 0"]))

add("valid-rport-received", "valid",
    "Via with rport (no value), and rport=N with received= (RFC 3581)",
    msg(["SIP/2.0 200 OK",
         "Via: SIP/2.0/UDP 192.0.2.30:5070;rport=61000;received=203.0.113.30;branch=z9hG4bK.rp.1",
         "Via: SIP/2.0/UDP 192.0.2.31:5060;branch=z9hG4bK.rp.0;rport",
         "From: <sip:walt@example.net>;tag=rp-f1",
         "To: <sip:xena@example.com>;tag=rp-t1",
         "Call-ID: rport.1@192.0.2.30",
         "CSeq: 4 OPTIONS",
         "Content-Length: 0"]))

MP_BIN = bytes([0x00, 0x01, 0x0D, 0x0A, 0x00, 0x0A, 0xFF, 0x0D, 0x2D, 0x2D, 0x00, 0x7F, 0x80, 0x0D,
                0x0A, 0x0D, 0x0A, 0x00])
MP_BODY = (b"--b0undary-7f3a\r\n"
           b"Content-Type: text/plain\r\n"
           b"\r\n"
           b"binary part follows\r\n"
           b"--b0undary-7f3a\r\n"
           b"Content-Type: application/octet-stream\r\n"
           b"Content-Transfer-Encoding: binary\r\n"
           b"\r\n" + MP_BIN + b"\r\n"
           b"--b0undary-7f3a--\r\n")
add("valid-multipart-binary", "valid",
    "multipart/mixed MESSAGE with a binary part (NUL, bare CR/LF, CRLFCRLF) framed by Content-Length",
    msg(["MESSAGE sip:yann@example.com SIP/2.0",
         "Via: SIP/2.0/UDP 192.0.2.32:5060;branch=z9hG4bK.mp.1",
         "Max-Forwards: 70",
         "From: <sip:zoe@example.net>;tag=mp-f1",
         "To: <sip:yann@example.com>",
         "Call-ID: multipart.2@192.0.2.32",
         "CSeq: 1 MESSAGE",
         "MIME-Version: 1.0",
         "Content-Type: multipart/mixed;boundary=b0undary-7f3a",
         "Content-Length: %d" % len(MP_BODY)], MP_BODY))

add("valid-empty-reason", "valid",
    "status line 'SIP/2.0 100 ' with the SP and an empty reason phrase",
    response("SIP/2.0 100 "))

add("valid-utf8-reason", "valid",
    "reason phrase with UTF-8 and reserved punctuation",
    response("SIP/2.0 200 Hôtel d’accueil — ça va ✓ ;/?:@&=+$,"))

add("valid-trailing-bytes", "valid",
    "Content-Length: 0 then a second request in the same datagram (trailing bytes ignored)",
    options(extra=["Expires: 10"]) +
    b"INVITE sip:evil@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.99;branch=z9hG4bK.tail\r\n\r\n")

TEXT = b"Hello over UDP, no Content-Length here.\r\n"
add("valid-no-content-length", "valid",
    "datagram without Content-Length: the body runs to the end of the datagram",
    msg(["MESSAGE sip:bob@example.com SIP/2.0",
         "Via: SIP/2.0/UDP 192.0.2.33:5060;branch=z9hG4bK.nocl.1",
         "Max-Forwards: 70",
         "From: <sip:alice@example.net>;tag=nocl-f1",
         "To: <sip:bob@example.com>",
         "Call-ID: nocl.1@192.0.2.33",
         "CSeq: 1 MESSAGE",
         "Content-Type: text/plain"], TEXT))

add("valid-max-forwards-zero", "valid",
    "Max-Forwards: 0 (legal; a proxy answers 483)",
    msg(["OPTIONS sip:bob@example.com SIP/2.0",
         "Via: SIP/2.0/UDP 192.0.2.34:5060;branch=z9hG4bK.mf0.1",
         "Max-Forwards: 0",
         "From: <sip:alice@example.net>;tag=mf0-f1",
         "To: <sip:bob@example.com>",
         "Call-ID: mf0.1@192.0.2.34",
         "CSeq: 1 OPTIONS",
         "Content-Length: 0"]))

add("valid-contact-star", "valid",
    "REGISTER with Contact: * and Expires: 0 (remove all bindings)",
    msg(["REGISTER sip:example.com SIP/2.0",
         "Via: SIP/2.0/UDP 192.0.2.35:5060;branch=z9hG4bK.star.1",
         "Max-Forwards: 70",
         "From: <sip:alice@example.com>;tag=star-f1",
         "To: <sip:alice@example.com>",
         "Call-ID: star.1@192.0.2.35",
         "CSeq: 12 REGISTER",
         "Contact: *",
         "Expires: 0",
         "Content-Length: 0"]))

add("valid-contact-param-outside", "valid",
    "Contact addr-spec without <>: ';unknownparam' is a header parameter",
    msg(["REGISTER sip:example.com SIP/2.0",
         "Via: SIP/2.0/UDP 192.0.2.36:5060;branch=z9hG4bK.cpo.1",
         "Max-Forwards: 70",
         "From: <sip:alice@example.com>;tag=cpo-f1",
         "To: <sip:alice@example.com>",
         "Call-ID: cparam.out@192.0.2.36",
         "CSeq: 1 REGISTER",
         "Contact: sip:alice@192.0.2.36;unknownparam;expires=300",
         "Content-Length: 0"]))

add("valid-contact-param-inside", "valid",
    "Contact name-addr: ';unknownparam' inside <> is a URI parameter",
    msg(["REGISTER sip:example.com SIP/2.0",
         "Via: SIP/2.0/UDP 192.0.2.37:5060;branch=z9hG4bK.cpi.1",
         "Max-Forwards: 70",
         "From: <sip:alice@example.com>;tag=cpi-f1",
         "To: <sip:alice@example.com>",
         "Call-ID: cparam.in@192.0.2.37",
         "CSeq: 1 REGISTER",
         "Contact: <sip:alice@192.0.2.37;unknownparam>;expires=300",
         "Content-Length: 0"]))

add("valid-contact-escaped-header", "valid",
    "Contact name-addr whose URI carries an escaped ?Route= header (allowed inside <>)",
    msg(["REGISTER sip:example.com SIP/2.0",
         "Via: SIP/2.0/UDP 192.0.2.38:5060;branch=z9hG4bK.ceh.1",
         "Max-Forwards: 70",
         "From: <sip:alice@example.com>;tag=ceh-f1",
         "To: <sip:alice@example.com>",
         "Call-ID: cesc.hdr@192.0.2.38",
         "CSeq: 1 REGISTER",
         "m: <sip:alice@192.0.2.38?Route=%3Csip:proxy.example.com%3Blr%3E>",
         "Content-Length: 0"]))

add("valid-no-lws-display", "valid",
    "token display name directly followed by '<' (RFC 4475 3.1.1.6: accept)",
    msg(["OPTIONS sip:bob@example.com SIP/2.0",
         "Via: SIP/2.0/UDP 192.0.2.39:5060;branch=z9hG4bK.nld.1",
         "Max-Forwards: 70",
         "From: Alice<sip:alice@example.net>;tag=nld-f1",
         "To: Bob<sip:bob@example.com>",
         "Call-ID: nolws.disp@192.0.2.39",
         "CSeq: 1 OPTIONS",
         "Content-Length: 0"]))

add("valid-rfc2543", "valid",
    "RFC 2543-era INVITE: branch without cookie, no From tag, no Max-Forwards, no Content-Length",
    msg(["INVITE sip:bob@example.com SIP/2.0",
         "Via: SIP/2.0/UDP 192.0.2.40:5060;branch=1a2b3c4d",
         "From: <sip:alice@example.net>",
         "To: <sip:bob@example.com>",
         "Call-ID: rfc2543.legacy@192.0.2.40",
         "CSeq: 1 INVITE",
         "Contact: <sip:alice@192.0.2.40>",
         "Content-Type: application/sdp"], SDP))

add("valid-auth-unknown-scheme", "valid",
    "Authorization with an unknown scheme and auth-params",
    msg(["REGISTER sip:example.com SIP/2.0",
         "Via: SIP/2.0/UDP 192.0.2.41:5060;branch=z9hG4bK.aus.1",
         "Max-Forwards: 70",
         "From: <sip:alice@example.com>;tag=aus-f1",
         "To: <sip:alice@example.com>",
         "Call-ID: authscheme.1@192.0.2.41",
         "CSeq: 2 REGISTER",
         "Contact: <sip:alice@192.0.2.41>",
         "Authorization: FancyNewScheme realm=\"example.com\", opaque=\"q9\", kind=token",
         "Content-Length: 0"]))

TOKEN = passport("12025550100", "447700900123", "A", "6b1c2d3e-0000-4000-8000-000000000001")
add("valid-identity-folded", "valid",
    "STIR/SHAKEN Identity split over folded lines (token, then ;info/;alg/;ppt)",
    msg(["INVITE sip:+447700900123@example.com;user=phone SIP/2.0",
         "Via: SIP/2.0/UDP 192.0.2.42:5060;branch=z9hG4bK.idf.1",
         "Max-Forwards: 70",
         "From: <sip:+12025550100@example.net;user=phone>;tag=idf-f1",
         "To: <sip:+447700900123@example.com;user=phone>",
         "Call-ID: identity.fold@192.0.2.42",
         "CSeq: 1 INVITE",
         "Contact: <sip:+12025550100@192.0.2.42>",
         "Identity:\r\n " + TOKEN + "\r\n ;info=<https://cert.example.org/sti/test-cert.pem>\r\n\t;alg=ES256;ppt=shaken",
         "Content-Type: application/sdp",
         "Content-Length: %d" % len(SDP)], SDP))

LONG_DN = "A" + "very long display name " * 30
LONG_VIAS = ["Via: SIP/2.0/UDP 192.0.2.%d:5060;branch=z9hG4bK.long.%02d" % (100 + i, i)
             for i in range(20)]
add("valid-long-values", "valid",
    "long display name, tag, Call-ID, URI parameter and a 20-value Via chain",
    msg(["INVITE sip:bob@example.com;" + "x" * 300 + "=" + "y" * 300 + " SIP/2.0"] + LONG_VIAS +
        ["Max-Forwards: 70",
         "From: \"%s\" <sip:alice@example.net>;tag=%s" % (LONG_DN, "t" * 400),
         "To: <sip:bob@example.com>",
         "Call-ID: %s@192.0.2.43" % ("c" * 500),
         "CSeq: 1 INVITE",
         "Contact: <sip:alice@192.0.2.100>",
         "Content-Type: application/sdp",
         "Content-Length: %d" % len(SDP)], SDP))

# --------------------------------------------------------------------------
# invalid: each message has exactly the one defect named in `what`
# --------------------------------------------------------------------------
add("invalid-via-separators", "invalid", "Via with stray ';;,;,,' separators",
    options(drop=("Via",), first="OPTIONS sip:bob@example.com SIP/2.0",
            extra=["Via: SIP/2.0/UDP 192.0.2.50:5060;;,;,,"]))
add("invalid-contact-semicolons", "invalid", "Contact followed by ';;;;' without parameters",
    options(drop=("Contact",), extra=["Contact: <sip:alice@192.0.2.10:5060>;;;;"]))

BODY = b"v=0\r\no=- 1 1 IN IP4 192.0.2.51\r\ns=-\r\nc=IN IP4 192.0.2.51\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"


def invite_with_cl(cl_lines, body=BODY):
    return msg(["INVITE sip:bob@example.com SIP/2.0",
                "Via: SIP/2.0/UDP 192.0.2.51:5060;branch=z9hG4bK.cl.1",
                "Max-Forwards: 70",
                "From: <sip:alice@example.net>;tag=cl-f1",
                "To: <sip:bob@example.com>",
                "Call-ID: clen.1@192.0.2.51",
                "CSeq: 1 INVITE",
                "Contact: <sip:alice@192.0.2.51>",
                "Content-Type: application/sdp"] + cl_lines, body)


add("invalid-cl-too-large", "invalid", "Content-Length larger than the body in the datagram",
    invite_with_cl(["Content-Length: 5000"]))
add("invalid-cl-negative", "invalid", "negative Content-Length",
    invite_with_cl(["Content-Length: -42"]))
add("invalid-cl-duplicate", "invalid", "two different Content-Length values",
    invite_with_cl(["Content-Length: %d" % len(BODY), "l: 12"]))
add("invalid-cseq-overflow", "invalid", "CSeq number 2^32 (> 2^32-1)",
    options(cseq="4294967296 OPTIONS"))
add("invalid-max-forwards-overflow", "invalid", "Max-Forwards 256 (> 255)",
    options(drop=("Max-Forwards",), extra=["Max-Forwards: 256"]))
add("invalid-expires-overflow", "invalid", "Expires 2^32 (> 2^32-1)",
    options(method="REGISTER", ruri="sip:example.com", extra=["Expires: 4294967296"]))
add("invalid-status-4digits", "invalid", "status code with 4 digits",
    response("SIP/2.0 2000 OK"))
add("invalid-status-over-699", "invalid", "status code 700 (> 699)",
    response("SIP/2.0 700 Beyond"))
add("invalid-status-under-100", "invalid", "status code 099 (< 100)",
    response("SIP/2.0 099 Too Low"))
add("invalid-unterminated-quote", "invalid", "display name opens a quote that never closes",
    options(drop=("To",), extra=["To: \"Bob <sip:bob@example.com>"]))
add("invalid-ruri-angle", "invalid", "Request-URI enclosed in <>",
    options(first="OPTIONS <sip:bob@example.com> SIP/2.0"))
add("invalid-ruri-space", "invalid", "space inside the Request-URI",
    options(first="OPTIONS sip:bob smith@example.com SIP/2.0"))
add("invalid-double-space", "invalid", "two SP between request-line elements",
    options(first="OPTIONS  sip:bob@example.com  SIP/2.0"))
add("invalid-trailing-space", "invalid", "SP after SIP/2.0 in the request line",
    options(first="OPTIONS sip:bob@example.com SIP/2.0 "))
add("invalid-ruri-headers", "invalid", "escaped headers (?Route=...) in the Request-URI",
    options(first="OPTIONS sip:bob@example.com?Route=%3Csip:evil.example.net%3E SIP/2.0"))
add("invalid-date-zone", "invalid", "Date in EST instead of GMT",
    options(extra=["Date: Wed, 01 Jan 2025 10:00:00 EST"]))
add("invalid-contact-addrspec-query", "invalid", "Contact addr-spec (no <>) with ?headers",
    options(method="REGISTER", ruri="sip:example.com", drop=("Contact",),
            extra=["Contact: sip:alice@192.0.2.10?Route=%3Csip:example.com%3E"]))
add("invalid-spaces-in-angle", "invalid", "spaces inside <...> around the URI",
    options(drop=("To",), extra=["To: < sip:bob@example.com >"]))
add("invalid-display-comma", "invalid", "unquoted display name containing ','",
    options(drop=("To",), extra=["To: Smith, Bob <sip:bob@example.com>"]))
add("invalid-version-3", "invalid", "SIP/3.0 in the request line",
    options(version="SIP/3.0"))
add("invalid-cseq-method-mismatch", "invalid", "CSeq method INVITE on an OPTIONS request",
    options(cseq="1 INVITE"))
add("invalid-missing-call-id", "invalid", "no Call-ID", options(drop=("Call-ID",)))
add("invalid-missing-from", "invalid", "no From", options(drop=("From",)))
add("invalid-missing-to", "invalid", "no To", options(drop=("To",)))
add("invalid-missing-cseq", "invalid", "no CSeq", options(drop=("CSeq",)))
add("invalid-missing-via", "invalid", "no Via", options(drop=("Via",)))
add("invalid-dup-to", "invalid", "To twice with different values",
    options(extra=["To: <sip:carol@example.com>"]))
add("invalid-dup-from", "invalid", "From twice with different values",
    options(extra=["From: <sip:mallory@example.net>;tag=other"]))
add("invalid-dup-call-id", "invalid", "Call-ID twice with different values",
    options(extra=["i: another-call-id@192.0.2.10"]))
add("invalid-dup-cseq", "invalid", "CSeq twice with different values",
    options(extra=["CSeq: 2 OPTIONS"]))
add("invalid-no-colon", "invalid", "header line without a colon",
    options(extra=["Foobar roobar"]))
add("invalid-no-version", "invalid", "request line without SIP-Version",
    options(first="OPTIONS sip:bob@example.com"))


def garbage(n, seed):
    """Deterministic pseudo-random bytes (a 31-bit LCG)."""
    out, x = bytearray(), seed
    for _ in range(n):
        x = (1103515245 * x + 12345) & 0x7FFFFFFF
        out.append((x >> 16) & 0xFF)
    return bytes(out)


add("invalid-garbage", "invalid", "256 bytes of binary garbage", garbage(256, 4475))
add("invalid-nul-method", "invalid", "NUL byte inside the method",
    options(first="OPT\x00IONS sip:bob@example.com SIP/2.0", cseq="1 OPT\x00IONS"))
add("invalid-lf-only", "invalid", "bare LF line ends (CRLF required)",
    options().replace(b"\r\n", b"\n"))
add("invalid-unterminated-headers", "invalid", "header section without the empty line",
    options()[:-2])
add("invalid-empty-header-name", "invalid", "header line with an empty name (': value')",
    options(extra=[": empty-name"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(HERE, "torture"))
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    manifest = "file\tverdict\twhat\n" + "".join(
        "%s.sip\t%s\t%s\n" % (n, v, w) for n, v, w, _ in MESSAGES)
    files = [(n + ".sip", d) for n, _, _, d in MESSAGES] + [("manifest.tsv", manifest.encode())]
    drift = 0
    for fname, data in files:
        path = os.path.join(a.out, fname)
        if a.check:
            try:
                same = open(path, "rb").read() == data
            except OSError:
                same = False
            if not same:
                print("differs:", path)
                drift += 1
        else:
            with open(path, "wb") as f:
                f.write(data)
    if a.check:
        return 1 if drift else 0
    nv = sum(1 for m in MESSAGES if m[1] == "valid")
    print("wrote %d messages (%d valid, %d invalid) to %s" % (len(MESSAGES), nv,
                                                               len(MESSAGES) - nv, a.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
