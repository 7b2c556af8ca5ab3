#!/usr/bin/env python3
"""The operator's interconnect edge for the labelled captures (a SIP responder).

usage: edge.py [--listen IP:PORT ...] [--time-limit S]

Listens on UDP and TCP at every --listen address (default 127.0.0.10:5260
and [::1]:5260) and answers like an operator edge, statelessly enough to be
simple and statefully enough to be right:

  OPTIONS   200 (Allow, Accept, Supported)
  REGISTER  404 unless the To user is a home IMS subscriber (lab.is_subscriber);
            401 with a fresh digest challenge (MD5, qop=auth) when the request
            has no or wrong credentials; 200 (Contact, expires, P-Associated-URI,
            Service-Route) when the digest matches lab.password()
  INVITE    404 for the unassigned block +44770088xxxx, other unknown +44
            numbers and non-numeric users; home numbers: 100, 180, 200 with
            SDP after a ring time of 3.5-5 s; other international numbers
            (onward routing, e.g. transit): 100, 180, 200 after 0.8-1.6 s;
            re-INVITE (To tag): 200 with SDP
  CANCEL    200, then 487 for the pending INVITE (481 when none is pending)
  MESSAGE   200 to a home number, else 404 (SMS over IMS from a partner)
  ACK       nothing;   BYE  200;   anything else  405
  garbage   dropped; a request without Via/Call-ID/CSeq/From/To gets 400 when
            it has a Via to answer to, else it is dropped

Every response copies all Via values, From, Call-ID and CSeq, adds a To tag
(except to 100) and a Content-Length.  UDP answers go to the packet's source
address; TCP answers go back on the same connection (messages framed by
Content-Length; a bad Content-Length closes the connection).
"""
import argparse
import asyncio
import hashlib
import os
import re
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab  # noqa: E402
import sipmsg  # noqa: E402

ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, UPDATE, PRACK, MESSAGE"
STATS = {}


def bump(k):
    STATS[k] = STATS.get(k, 0) + 1


def hnum(s, lo, hi):
    """Deterministic value in [lo, hi] from a string."""
    h = int(hashlib.sha256(s.encode()).hexdigest()[:8], 16)
    return lo + (hi - lo) * (h / 0xFFFFFFFF)


class Edge:
    def __init__(self, loop):
        self.loop = loop
        self.pending = {}     # (call-id, cseq) -> dict(req, send, timers, to_tag, done)
        self.nonces = set()

    def local_ip(self, send):
        return send.local[0]

    def handle(self, data, send):
        if not data.strip(b"\r\n"):
            return              # keepalive
        msg = sipmsg.parse(data)
        if msg is None:
            bump("dropped")
            return
        if not msg.is_request:
            bump("responses-ignored")
            return
        need = ("via", "call-id", "cseq", "from", "to")
        if any(not msg.get(h) for h in need) or msg.cseq[0] == 0:
            if msg.get("via") and msg.method != "ACK":
                send(sipmsg.response(msg, 400, to_tag=self.tag()))
                bump("400")
            else:
                bump("dropped")
            return
        m = msg.method
        bump(m)
        if m == "OPTIONS":
            send(sipmsg.response(msg, 200, to_tag=self.tag(), extra=[
                ("Allow", ALLOW), ("Accept", "application/sdp"),
                ("Supported", "path, gruu, timer"), ("Server", "sipwall-lab-edge")]))
        elif m == "REGISTER":
            self.register(msg, send)
        elif m == "INVITE":
            self.invite(msg, send)
        elif m == "CANCEL":
            self.cancel(msg, send)
        elif m == "ACK":
            pass
        elif m == "BYE":
            send(sipmsg.response(msg, 200, to_tag=self.tag()))
        elif m == "MESSAGE":                      # page-mode SMS over IMS to a home number
            to = "+" + sipmsg.uri_user(msg.ruri).lstrip("+")
            send(sipmsg.response(msg, 200 if lab.is_home(to) else 404, to_tag=self.tag()))
        else:
            send(sipmsg.response(msg, 405, to_tag=self.tag(), extra=[("Allow", ALLOW)]))

    @staticmethod
    def tag():
        return os.urandom(5).hex()

    # -- REGISTER ------------------------------------------------------------
    def register(self, msg, send):
        user = sipmsg.uri_user(msg.get("to"))
        if not lab.is_subscriber(user):
            send(sipmsg.response(msg, 404, to_tag=self.tag()))
            return
        auth = msg.get("authorization")
        ok = False
        if auth:
            p = sipmsg.digest_params(auth)
            if p.get("nonce") in self.nonces and p.get("username", "").lstrip("+") == user.lstrip("+"):
                want = sipmsg.digest_response(
                    p.get("username", ""), p.get("realm", ""), lab.password(user), "REGISTER",
                    p.get("uri", ""), p.get("nonce", ""), p.get("qop", ""), p.get("nc", ""),
                    p.get("cnonce", ""))
                ok = p.get("realm") == lab.HOME_DOMAIN and want == p.get("response", "").lower()
        if ok:
            contact = msg.get("contact")
            exp = msg.get("expires") or "600"
            if contact and "expires=" not in contact:
                contact += ";expires=" + exp
            extra = [("Contact", contact)] if contact else []
            extra += [("Expires", exp),
                      ("P-Associated-URI", "<sip:+%s@%s>" % (user.lstrip("+"), lab.HOME_DOMAIN)),
                      ("Service-Route", "<sip:orig@scscf.%s;lr>" % lab.HOME_DOMAIN)]
            send(sipmsg.response(msg, 200, to_tag=self.tag(), extra=extra))
            bump("register-ok")
            return
        nonce = os.urandom(12).hex()
        self.nonces.add(nonce)
        send(sipmsg.response(msg, 401, to_tag=self.tag(), extra=[
            ("WWW-Authenticate", 'Digest realm="%s", nonce="%s", algorithm=MD5, qop="auth"'
             % (lab.HOME_DOMAIN, nonce))]))

    # -- INVITE / CANCEL -----------------------------------------------------
    def invite(self, msg, send):
        tag = sipmsg.tag_of(msg.get("to"))
        body = sipmsg.sdp(send.local[0], 40000 + (hash(msg.call_id) % 1000) * 2, 7001)
        if tag:                                   # re-INVITE inside a dialog
            send(sipmsg.response(msg, 200, to_tag=tag, body=body,
                                 extra=[("Contact", "<sip:edge@%s>" % sipmsg.hostport(*send.local))]))
            return
        called = sipmsg.uri_user(msg.ruri)
        if not re.match(r"^\+?[0-9]{4,20}$", called):
            send(sipmsg.response(msg, 404, to_tag=self.tag()))
            return
        num = "+" + called.lstrip("+")
        if lab.is_home(num):
            ring = hnum(msg.call_id, 3.5, 5.0)
        elif num.startswith("+44"):               # unassigned block and other unknown +44
            send(sipmsg.response(msg, 404, to_tag=self.tag()))
            return
        else:                                     # onward international routing
            ring = hnum(msg.call_id, 0.8, 1.6)
        key = (msg.call_id, msg.cseq[0])
        if key in self.pending:                   # retransmission
            return
        st = dict(req=msg, send=send, to_tag=self.tag(), timers=[], done=False)
        self.pending[key] = st
        send(sipmsg.response(msg, 100))
        contact = [("Contact", "<sip:%s@%s>" % (called, sipmsg.hostport(*send.local)))]

        def ringing():
            if not st["done"]:
                send(sipmsg.response(msg, 180, to_tag=st["to_tag"], extra=contact))

        def answer():
            if not st["done"]:
                st["done"] = True
                send(sipmsg.response(msg, 200, to_tag=st["to_tag"], body=body, extra=contact))
                self.loop.call_later(30, self.pending.pop, key, None)

        st["timers"].append(self.loop.call_later(0.15, ringing))
        st["timers"].append(self.loop.call_later(ring, answer))

    def cancel(self, msg, send):
        key = (msg.call_id, msg.cseq[0])
        st = self.pending.get(key)
        if st is None:
            send(sipmsg.response(msg, 481, to_tag=self.tag()))
            return
        send(sipmsg.response(msg, 200, to_tag=st["to_tag"]))
        if not st["done"]:
            st["done"] = True
            for t in st["timers"]:
                t.cancel()
            st["send"](sipmsg.response(st["req"], 487, to_tag=st["to_tag"]))
        self.loop.call_later(30, self.pending.pop, key, None)


class Sender:
    def __init__(self, fn, local):
        self.fn, self.local = fn, local

    def __call__(self, data):
        self.fn(data)


class Udp(asyncio.DatagramProtocol):
    def __init__(self, edge, local):
        self.edge, self.local = edge, local

    def connection_made(self, transport):
        self.t = transport

    def datagram_received(self, data, addr):
        bump("udp-in")
        self.edge.handle(data, Sender(lambda d, a=addr: self.t.sendto(d, a), self.local))


async def tcp_conn(edge, local, reader, writer):
    buf = b""
    send = Sender(writer.write, local)
    try:
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                break
            bump("tcp-in")
            buf += chunk
            while True:
                buf = buf.lstrip(b"\r\n")
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    if len(buf) > 65536:
                        raise ConnectionError("header too long")
                    break
                head = buf[:end].decode("latin-1")
                m = re.search(r"(?im)^(?:content-length|l)[ \t]*:[ \t]*(\S*)[ \t]*\r?$", head)
                clen = 0
                if m:
                    if not m.group(1).isdigit():
                        edge.handle(buf[:end + 4], send)
                        raise ConnectionError("bad Content-Length")
                    clen = int(m.group(1))
                if clen > 65536:
                    raise ConnectionError("Content-Length too large")
                if len(buf) < end + 4 + clen:
                    break
                edge.handle(buf[:end + 4 + clen], send)
                buf = buf[end + 4 + clen:]
            await writer.drain()
    except (ConnectionError, OSError):
        bump("tcp-closed-on-error")
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def main_async(a):
    loop = asyncio.get_running_loop()
    edge = Edge(loop)
    stop = loop.create_future()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, lambda: stop.done() or stop.set_result(True))
    servers = []
    for l in a.listen:
        m = re.match(r"^\[?([0-9a-fA-F:.]+)\]?:(\d+)$", l)
        ip, port = m.group(1), int(m.group(2))
        t, _ = await loop.create_datagram_endpoint(lambda ip=ip, port=port: Udp(edge, (ip, port)),
                                                   local_addr=(ip, port))
        servers.append(t)
        srv = await asyncio.start_server(
            lambda r, w, ip=ip, port=port: tcp_conn(edge, (ip, port), r, w), ip, port,
            reuse_address=True)
        servers.append(srv)
    print("edge ready on %s" % " ".join(a.listen), flush=True)
    try:
        await asyncio.wait_for(stop, a.time_limit)
    except asyncio.TimeoutError:
        print("edge time limit", flush=True)
    for s in servers:
        s.close()
    print("edge stats: %s" % " ".join("%s=%d" % kv for kv in sorted(STATS.items())), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", action="append")
    ap.add_argument("--time-limit", type=float, default=300)
    a = ap.parse_args()
    a.listen = a.listen or ["127.0.0.10:5260", "[::1]:5260"]
    asyncio.run(main_async(a))


if __name__ == "__main__":
    main()
