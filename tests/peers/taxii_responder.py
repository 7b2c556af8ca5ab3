#!/usr/bin/python3
"""A small TAXII 2.1 responder for tests (test data, not product code).

  taxii_responder.py serve --listen IP:PORT --store FILE --log FILE
        [--cert PEM --key PEM [--client-ca PEM]] [--user U --password P]
        [--root NAME] [--collection ID] [--page-max N]
  taxii_responder.py wrap FSE.json      FSE objects (a JSON array) -> STIX
        indicators carrying each signed object in the telco-fse extension,
        one JSON object per line (append them to a store)
  taxii_responder.py plain ID VALUE KIND CONFIDENCE [revoked]
        one plain STIX indicator (no extension), a line for a store

The store is a file of STIX objects, one per line; lines appended while the
responder runs are served too.  Every line gets its own date_added when the
responder first sees it (strictly increasing, microseconds), so paging by
added_after never skips.  GET .../objects/ pages with limit and next (an
opaque token the responder remembers), filters by added_after and sets the
X-TAXII-Date-Added-First/Last headers (TAXII 2.1 §3.2, §3.5).  Every
request is logged as one JSON line (method, path, query, status).
"""
import base64, datetime, http.server, json, os, secrets, ssl, sys, threading, urllib.parse

MEDIA = "application/taxii+json;version=2.1"
FSE_EXT = "extension-definition--2b8a5f0e-7c1d-4e4a-9f3b-6d0c8e1a4b72"


def ts_us(t):
    return datetime.datetime.fromtimestamp(t / 1e6, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_ts(s):
    s = s.rstrip("Z")
    if "." in s:
        a, f = s.split(".")
        f = (f + "000000")[:6]
    else:
        a, f = s, "000000"
    d = datetime.datetime.strptime(a, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return int(d.timestamp()) * 1000000 + int(f)


class Store:
    def __init__(self, path):
        self.path, self.objs, self.last, self.lock = path, [], 0, threading.Lock()
        self.tokens = {}

    def refresh(self):
        with self.lock:
            try:
                lines = open(self.path).read().splitlines()
            except FileNotFoundError:
                lines = []
            for line in lines[len(self.objs):]:
                if not line.strip():
                    self.objs.append((None, None))
                    continue
                now = int(datetime.datetime.now(datetime.timezone.utc).timestamp() * 1e6)
                self.last = max(now, self.last + 1)
                self.objs.append((self.last, json.loads(line)))
            return [(d, o) for d, o in self.objs if o is not None]


def serve(a):
    store = Store(a["store"])
    log = open(a["log"], "a", buffering=1)
    root = "/" + a.get("root", "api1") + "/"
    coll = a.get("collection", "5d0c1b7e-4a3f-4e8b-9c2d-1f0e3a4b5c6d")
    page_max = int(a.get("page-max", "100"))
    user, pw = a.get("user"), a.get("password")

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def reply(self, status, body, headers=()):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", MEDIA)
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
            u = urllib.parse.urlsplit(self.path)
            log.write(json.dumps({"method": self.command, "path": u.path, "query": urllib.parse.parse_qs(u.query),
                                  "status": status, "auth": self.headers.get("Authorization", "")[:6]}) + "\n")

        def do_GET(self):
            if user is not None:
                want = "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()
                if self.headers.get("Authorization") != want:
                    return self.reply(401, {"title": "unauthorized"}, [("WWW-Authenticate", 'Basic realm="taxii"')])
            if MEDIA not in (self.headers.get("Accept") or ""):
                return self.reply(406, {"title": "not acceptable"})
            u = urllib.parse.urlsplit(self.path)
            q = urllib.parse.parse_qs(u.query)
            if u.path == "/taxii2/":
                return self.reply(200, {"title": "test responder", "api_roots": [root]})
            if u.path == root:
                return self.reply(200, {"title": "root", "versions": [MEDIA], "max_content_length": 10485760})
            if u.path == root + "collections/":
                return self.reply(200, {"collections": [{"id": coll, "title": "test", "can_read": True,
                                                         "can_write": False, "media_types": [MEDIA]}]})
            if u.path != root + "collections/" + coll + "/objects/":
                return self.reply(404, {"title": "not found"})
            objs = store.refresh()
            try:
                limit = min(int(q.get("limit", [str(page_max)])[0]), page_max)
                after = parse_ts(q["added_after"][0]) if "added_after" in q else None
            except (ValueError, KeyError):
                return self.reply(400, {"title": "bad parameter"})
            if "next" in q:
                tok = q["next"][0]
                if tok not in store.tokens:
                    return self.reply(400, {"title": "unknown next"})
                start = store.tokens[tok]
            else:
                start = 0
            sel = [(d, o) for d, o in objs if after is None or d > after]
            page = sel[start:start + limit]
            env = {}
            if page:
                env["objects"] = [o for _, o in page]
            hdrs = []
            if page:
                hdrs = [("X-TAXII-Date-Added-First", ts_us(page[0][0])), ("X-TAXII-Date-Added-Last", ts_us(page[-1][0]))]
            if start + limit < len(sel):
                tok = secrets.token_urlsafe(12)
                store.tokens[tok] = start + limit
                env["more"], env["next"] = True, tok
            else:
                env["more"] = False
            return self.reply(200, env, hdrs)

    host, port = a["listen"].rsplit(":", 1)
    srv = http.server.ThreadingHTTPServer((host, int(port)), H)
    if "cert" in a:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(a["cert"], a["key"])
        if "client-ca" in a:
            ctx.load_verify_locations(a["client-ca"])
            ctx.verify_mode = ssl.CERT_REQUIRED
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.serve_forever()


def stix_ts(ms_iso):
    return ms_iso


def wrap(path):
    for f in json.load(open(path)):
        v = f["indicator"]["value"]
        kind = f["indicator"]["kind"]
        obj = {"ipv4": "ipv4-addr", "ipv6": "ipv6-addr", "e164": "phone-number"}.get(kind, "x-sipwall-other")
        ind = {"type": "indicator", "spec_version": "2.1", "id": "indicator--" + f["id"],
               "created": f["first_seen"], "modified": f["modified"],
               "pattern": f"[{obj}:value = '{v}']", "pattern_type": "stix", "valid_from": f["first_seen"],
               "valid_until": f["valid_until"], "confidence": f["confidence"],
               "indicator_types": ["malicious-activity"], "labels": ["sipwall:" + f["event_type"]],
               "extensions": {FSE_EXT: {"extension_type": "property-extension", "event_type": f["event_type"],
                                        "indicator_kind": kind, "action": f["action"], "severity": f["severity"],
                                        "sig": f.get("sig", ""), "fse": f}}}
        if f.get("revoked"):
            ind["revoked"] = True
        print(json.dumps(ind))


def plain(uid, value, kind, conf, *flags):
    obj = {"ipv4": "ipv4-addr", "ipv6": "ipv6-addr", "e164": "phone-number", "cidr": "ipv4-addr"}[kind]
    op = "ISSUBSET" if kind == "cidr" else "="
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    ind = {"type": "indicator", "spec_version": "2.1", "id": "indicator--" + uid, "created": now, "modified": now,
           "pattern": f"[{obj}:value {op} '{value}']", "pattern_type": "stix", "valid_from": now,
           "confidence": int(conf), "indicator_types": ["malicious-activity"]}
    if "revoked" in flags:
        ind["revoked"] = True
    print(json.dumps(ind))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "serve":
        args, it = {}, iter(sys.argv[2:])
        for k in it:
            args[k.lstrip("-")] = next(it)
        serve(args)
    elif cmd == "wrap":
        wrap(sys.argv[2])
    elif cmd == "plain":
        plain(*sys.argv[2:])
    else:
        sys.exit(__doc__)
