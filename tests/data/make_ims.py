#!/usr/bin/env python3
"""Writes sipwall's own IMS/VoLTE interconnect messages to tests/data/ims/.

Every message is put together here from typed pieces (URIs, Via values,
name-addrs, digest parameters, SDP ...).  The same pieces give the row of
expected.tsv for that message, so the expectations come from how the bytes
were built, not from parsing them: an independent truth for the parser's
typed accessors.  Column meanings: tests/data/ims/README.md.

Addresses are documentation ranges (192.0.2.0/24, 198.51.100.0/24,
203.0.113.0/24, 2001:db8::/32); IMS domains use the test PLMNs MCC 001;
numbers come from ranges reserved for drama/testing (+44 7700 900xxx,
+1 202 555 01xx, +61 491 570 1xx, +33 639 98xxxx).

usage: make_ims.py [--out DIR] [--check]
  --check  compare with the files on disk instead of writing; exit 1 on drift
"""
import argparse
import base64
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CRLF = "\r\n"

COLUMNS = ["file", "kind", "method", "status", "ruri_scheme", "ruri_user", "ruri_host",
           "ruri_port", "via_count", "via1_transport", "via1_host", "via1_port", "via1_branch",
           "via1_rport", "via1_received", "from_display", "from_user", "from_host", "from_tag",
           "to_user", "to_host", "to_tag", "call_id", "cseq_num", "cseq_method",
           "contact_user", "contact_host", "contact_port", "max_forwards", "content_length",
           "content_type", "expires", "pai_count", "pai1_user", "auth_username", "auth_realm",
           "auth_nonce", "auth_response", "auth_qop", "auth_nc", "identity_alg",
           "identity_ppt", "identity_info", "sdp_o_addr", "sdp_c_addr", "sdp_m0_media",
           "sdp_m0_port", "body_len"]

# ---- the networks -----------------------------------------------------------
HOME = "ims.mnc001.mcc001.3gppnetwork.org"        # the operator sipwall protects
PARTNER = "ims.mnc002.mcc001.3gppnetwork.org"     # a roaming/interconnect partner
US = "ims.mnc003.mcc001.3gppnetwork.org"          # a partner that signs with SHAKEN
VISITED = "ims.mnc010.mcc001.3gppnetwork.org"     # a visited network (roaming UE)
H_IBCF = "203.0.113.10"
P_IBCF = "198.51.100.20"
US_IBCF = "198.51.100.70"
IPX = "192.0.2.1"


# ---- typed pieces -------------------------------------------------------------
class Uri:
    """sip/sips/tel URI.  user is written as given (already %-escaped)."""

    def __init__(self, scheme, user="", host="", port=None, params=""):
        self.scheme, self.user, self.host, self.port, self.params = scheme, user, host, port, params

    def __str__(self):
        if self.scheme == "tel":
            s = "tel:" + self.user
        else:
            h = "[%s]" % self.host if ":" in self.host else self.host
            s = "%s:%s%s" % (self.scheme, self.user + "@" if self.user else "", h)
            if self.port is not None:
                s += ":%d" % self.port
        return s + (";" + self.params if self.params else "")


def sip(user, host, port=None, params=""):
    return Uri("sip", user, host, port, params)


def tel(number, params=""):
    return Uri("tel", number, params=params)


def phone(number, host):
    return Uri("sip", number, host, None, "user=phone")


class Sdp:
    """A small SDP body; o=/c=/first m= are what the test reads back."""

    def __init__(self, addr, port, media="audio", sess="1", ver="1", codecs="amrwb",
                 direction="sendrecv", extra=()):
        self.ip6 = ":" in addr
        self.o_addr = self.c_addr = addr
        self.media, self.port = media, port
        af = "IP6" if self.ip6 else "IP4"
        lines = ["v=0", "o=- %s %s IN %s %s" % (sess, ver, af, addr), "s=-",
                 "c=IN %s %s" % (af, addr), "b=AS:41", "t=0 0"]
        if codecs == "amrwb":
            lines += ["m=%s %d RTP/AVP 116 118 111" % (media, port), "b=AS:41",
                      "a=rtpmap:116 AMR-WB/16000/1",
                      "a=fmtp:116 mode-change-capability=2;max-red=220",
                      "a=rtpmap:118 AMR/8000/1", "a=fmtp:118 mode-change-capability=2",
                      "a=rtpmap:111 telephone-event/16000", "a=fmtp:111 0-15"]
        else:
            lines += ["m=%s %d RTP/AVP 0 8 101" % (media, port), "a=rtpmap:0 PCMU/8000",
                      "a=rtpmap:8 PCMA/8000", "a=rtpmap:101 telephone-event/8000",
                      "a=fmtp:101 0-15"]
        lines += list(extra) + ["a=ptime:20", "a=maxptime:240", "a=" + direction]
        self.data = (CRLF.join(lines) + CRLF).encode("ascii")


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def passport(orig, dest, attest, iat, origid):
    """PASSporT-shaped compact JWS (SHAKEN claims) with a dummy signature."""
    hdr = {"alg": "ES256", "ppt": "shaken", "typ": "passport",
           "x5u": "https://sti-cert.example.org/certs/mnc003.pem"}
    pay = {"attest": attest, "dest": {"tn": [dest]}, "iat": iat, "orig": {"tn": orig},
           "origid": origid}
    sig = bytes((i * 73 + iat) & 0xFF for i in range(64))
    return ".".join([b64url(json.dumps(hdr, separators=(",", ":"), sort_keys=True).encode()),
                     b64url(json.dumps(pay, separators=(",", ":"), sort_keys=True).encode()),
                     b64url(sig)])


COMPACT = {"Via": "v", "From": "f", "To": "t", "Call-ID": "i", "Contact": "m",
           "Content-Type": "c", "Content-Length": "l", "Supported": "k", "Subject": "s",
           "Event": "o", "Refer-To": "r", "Referred-By": "b", "Identity": "y",
           "Allow-Events": "u", "Session-Expires": "x", "Accept-Contact": "a"}


class Msg:
    """One message: header lines are added in order; the expected row grows
    from the same arguments.  Only the first Via/Contact/PAI/auth header feeds
    the via1_/contact_/pai1_/auth_ columns."""

    def __init__(self, name, desc, compact=False):
        self.name, self.desc, self.compact = name, desc, compact
        self.lines, self.body = [], b""
        self.e = {c: "" for c in COLUMNS}
        self.e["file"] = name + ".sip"
        self.e["via_count"] = 0
        self.e["pai_count"] = 0
        self.last_via = None

    def _n(self, name):
        return COMPACT.get(name, name) if self.compact else name

    def h(self, name, value):
        self.lines.append("%s: %s" % (self._n(name), value))
        return self

    # start lines
    def request(self, method, ruri):
        self.start = "%s %s SIP/2.0" % (method, ruri)
        self.e.update(kind="request", method=method, ruri_scheme=ruri.scheme,
                      ruri_user=ruri.user, ruri_host=ruri.host,
                      ruri_port="" if ruri.port is None else str(ruri.port))
        return self

    def response(self, code, reason):
        self.start = "SIP/2.0 %d %s" % (code, reason)
        self.e.update(kind="response", status=str(code))
        return self

    # Via: `same_line` appends the value to the previous Via header after a comma
    def via(self, transport, host, port=None, branch=None, rport=None, received=None,
            same_line=False):
        hp = "[%s]" % host if ":" in host else host
        v = "SIP/2.0/%s %s%s" % (transport, hp, "" if port is None else ":%d" % port)
        if rport is True:
            v += ";rport"
        elif rport is not None:
            v += ";rport=%d" % rport
        if received:
            v += ";received=" + received
        v += ";branch=" + branch
        if same_line:
            self.lines[self.last_via] += "," + v
        else:
            self.h("Via", v)
            self.last_via = len(self.lines) - 1
        if self.e["via_count"] == 0:
            self.e.update(via1_transport=transport, via1_host=host,
                          via1_port="" if port is None else str(port), via1_branch=branch,
                          via1_rport="" if rport is None else ("-" if rport is True else str(rport)),
                          via1_received=received or "")
        self.e["via_count"] += 1
        return self

    def vias(self, vs):
        for v in vs:
            self.via(*v[:3], **v[3]) if len(v) > 3 else self.via(*v)
        return self

    def _nameaddr(self, uri, display=None, tag=None, params=""):
        s = ('"%s" ' % display) if display else ""
        s += "<%s>" % uri
        if params:
            s += ";" + params
        if tag:
            s += ";tag=" + tag
        return s

    def from_(self, uri, tag, display=None):
        self.h("From", self._nameaddr(uri, display, tag))
        self.e.update(from_display=display or "", from_user=uri.user,
                      from_host=uri.host, from_tag=tag)
        return self

    def to(self, uri, tag=None, display=None):
        self.h("To", self._nameaddr(uri, display, tag))
        self.e.update(to_user=uri.user, to_host=uri.host, to_tag=tag or "")
        return self

    def call_id(self, cid):
        self.h("Call-ID", cid)
        self.e["call_id"] = cid
        return self

    def cseq(self, num, method):
        self.h("CSeq", "%d %s" % (num, method))
        self.e.update(cseq_num=str(num), cseq_method=method)
        return self

    def contact(self, uri, params="", display=None):
        self.h("Contact", self._nameaddr(uri, display, None, params))
        if not self.e["contact_host"]:
            self.e.update(contact_user=uri.user, contact_host=uri.host,
                          contact_port="" if uri.port is None else str(uri.port))
        return self

    def max_forwards(self, n):
        self.h("Max-Forwards", str(n))
        self.e["max_forwards"] = str(n)
        return self

    def expires(self, n):
        self.h("Expires", str(n))
        self.e["expires"] = str(n)
        return self

    def pai(self, *uris, display=None):
        """One P-Asserted-Identity header with one or more comma-separated values."""
        self.h("P-Asserted-Identity", ", ".join(self._nameaddr(u, display) for u in uris))
        if self.e["pai_count"] == 0:
            self.e["pai1_user"] = uris[0].user
        self.e["pai_count"] += len(uris)
        return self

    def digest(self, header, params, unquoted=("algorithm", "qop", "nc", "stale")):
        """Digest credentials/challenge; params is a list of (name, value)."""
        vals = ", ".join("%s=%s" % (k, v if k in unquoted else '"%s"' % v) for k, v in params)
        self.h(header, "Digest " + vals)
        d = dict(params)
        if not self.e["auth_realm"]:
            self.e.update(auth_username=d.get("username", ""), auth_realm=d.get("realm", ""),
                          auth_nonce=d.get("nonce", ""), auth_response=d.get("response", ""),
                          auth_qop=d.get("qop", ""), auth_nc=d.get("nc", ""))
        return self

    def identity(self, token, info, alg="ES256", ppt="shaken", fold=False):
        sep = "\r\n " if fold else ""
        self.h("Identity", "%s%s;info=<%s>;alg=%s;ppt=%s" % (token, sep, info, alg, ppt))
        self.e.update(identity_alg=alg, identity_ppt=ppt, identity_info=info)
        return self

    def content(self, ctype, data, sdp=None):
        self.body = data if isinstance(data, bytes) else data.encode("utf-8")
        self.h("Content-Type", ctype)
        self.e["content_type"] = ctype.split(";")[0]
        if sdp is not None:
            self.e.update(sdp_o_addr=sdp.o_addr, sdp_c_addr=sdp.c_addr, sdp_m0_media=sdp.media,
                          sdp_m0_port=str(sdp.port))
        return self

    def sdp(self, s):
        return self.content("application/sdp", s.data, s)

    def done(self):
        """Adds Content-Length last and returns (bytes, expected row)."""
        self.h("Content-Length", str(len(self.body)))
        self.e["content_length"] = str(len(self.body))
        self.e["body_len"] = str(len(self.body))
        data = (self.start + CRLF + "".join(l + CRLF for l in self.lines) + CRLF).encode("utf-8")
        self.e["via_count"] = str(self.e["via_count"])
        self.e["pai_count"] = str(self.e["pai_count"])
        return data + self.body, self.e


MESSAGES = []  # (Msg, bytes, row)


def emit(m):
    data, row = m.done()
    MESSAGES.append((m, data, row))


# ---- call 1: VoLTE call from the partner across the NNI -----------------------
A_NUM, B_NUM = "+33639981234", "+447700900123"
C1 = "c1-7f3e2a9b4c@pcscf2.%s" % PARTNER
C1_FTAG, C1_TTAG = "a7c1f0", "h9b2e4"
C1_VIAS = [("UDP", P_IBCF, 5060, dict(branch="z9hG4bK.pibcf.c1a")),
           ("UDP", "scscf2." + PARTNER, 6060, dict(branch="z9hG4bK.pscscf.c1a")),
           ("UDP", "pcscf2." + PARTNER, 5060, dict(branch="z9hG4bK.ppcscf.c1a"))]
C1_RURI = phone(B_NUM, HOME)
C1_FROM = phone(A_NUM, PARTNER)
C1_TO = tel(B_NUM)
A_CONTACT = sip(A_NUM, "198.51.100.31", 5062, "transport=udp")
B_CONTACT = sip(B_NUM, "203.0.113.50", 5060)
RR_LINES = ["<sip:%s:5060;lr>" % H_IBCF, "<sip:%s:5060;lr>" % P_IBCF,
            "<sip:scscf2.%s:6060;lr>" % PARTNER]
ICSI = '+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel"'
PCV = 'icid-value="PCSF:1-cbf0-5-1-000000000002a4c1";icid-generated-at=198.51.100.31;orig-ioi=' + PARTNER
PANI = "3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=0010100a1b2c3d4e5"
A_SDP = Sdp("198.51.100.40", 40010, sess="3984212", extra=[
    "a=curr:qos local none", "a=curr:qos remote none", "a=des:qos mandatory local sendrecv",
    "a=des:qos optional remote sendrecv"])
B_SDP = Sdp("203.0.113.60", 50020, sess="771123", extra=[
    "a=curr:qos local none", "a=curr:qos remote none", "a=des:qos mandatory local sendrecv",
    "a=des:qos mandatory remote sendrecv", "a=conf:qos remote sendrecv"])
A_SDP2 = Sdp("198.51.100.40", 40010, sess="3984212", ver="2", extra=[
    "a=curr:qos local sendrecv", "a=curr:qos remote none", "a=des:qos mandatory local sendrecv",
    "a=des:qos optional remote sendrecv"])
B_SDP2 = Sdp("203.0.113.60", 50020, sess="771123", ver="2", extra=[
    "a=curr:qos local sendrecv", "a=curr:qos remote sendrecv",
    "a=des:qos mandatory local sendrecv", "a=des:qos mandatory remote sendrecv"])
SHAKEN_A = passport("33639981234", "447700900123", "A", 1735689600,
                    "4f1a9d2c-7b3e-4c11-9a0e-3d2b1c0f9e8d")


def c1_response(name, desc, code, reason, cseq, method, to_tag=C1_TTAG):
    m = Msg(name, desc).response(code, reason).vias(C1_VIAS)
    if code > 100:
        for rr in RR_LINES:
            m.h("Record-Route", rr)
    m.from_(C1_FROM, C1_FTAG).to(C1_TO, to_tag).call_id(C1).cseq(cseq, method)
    return m


m = Msg("01-invite-volte", "VoLTE INVITE at the home IBCF: SDP with preconditions, 3 Via, "
        "Record-Route, PAI sip+tel in two headers, P-Charging-Vector, PANI, Identity")
m.request("INVITE", C1_RURI).vias(C1_VIAS)
for rr in RR_LINES[1:]:
    m.h("Record-Route", rr)
m.max_forwards(66).from_(C1_FROM, C1_FTAG).to(C1_TO).call_id(C1).cseq(101, "INVITE")
m.contact(A_CONTACT, ICSI + ';+sip.instance="<urn:gsma:imei:35209900-176148-0>"')
m.pai(phone(A_NUM, PARTNER)).pai(tel(A_NUM))
m.h("P-Charging-Vector", PCV).h("P-Access-Network-Info", PANI + ";network-provided")
m.h("P-Early-Media", "supported").h("Accept-Contact", "*;" + ICSI)
m.h("Allow", "INVITE, ACK, CANCEL, BYE, UPDATE, PRACK, INFO, OPTIONS, MESSAGE, REFER, NOTIFY")
m.h("Supported", "100rel, timer, histinfo").h("Require", "precondition")
m.h("Session-Expires", "1800;refresher=uac").h("Min-SE", "90")
m.identity(SHAKEN_A, "https://sti-cert.example.org/certs/mnc002.pem")
m.h("User-Agent", "IBCF-Partner/7.1").sdp(A_SDP)
emit(m)

m = c1_response("02-100-trying", "100 Trying from the home IBCF (no To tag)", 100, "Trying",
                101, "INVITE", to_tag=None)
emit(m)

m = c1_response("03-183-progress-100rel", "183 Session Progress sent reliably (100rel, RSeq) "
                "with the precondition SDP answer", 183, "Session Progress", 101, "INVITE")
m.contact(B_CONTACT, ICSI).h("Require", "100rel, precondition").h("RSeq", "1")
m.h("P-Early-Media", "sendrecv").h("P-Charging-Vector", PCV + ";term-ioi=" + HOME)
m.pai(phone(B_NUM, HOME)).sdp(B_SDP)
emit(m)

C1_ROUTE = ["<sip:scscf2.%s:6060;lr>" % PARTNER, "<sip:%s:5060;lr>" % P_IBCF,
            "<sip:%s:5060;lr>" % H_IBCF]


def c1_request(name, desc, method, cseq, branch, sdp=None):
    m = Msg(name, desc).request(method, B_CONTACT)
    m.via("UDP", P_IBCF, 5060, branch=branch)
    m.via("UDP", "scscf2." + PARTNER, 6060, branch=branch.replace("pibcf", "pscscf"))
    m.via("UDP", "pcscf2." + PARTNER, 5060, branch=branch.replace("pibcf", "ppcscf"))
    m.h("Route", "<sip:%s:5060;lr>" % H_IBCF)
    m.max_forwards(67).from_(C1_FROM, C1_FTAG).to(C1_TO, C1_TTAG).call_id(C1).cseq(cseq, method)
    return m


m = c1_request("04-prack-183", "PRACK for the reliable 183 (RAck 1 101 INVITE)", "PRACK", 102,
               "z9hG4bK.pibcf.c1b")
m.h("RAck", "1 101 INVITE")
emit(m)

m = Msg("05-200-prack", "200 OK for the PRACK").response(200, "OK")
m.via("UDP", P_IBCF, 5060, branch="z9hG4bK.pibcf.c1b")
m.via("UDP", "scscf2." + PARTNER, 6060, branch="z9hG4bK.pscscf.c1b")
m.via("UDP", "pcscf2." + PARTNER, 5060, branch="z9hG4bK.ppcscf.c1b")
m.from_(C1_FROM, C1_FTAG).to(C1_TO, C1_TTAG).call_id(C1).cseq(102, "PRACK")
emit(m)

m = c1_request("06-update-precondition", "UPDATE with SDP: the caller's QoS is now reserved",
               "UPDATE", 103, "z9hG4bK.pibcf.c1c")
m.contact(A_CONTACT).sdp(A_SDP2)
emit(m)

m = Msg("07-200-update", "200 OK for the UPDATE with SDP (both sides' preconditions met)")
m.response(200, "OK")
m.via("UDP", P_IBCF, 5060, branch="z9hG4bK.pibcf.c1c")
m.via("UDP", "scscf2." + PARTNER, 6060, branch="z9hG4bK.pscscf.c1c")
m.via("UDP", "pcscf2." + PARTNER, 5060, branch="z9hG4bK.ppcscf.c1c")
m.from_(C1_FROM, C1_FTAG).to(C1_TO, C1_TTAG).call_id(C1).cseq(103, "UPDATE")
m.contact(B_CONTACT).sdp(B_SDP2)
emit(m)

m = c1_response("08-180-ringing", "180 Ringing (unreliable) after the preconditions are met",
                180, "Ringing", 101, "INVITE")
m.contact(B_CONTACT, ICSI).h("P-Early-Media", "inactive")
emit(m)

m = c1_response("09-200-invite", "200 OK to the INVITE: callee's PAI, session timer, no SDP",
                200, "OK", 101, "INVITE")
m.contact(B_CONTACT, ICSI).pai(phone(B_NUM, HOME))
m.h("Require", "timer").h("Session-Expires", "1800;refresher=uac")
m.h("Allow", "INVITE, ACK, CANCEL, BYE, UPDATE, PRACK, INFO, OPTIONS")
emit(m)

m = c1_request("10-ack", "ACK for the 2xx, new branch, Route toward the home IBCF", "ACK", 101,
               "z9hG4bK.pibcf.c1d")
emit(m)

m = c1_request("11-bye", "BYE from the caller with a Q.850 Reason and P-Charging-Vector", "BYE",
               104, "z9hG4bK.pibcf.c1e")
m.h("Reason", 'Q.850;cause=16;text="Normal call clearing"').h("P-Charging-Vector", PCV)
emit(m)

m = Msg("12-200-bye", "200 OK for the BYE").response(200, "OK")
m.via("UDP", P_IBCF, 5060, branch="z9hG4bK.pibcf.c1e")
m.via("UDP", "scscf2." + PARTNER, 6060, branch="z9hG4bK.pscscf.c1e")
m.via("UDP", "pcscf2." + PARTNER, 5060, branch="z9hG4bK.ppcscf.c1e")
m.from_(C1_FROM, C1_FTAG).to(C1_TO, C1_TTAG).call_id(C1).cseq(104, "BYE")
emit(m)

# ---- call 2: compact forms, cancelled while ringing ----------------------------
C2 = "c2-19ab77@%s" % P_IBCF
C2_FROM = phone("+33639981777", PARTNER)
C2_TO = tel("+447700900456")
C2_RURI = phone("+447700900456", HOME)
C2_SDP = Sdp("198.51.100.41", 40200, sess="55", codecs="g711")


def c2_vias(m):
    m.via("UDP", P_IBCF, 5060, branch="z9hG4bK.pibcf.c2a")
    m.via("UDP", "scscf2." + PARTNER, 6060, branch="z9hG4bK.pscscf.c2a", same_line=True)
    return m


m = Msg("13-invite-compact", "INVITE with compact header names (v f t i m k s c l) and a "
        "comma-separated Via list", compact=True)
m.request("INVITE", C2_RURI)
c2_vias(m).max_forwards(68).from_(C2_FROM, "c2f1").to(C2_TO).call_id(C2).cseq(7, "INVITE")
m.contact(sip("+33639981777", "198.51.100.32", 5060)).pai(tel("+33639981777"))
m.h("Supported", "100rel, timer").h("Subject", "compact call").sdp(C2_SDP)
emit(m)

m = Msg("14-cancel", "CANCEL for the ringing INVITE: same R-URI, Call-ID, From, To, CSeq number "
        "and top branch")
m.request("CANCEL", C2_RURI)
m.via("UDP", P_IBCF, 5060, branch="z9hG4bK.pibcf.c2a")
m.max_forwards(70).from_(C2_FROM, "c2f1").to(C2_TO).call_id(C2).cseq(7, "CANCEL")
m.h("Reason", 'SIP;cause=487;text="Originator canceled"')
emit(m)

m = Msg("15-200-cancel", "200 OK for the CANCEL").response(200, "OK")
m.via("UDP", P_IBCF, 5060, branch="z9hG4bK.pibcf.c2a")
m.from_(C2_FROM, "c2f1").to(C2_TO, "h2t9").call_id(C2).cseq(7, "CANCEL")
emit(m)

m = Msg("16-487-terminated", "487 Request Terminated for the cancelled INVITE")
m.response(487, "Request Terminated")
c2_vias(m).from_(C2_FROM, "c2f1").to(C2_TO, "h2t9").call_id(C2).cseq(7, "INVITE")
emit(m)

m = Msg("17-ack-487", "hop-by-hop ACK for the 487 (same branch as the INVITE)")
m.request("ACK", C2_RURI)
m.via("UDP", P_IBCF, 5060, branch="z9hG4bK.pibcf.c2a")
m.max_forwards(70).from_(C2_FROM, "c2f1").to(C2_TO, "h2t9").call_id(C2).cseq(7, "ACK")
emit(m)

# ---- roaming registration ---------------------------------------------------------
UE6 = "2001:db8:10::a1b2"
IMPU = sip("+447700900789", HOME)
IMPI = "001010000000789@" + HOME
REG_CID = "reg-5d2c91e0@pcscf1.%s" % VISITED
UE_CONTACT = sip("+447700900789", UE6, 5064)
UE_CPARAMS = ('+sip.instance="<urn:gsma:imei:35209900-176148-1>";' + ICSI +
              ";+g.3gpp.smsip;audio")
NONCE = "bG9yZW0taXBzdW0tbm9uY2UtMDAwMDAwMDAwMDAwMDAwMQ=="
OPAQUE = "5ccc069c403ebaf9f0171e9517f40e41"


def reg_vias(m, branch_sfx):
    m.via("UDP", "pcscf1." + VISITED, 5060, branch="z9hG4bK.vpcscf." + branch_sfx)
    m.via("UDP", UE6, 5064, branch="z9hG4bK.ue." + branch_sfx, rport=5064, received=UE6)
    return m


def register(name, desc, cseq, branch_sfx, auth_params):
    m = Msg(name, desc).request("REGISTER", sip("", HOME))
    reg_vias(m, branch_sfx).max_forwards(69)
    m.from_(IMPU, "r7f%d" % cseq).to(IMPU).call_id(REG_CID).cseq(cseq, "REGISTER")
    m.contact(UE_CONTACT, "expires=600000;" + UE_CPARAMS)
    m.h("Path", "<sip:term@pcscf1.%s;lr>" % VISITED).h("Require", "path, sec-agree")
    m.h("Supported", "path, gruu").h("P-Visited-Network-ID", '"%s"' % VISITED)
    m.h("P-Access-Network-Info", "3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=0011000b2c3d4e5f6")
    m.h("P-Charging-Vector", 'icid-value="PCSF:reg-5d2c91e0";icid-generated-at=%s' % UE6)
    m.digest("Authorization", auth_params).expires(600000)
    return m


m = register("18-register-initial", "initial IMS REGISTER via the visited P-CSCF: IPv6 UE, Path, "
             "P-Visited-Network-ID, PANI, Authorization without a response", 1, "r1",
             [("username", IMPI), ("realm", HOME), ("uri", "sip:" + HOME), ("nonce", ""),
              ("response", "")])
emit(m)

m = Msg("19-401-unauthorized", "401 with a WWW-Authenticate digest challenge (MD5, qop auth)")
m.response(401, "Unauthorized")
reg_vias(m, "r1").from_(IMPU, "r7f1").to(IMPU, "s401x").call_id(REG_CID).cseq(1, "REGISTER")
m.digest("WWW-Authenticate", [("realm", HOME), ("nonce", NONCE), ("algorithm", "MD5"),
                              ("qop", "auth"), ("opaque", OPAQUE)],
         unquoted=("algorithm",))
emit(m)

m = register("20-register-auth", "REGISTER answering the challenge: full digest credentials", 2,
             "r2", [("username", IMPI), ("realm", HOME), ("nonce", NONCE),
                    ("uri", "sip:" + HOME), ("response", "0a1b2c3d4e5f60718293a4b5c6d7e8f9"),
                    ("algorithm", "MD5"), ("cnonce", "8f2e4a6b"), ("opaque", OPAQUE),
                    ("qop", "auth"), ("nc", "00000001")])
emit(m)

m = Msg("21-200-register", "200 OK to the REGISTER: Service-Route, P-Associated-URI, Path, "
        "Contact with expires, Date")
m.response(200, "OK")
reg_vias(m, "r2").from_(IMPU, "r7f2").to(IMPU, "s200y").call_id(REG_CID).cseq(2, "REGISTER")
m.contact(UE_CONTACT, "expires=600000;" + UE_CPARAMS)
m.h("Path", "<sip:term@pcscf1.%s;lr>" % VISITED)
m.h("Service-Route", "<sip:orig@scscf1.%s:6060;lr>" % HOME)
m.h("P-Associated-URI", "<sip:+447700900789@%s>, <tel:+447700900789>" % HOME)
m.h("Date", "Wed, 01 Jan 2025 12:00:00 GMT")
emit(m)

# ---- keepalive, SMS, subscriptions, transfer, DTMF ---------------------------------
m = Msg("22-options-keepalive", "OPTIONS ping between IBCFs (no user part, rport requested)")
m.request("OPTIONS", sip("", H_IBCF, 5060))
m.via("UDP", P_IBCF, 5060, branch="z9hG4bK.opt.77a1", rport=True)
m.max_forwards(1).from_(sip("", P_IBCF), "ka77").to(sip("", H_IBCF))
m.call_id("ka-77a1@%s" % P_IBCF).cseq(77, "OPTIONS").h("Accept", "application/sdp")
emit(m)

m = Msg("23-200-options", "200 OK to the OPTIONS: rport and received filled in, Allow, Supported")
m.response(200, "OK")
m.via("UDP", P_IBCF, 5060, branch="z9hG4bK.opt.77a1", rport=5060, received="198.51.100.21")
m.from_(sip("", P_IBCF), "ka77").to(sip("", H_IBCF), "hk1").call_id("ka-77a1@%s" % P_IBCF)
m.cseq(77, "OPTIONS").h("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, PRACK, UPDATE, MESSAGE")
m.h("Accept", "application/sdp, application/vnd.3gpp.sms").h("Supported", "100rel, timer")
emit(m)

# RP-DATA (MS->network) carrying an SMS-SUBMIT "hello": binary with 0x00 bytes
TPDU = bytes([0x01, 0x05, 0x0C, 0x91, 0x44, 0x77, 0x00, 0x09, 0x21, 0x43, 0x00, 0x00,
              0x05, 0xE8, 0x32, 0x9B, 0xFD, 0x06])
RPDATA = bytes([0x00, 0x01, 0x00, 0x07, 0x91, 0x44, 0x77, 0x00, 0x09, 0x00, 0x10,
                len(TPDU)]) + TPDU
m = Msg("24-message-sms", "MESSAGE carrying SMS-over-IP (RP-DATA/SMS-SUBMIT, binary with NULs) "
        "to the home SMSC PSI")
m.request("MESSAGE", sip("sc", "smsc." + HOME))
m.via("UDP", P_IBCF, 5060, branch="z9hG4bK.pibcf.sms1")
m.via("UDP", "scscf2." + PARTNER, 6060, branch="z9hG4bK.pscscf.sms1")
m.max_forwards(68).from_(phone("+33639981555", PARTNER), "sm55").to(sip("sc", "smsc." + HOME))
m.call_id("sms-0c4e@scscf2.%s" % PARTNER).cseq(1, "MESSAGE")
m.pai(tel("+33639981555")).h("Request-Disposition", "no-fork")
m.h("Accept-Contact", "*;+g.3gpp.smsip").h("P-Charging-Vector", 'icid-value="sms-0c4e"')
m.content("application/vnd.3gpp.sms", RPDATA)
emit(m)

m = Msg("25-202-accepted", "202 Accepted for the SMS MESSAGE").response(202, "Accepted")
m.via("UDP", P_IBCF, 5060, branch="z9hG4bK.pibcf.sms1")
m.via("UDP", "scscf2." + PARTNER, 6060, branch="z9hG4bK.pscscf.sms1")
m.from_(phone("+33639981555", PARTNER), "sm55").to(sip("sc", "smsc." + HOME), "smsc9")
m.call_id("sms-0c4e@scscf2.%s" % PARTNER).cseq(1, "MESSAGE")
emit(m)

SUB_CID = "sub-a9f0@pcscf1.%s" % VISITED
m = Msg("26-subscribe-reg", "SUBSCRIBE to the reg event package from the visited P-CSCF")
m.request("SUBSCRIBE", IMPU)
m.via("UDP", "pcscf1." + VISITED, 5060, branch="z9hG4bK.vpcscf.s1")
m.h("Route", "<sip:orig@scscf1.%s:6060;lr>" % HOME).max_forwards(70)
m.from_(sip("pcscf1", VISITED), "sb1").to(IMPU).call_id(SUB_CID).cseq(1, "SUBSCRIBE")
m.contact(sip("", "pcscf1." + VISITED, 5060)).h("Event", "reg").expires(600000)
m.h("Accept", "application/reginfo+xml").pai(sip("pcscf1", VISITED))
emit(m)

REGINFO = ('<?xml version="1.0"?>\r\n'
           '<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="0" state="full">\r\n'
           ' <registration aor="sip:+447700900789@%s" id="a7" state="active">\r\n'
           '  <contact id="c9" state="active" event="registered" expires="600000">\r\n'
           '   <uri>sip:+447700900789@[%s]:5064</uri>\r\n'
           '  </contact>\r\n'
           ' </registration>\r\n'
           '</reginfo>\r\n') % (HOME, UE6)
m = Msg("27-notify-reginfo", "NOTIFY with a full reginfo+xml document")
m.request("NOTIFY", sip("", "pcscf1." + VISITED, 5060))
m.via("UDP", "scscf1." + HOME, 6060, branch="z9hG4bK.hscscf.n1")
m.max_forwards(70).from_(IMPU, "nt1").to(sip("pcscf1", VISITED), "sb1").call_id(SUB_CID)
m.cseq(1, "NOTIFY").contact(sip("", "scscf1." + HOME, 6060)).h("Event", "reg")
m.h("Subscription-State", "active;expires=600000")
m.content("application/reginfo+xml", REGINFO)
emit(m)

m = Msg("28-refer-transfer", "in-dialog REFER (call transfer) with an escaped Replaces in "
        "Refer-To and Referred-By")
m.request("REFER", A_CONTACT)
m.via("UDP", H_IBCF, 5060, branch="z9hG4bK.hibcf.rf1")
m.h("Route", "<sip:%s:5060;lr>" % P_IBCF).max_forwards(70)
m.from_(C1_TO, C1_TTAG).to(C1_FROM, C1_FTAG).call_id(C1).cseq(3, "REFER")
m.contact(B_CONTACT)
m.h("Refer-To", "<sip:+447700900321@%s;user=phone?Replaces=c9-01%%40%s%%3Bto-tag%%3Dx1%%3Bfrom-tag%%3Dy2>"
    % (HOME, HOME))
m.h("Referred-By", "<sip:%s@%s;user=phone>" % (B_NUM, HOME))
emit(m)

m = Msg("29-info-dtmf", "INFO carrying a DTMF digit (application/dtmf-relay)")
m.request("INFO", A_CONTACT)
m.via("UDP", H_IBCF, 5060, branch="z9hG4bK.hibcf.in1")
m.h("Route", "<sip:%s:5060;lr>" % P_IBCF).max_forwards(70)
m.from_(C1_TO, C1_TTAG).to(C1_FROM, C1_FTAG).call_id(C1).cseq(4, "INFO")
m.content("application/dtmf-relay", "Signal=5\r\nDuration=160\r\n")
emit(m)

# ---- call 3: US partner, tel: URIs, SHAKEN Identity folded ---------------------------
US_A = "+12025550147"
US_TOKEN = passport("12025550147", "447700900321", "B", 1735689660,
                    "0e5b2c37-9d1a-4d2b-8f44-31a7c9e0b6d2")
m = Msg("30-invite-shaken-tel", "INVITE from a US partner: tel: Request-URI/To/From/PAI, "
        "SHAKEN Identity (attest B) folded before ;info")
m.request("INVITE", tel("+447700900321"))
m.via("UDP", US_IBCF, 5060, branch="z9hG4bK.usibcf.c3", rport=True)
m.via("TCP", IPX, 5060, branch="z9hG4bK.ipx.c3")
m.max_forwards(68).from_(tel(US_A), "us41c3", display="WIRELESS CALLER").to(tel("+447700900321"))
m.call_id("c3-3c7a1e0f7d@%s" % US_IBCF).cseq(1, "INVITE")
m.contact(sip(US_A, US_IBCF, 5060)).pai(tel(US_A)).h("Privacy", "none")
m.identity(US_TOKEN, "https://sti-cert.example.org/certs/mnc003.pem", fold=True)
m.h("P-Charging-Vector", "icid-value=us-c3-7781;orig-ioi=" + US)
m.h("Supported", "timer").h("Session-Expires", "900")
m.sdp(Sdp("198.51.100.77", 20000, sess="22", codecs="g711"))
emit(m)

# ---- call 4: IPv6 interconnect, PAI list in one header ----------------------------
AU_A = "+61491570156"
m = Msg("31-invite-ipv6", "INVITE over an IPv6 interconnect: IPv6 R-URI, Via, Contact, "
        "Record-Route, SDP IN IP6, PAI sip+tel in one comma-separated header")
m.request("INVITE", sip("+447700900654", "2001:db8:1::10", 5060, "user=phone"))
m.via("UDP", "2001:db8:2::20", 5060, branch="z9hG4bK.v6ibcf.c4")
m.via("UDP", "2001:db8:2::31", branch="z9hG4bK.v6pcscf.c4", rport=5070,
      received="2001:db8:2::31")
m.h("Record-Route", "<sip:[2001:db8:2::20]:5060;lr>").max_forwards(69)
m.from_(phone(AU_A, PARTNER), "v6f4", display="Sam O'Neil").to(sip("+447700900654", HOME))
m.call_id("c4-6a1b@[2001:db8:2::31]").cseq(1, "INVITE")
m.contact(sip(AU_A, "2001:db8:2::31", 5070))
m.pai(phone(AU_A, PARTNER), tel(AU_A))
m.h("P-Visited-Network-ID", '"%s"' % VISITED)
m.h("Session-Expires", "1800").sdp(Sdp("2001:db8:2::40", 30000, sess="64"))
emit(m)


README = """\
# IMS/VoLTE interconnect messages (sipwall's own)

Written by `../make_ims.py` (run it to re-make; `--check` reports drift).
All messages are valid SIP and are read as UDP datagrams (SW_SIP_DATAGRAM).
Each row of `expected.tsv` was computed from the pieces the generator put
together, not by parsing the bytes.  Tab-separated, one header row; an empty
cell means "not applicable / not asserted" (except `via1_rport`, see below).

| column | meaning |
| --- | --- |
| file | the message file in this folder |
| kind | `request` or `response` |
| method | request method (requests only) |
| status | status code (responses only) |
| ruri_scheme | Request-URI scheme as written (`sip`, `sips`, `tel`) |
| ruri_user | Request-URI user part as written (still %-escaped); for tel: the number |
| ruri_host | Request-URI host; IPv6 without brackets |
| ruri_port | Request-URI port when written |
| via_count | number of Via values over all Via headers (comma lists counted per value) |
| via1_transport, via1_host, via1_port, via1_branch | the top Via value; host without brackets |
| via1_rport | `-`: `;rport` without a value; N: `;rport=N`; empty: no rport parameter (asserted) |
| via1_received | `received=` of the top Via |
| from_display | From display name without the quotes (escapes as written) |
| from_user, from_host, from_tag | From URI user (tel: the number) / host / tag |
| to_user, to_host, to_tag | the same for To; empty to_tag: no tag expected (not asserted) |
| call_id | Call-ID |
| cseq_num, cseq_method | CSeq |
| contact_user, contact_host, contact_port | first Contact value's URI |
| max_forwards | Max-Forwards |
| content_length | the Content-Length value |
| content_type | `type/subtype` of Content-Type, without parameters (compare case-insensitively) |
| expires | the Expires header (not Contact ;expires) |
| pai_count | P-Asserted-Identity values over all PAI headers |
| pai1_user | user of the first PAI value (tel: the number) |
| auth_* | from the first Authorization or WWW-Authenticate header: username, realm, nonce, response, qop, nc, without quotes |
| identity_alg, identity_ppt, identity_info | Identity parameters; info without the angle brackets |
| sdp_o_addr, sdp_c_addr | SDP o= address and session-level c= address |
| sdp_m0_media, sdp_m0_port | the first m= line's media and port |
| body_len | body bytes (equal to Content-Length here) |

Addresses are documentation ranges (192.0.2.0/24, 198.51.100.0/24,
203.0.113.0/24, 2001:db8::/32), IMS domains the test PLMNs of MCC 001, and
numbers come from ranges reserved for fiction and testing.

| file | description |
| --- | --- |
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(HERE, "ims"))
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    tsv = "\t".join(COLUMNS) + "\n"
    for _, _, row in MESSAGES:
        for c in COLUMNS:
            assert "\t" not in row[c] and "\n" not in row[c], (row["file"], c)
        tsv += "\t".join(row[c] for c in COLUMNS) + "\n"
    readme = README + "".join("| %s.sip | %s |\n" % (m.name, m.desc) for m, _, _ in MESSAGES)
    files = [(m.name + ".sip", d) for m, d, _ in MESSAGES]
    files += [("expected.tsv", tsv.encode()), ("README.md", readme.encode())]
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
    print("wrote %d messages, expected.tsv and README.md to %s" % (len(MESSAGES), a.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
