#!/usr/bin/env python3
"""Plays SIP user agents (partners and call-based attackers) from a JSON script.

usage: actors.py SCRIPT.json [--time-limit S]

SCRIPT.json: {"actors": [{"name", "ip", "port", "edge": [ip, port],
"domain", "actions": [{"at": seconds, "op": ...}, ...]}, ...]}.  Each actor
owns one socket (ip, port): UDP, or with "transport": "tcp" one TCP
connection to the edge opened just before its first action; one thread reads it and hands every message
to the action waiting on its Call-ID; each action runs in its own thread, so
calls overlap as in the script.  Operations:

  call      INVITE (SDP, IMS NNI headers, P-Asserted-Identity when "pai") ->
            100/180 -> 200 -> ACK, talk "talk" s (a re-INVITE half way when
            "reinvite"), BYE -> 200.  With "cancel": CANCEL that many seconds
            after the 180, 200/487, ACK.  A final error gets its ACK.
  options   OPTIONS -> 200
  register  REGISTER -> 401 -> REGISTER with digest -> 200 (IMS roaming:
            Path, P-Visited-Network-ID, Authorization username = number)
  bruteforce  REGISTER -> 401, then one guess every "interval" s with the
            nonce of the last challenge, same Call-ID, until a 200

No retransmissions (loopback does not lose packets); every wait is bounded.
"""
import json
import os
import queue
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab  # noqa: E402
import sipmsg  # noqa: E402

WAIT = 8.0


def rid(n=6):
    return os.urandom(n).hex()


class Actor:
    def __init__(self, cfg, t0):
        self.cfg, self.t0 = cfg, t0
        self.ip, self.port = cfg["ip"], cfg["port"]
        self.edge = tuple(cfg.get("edge") or (lab.EDGE6 if ":" in self.ip else lab.EDGE4))
        self.domain = cfg["domain"]
        fam = socket.AF_INET6 if ":" in self.ip else socket.AF_INET
        self.tcp = cfg.get("transport", "udp") == "tcp"
        self.sock = socket.socket(fam, socket.SOCK_STREAM if self.tcp else socket.SOCK_DGRAM)
        if self.tcp:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((self.ip, self.port))
        self.sock_ready = threading.Event()
        if not self.tcp:
            self.sock_ready.set()
        self.sock.settimeout(0.5)
        self.queues, self.lock = {}, threading.Lock()
        self.running = True
        self.local = sipmsg.hostport(self.ip, self.port)
        self.edge_hp = sipmsg.hostport(*self.edge)
        self.log = []

    # -- transport -------------------------------------------------------------
    def connect(self):
        """TCP: one connection to the edge, opened just before the first action."""
        first = min((a["at"] for a in self.cfg["actions"]), default=0)
        delay = self.t0 + first - 0.3 - time.time()
        if delay > 0:
            time.sleep(delay)
        self.sock.settimeout(5)
        self.sock.connect(self.edge)
        self.sock.settimeout(0.5)
        self.sock_ready.set()

    def frames(self):
        """Messages from the socket: datagrams, or the TCP stream framed by Content-Length."""
        buf = b""
        while self.running:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            if not self.tcp:
                yield data
                continue
            if not data:
                return
            buf += data
            while True:
                buf = buf.lstrip(b"\r\n")
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    break
                m = sipmsg.parse(buf[:end + 4])
                clen = int(m.get("content-length", "0") or 0) if m else 0
                if len(buf) < end + 4 + clen:
                    break
                yield buf[:end + 4 + clen]
                buf = buf[end + 4 + clen:]

    def reader(self):
        if self.tcp:
            self.connect()
        for data in self.frames():
            m = sipmsg.parse(data)
            if m is None:
                continue
            with self.lock:
                q = self.queues.get(m.call_id)
            if q is not None:
                q.put(m)

    def send(self, data):
        self.sock_ready.wait(10)
        if self.tcp:
            self.sock.sendall(data)
        else:
            self.sock.sendto(data, self.edge)

    def open(self, cid):
        q = queue.Queue()
        with self.lock:
            self.queues[cid] = q
        return q

    def close(self, cid):
        with self.lock:
            self.queues.pop(cid, None)

    def wait(self, q, pred, timeout=WAIT):
        end = time.time() + timeout
        while True:
            left = end - time.time()
            if left <= 0:
                return None
            try:
                m = q.get(timeout=left)
            except queue.Empty:
                return None
            if pred(m):
                return m

    def req(self, method, ruri, cid, cseq, frm, to, branch=None, extra=(), body="",
            ctype="application/sdp"):
        hdrs = [("Via", "SIP/2.0/%s %s;branch=%s" % ("TCP" if self.tcp else "UDP", self.local,
                                                    branch or "z9hG4bK" + rid())),
                ("Max-Forwards", "68"), ("From", frm), ("To", to), ("Call-ID", cid),
                ("CSeq", "%d %s" % (cseq, method))]
        hdrs.extend(extra)
        if body:
            hdrs.append(("Content-Type", ctype))
        return sipmsg.build("%s %s SIP/2.0" % (method, ruri), hdrs, body)

    def uri(self, number, domain):
        return "sip:%s@%s;user=phone" % (number, domain)

    # -- operations --------------------------------------------------------------
    def op_call(self, a):
        cid = "%s@%s" % (rid(8), self.ip)
        q = self.open(cid)
        ruri = self.uri(a["to"], a.get("to_domain", lab.HOME_DOMAIN))
        frm = "<%s>;tag=%s" % (self.uri(a["from"], self.domain), rid(4))
        to = "<%s>" % ruri
        sess = int.from_bytes(os.urandom(3), "big")
        body = sipmsg.sdp(self.ip, 30000 + (sess % 1000) * 2, sess)
        extra = [("Contact", "<sip:%s@%s>" % (a["from"], self.local))]
        if a.get("pai"):
            extra.append(("P-Asserted-Identity", "<%s>" % self.uri(a["pai"], self.domain)))
        extra += [("P-Charging-Vector", "icid-value=%s;orig-ioi=%s" % (rid(8), self.domain)),
                  ("Allow", "INVITE, ACK, CANCEL, BYE, UPDATE, PRACK, OPTIONS"),
                  ("Supported", "timer, 100rel"), ("Session-Expires", "1800"),
                  ("User-Agent", a.get("ua", "%s-ibcf" % self.cfg["name"]))]
        branch = "z9hG4bK" + rid()
        self.send(self.req("INVITE", ruri, cid, 1, frm, to, branch, extra, body))
        final = None
        ringing = None
        cancel_at = None
        while True:
            timeout = WAIT if cancel_at is None else max(0.01, cancel_at - time.time())
            m = self.wait(q, lambda m: not m.is_request and m.cseq[1] == "INVITE", timeout)
            if m is None:
                if cancel_at is not None and time.time() >= cancel_at:
                    self.send(self.req("CANCEL", ruri, cid, 1, frm, to, branch))
                    cancel_at = None
                    a = dict(a, cancel=None)
                    continue
                break
            if m.status == 180 and ringing is None:
                ringing = m
                if a.get("cancel") is not None:
                    cancel_at = time.time() + float(a["cancel"])
            if m.status >= 200:
                final = m
                break
        if final is None:
            self.close(cid)
            return "no final response"
        to_tagged = final.get("to")
        if final.status >= 300:
            self.send(self.req("ACK", ruri, cid, 1, frm, to_tagged, branch))
            self.close(cid)
            return "final %d" % final.status
        self.send(self.req("ACK", ruri, cid, 1, frm, to_tagged))
        talk = float(a.get("talk", 3))
        cseq = 1
        if a.get("reinvite"):
            time.sleep(talk / 2)
            talk -= talk / 2
            cseq += 1
            self.send(self.req("INVITE", ruri, cid, cseq, frm, to_tagged, None, extra[:1],
                               body.replace(" 1 IN ", " 2 IN ")))
            r = self.wait(q, lambda m: not m.is_request and m.status >= 200 and m.cseq[0] == cseq)
            if r is not None:
                self.send(self.req("ACK", ruri, cid, cseq, frm, to_tagged))
        time.sleep(talk)
        cseq += 1
        self.send(self.req("BYE", ruri, cid, cseq, frm, to_tagged))
        self.wait(q, lambda m: not m.is_request and m.cseq[1] == "BYE")
        self.close(cid)
        return "answered"

    def op_options(self, a):
        cid = "%s@%s" % (rid(8), self.ip)
        q = self.open(cid)
        ruri = "sip:%s" % self.edge_hp
        self.send(self.req("OPTIONS", ruri, cid, 1, "<sip:keepalive@%s>;tag=%s" % (self.domain, rid(4)),
                           "<%s>" % ruri, extra=[("Accept", "application/sdp")]))
        r = self.wait(q, lambda m: not m.is_request)
        self.close(cid)
        return r.status if r else None

    def op_message(self, a):
        cid = "%s@%s" % (rid(8), self.ip)
        q = self.open(cid)
        ruri = self.uri(a["to"], lab.HOME_DOMAIN)
        frm = "<%s>;tag=%s" % (self.uri(a["from"], self.domain), rid(4))
        self.send(self.req("MESSAGE", ruri, cid, 1, frm, "<%s>" % ruri, extra=[],
                           body=a.get("text", "hello"), ctype="text/plain"))
        r = self.wait(q, lambda m: not m.is_request)
        self.close(cid)
        return r.status if r else None

    def _register(self, user, cid, cseq, ftag, auth=None, expires=600):
        ruri = "sip:%s" % lab.HOME_DOMAIN
        aor = "<sip:%s@%s>" % (user, lab.HOME_DOMAIN)
        extra = [("Contact", "<sip:%s@%s%s>;expires=%d" % (user, self.local,
                                                           ";transport=tcp" if self.tcp else "", expires)),
                 ("Expires", str(expires))]
        if self.cfg.get("ims", True):
            extra += [("Path", "<sip:term@pcscf.%s;lr>" % self.domain),
                      ("P-Visited-Network-ID", '"%s"' % self.domain),
                      ("Supported", "path"), ("Require", "path")]
        if auth:
            extra.append(("Authorization", auth))
        extra.append(("User-Agent", self.cfg.get("ua", "%s-pcscf" % self.cfg["name"])))
        return self.req("REGISTER", ruri, cid, cseq, aor + ";tag=" + ftag, aor, extra=extra)

    def _auth(self, user, password, chal, nc):
        p = sipmsg.digest_params(chal.get("www-authenticate"))
        uri = "sip:%s" % lab.HOME_DOMAIN
        cnonce = rid(4)
        ncs = "%08x" % nc
        resp = sipmsg.digest_response(user, p.get("realm", ""), password, "REGISTER", uri,
                                      p.get("nonce", ""), "auth", ncs, cnonce)
        return ('Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", '
                'algorithm=MD5, cnonce="%s", qop=auth, nc=%s'
                % (user, p.get("realm", ""), p.get("nonce", ""), uri, resp, cnonce, ncs))

    def op_register(self, a):
        user, cid, ftag = a["user"], "%s@%s" % (rid(8), self.ip), rid(4)
        q = self.open(cid)
        self.send(self._register(user, cid, 1, ftag, expires=a.get("expires", 600)))
        r = self.wait(q, lambda m: not m.is_request)
        if r is None or r.status != 401:
            self.close(cid)
            return r.status if r else None
        self.send(self._register(user, cid, 2, ftag, self._auth(user, a["password"], r, 1),
                                 expires=a.get("expires", 600)))
        r = self.wait(q, lambda m: not m.is_request)
        self.close(cid)
        return r.status if r else None

    def op_bruteforce(self, a):
        user, cid, ftag = a["user"], "%s@%s" % (rid(8), self.ip), rid(4)
        q = self.open(cid)
        cseq = 1
        self.send(self._register(user, cid, cseq, ftag))
        r = self.wait(q, lambda m: not m.is_request)
        result = "stopped"
        for i, pw in enumerate(a["passwords"]):
            if r is None or r.status != 401:
                break
            time.sleep(float(a["interval"][i % len(a["interval"])]))
            cseq += 1
            self.send(self._register(user, cid, cseq, ftag, self._auth(user, pw, r, 1)))
            r = self.wait(q, lambda m: not m.is_request)
            if r is not None and r.status == 200:
                result = "cracked after %d guesses" % (i + 1)
                break
        self.close(cid)
        return result

    def run_action(self, a):
        delay = self.t0 + a["at"] - time.time()
        if delay > 0:
            time.sleep(delay)
        try:
            res = getattr(self, "op_" + a["op"])(a)
        except Exception as e:  # keep the other actions going
            res = "error %r" % e
        self.log.append((round(a["at"], 2), a["op"], res))


def main():
    script = json.load(open(sys.argv[1]))
    limit = float(sys.argv[sys.argv.index("--time-limit") + 1]) if "--time-limit" in sys.argv else 300
    t0 = time.time() + 0.2
    actors = [Actor(c, t0) for c in script["actors"]]
    threads = []
    for ac in actors:
        threading.Thread(target=ac.reader, daemon=True).start()
        for a in ac.cfg["actions"]:
            t = threading.Thread(target=ac.run_action, args=(a,), daemon=True)
            t.start()
            threads.append(t)
    end = time.time() + limit
    for t in threads:
        t.join(max(0.0, end - time.time()))
    for ac in actors:
        ac.running = False
        if ac.tcp:
            try:
                ac.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        ac.sock.close()
        results = {}
        for _, op, res in ac.log:
            results["%s:%s" % (op, res)] = results.get("%s:%s" % (op, res), 0) + 1
        print("%s: %s" % (ac.cfg["name"], " ".join("%s=%d" % kv for kv in sorted(results.items()))),
              flush=True)
    if any(t.is_alive() for t in threads):
        print("time limit reached with actions still running", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
