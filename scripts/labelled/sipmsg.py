"""Small SIP helpers shared by the labelled-capture tools (edge, actors).

Only what the loopback lab needs: split a message into start line, headers
and body; build requests and responses; RFC 2617 digest (MD5, qop=auth).
"""
import hashlib
import re

CRLF = "\r\n"
COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact",
           "l": "content-length", "c": "content-type"}


class Msg:
    """A parsed SIP message.  headers: list of (name, value) in order."""

    def __init__(self, start, headers, body):
        self.start, self.headers, self.body = start, headers, body
        parts = start.split(" ", 2)
        self.is_request = not start.startswith("SIP/")
        if self.is_request:
            self.method = parts[0]
            self.ruri = parts[1] if len(parts) > 1 else ""
            self.status = 0
        else:
            self.method = ""
            self.ruri = ""
            self.status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0

    def get(self, name, default=""):
        name = name.lower()
        for n, v in self.headers:
            if COMPACT.get(n.lower(), n.lower()) == name:
                return v
        return default

    def get_all(self, name):
        name = name.lower()
        return [v for n, v in self.headers if COMPACT.get(n.lower(), n.lower()) == name]

    @property
    def call_id(self):
        return self.get("call-id")

    @property
    def cseq(self):
        parts = self.get("cseq").split()
        n = int(parts[0]) if parts and parts[0].isdigit() else 0
        return n, (parts[1] if len(parts) > 1 else "")


def parse(data):
    """bytes -> Msg, or None when it is not SIP enough to answer."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    head, sep, body = text.partition("\r\n\r\n")
    if not sep:
        head, sep, body = text.partition("\n\n")
    lines = re.split(r"\r?\n", head)
    if not lines or not lines[0]:
        return None
    start = lines[0]
    if not (start.startswith("SIP/2.0 ") or re.match(r"^[A-Z]+ \S+ SIP/2\.0$", start)):
        return None
    headers = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and headers:
            n, v = headers[-1]
            headers[-1] = (n, v + " " + line.strip())
            continue
        n, c, v = line.partition(":")
        if not c:
            continue
        headers.append((n.strip(), v.strip()))
    return Msg(start, headers, body)


def uri_user(s):
    m = re.search(r"(?:sips?|tel):([^@;>\s]+)", s)
    return m.group(1) if m else ""


def tag_of(s):
    m = re.search(r";\s*tag=([^;>\s]+)", s)
    return m.group(1) if m else ""


def build(start, headers, body=""):
    b = body.encode("utf-8") if isinstance(body, str) else body
    lines = [start] + ["%s: %s" % hv for hv in headers]
    lines.append("Content-Length: %d" % len(b))
    return (CRLF.join(lines) + CRLF + CRLF).encode("utf-8") + b


REASONS = {100: "Trying", 180: "Ringing", 183: "Session Progress", 200: "OK",
           400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 481: "Call/Transaction Does Not Exist",
           487: "Request Terminated", 488: "Not Acceptable Here", 500: "Server Internal Error",
           501: "Not Implemented"}


def response(req, code, to_tag=None, extra=(), body="", ctype=None):
    """A response to req: every Via copied in order, From/Call-ID/CSeq copied,
    To copied with a tag added (except on 100)."""
    hdrs = []
    for n, v in req.headers:
        if COMPACT.get(n.lower(), n.lower()) == "via":
            hdrs.append(("Via", v))
    hdrs.append(("From", req.get("from")))
    to = req.get("to")
    if code != 100 and to_tag and not tag_of(to):
        to = to + ";tag=" + to_tag
    hdrs.append(("To", to))
    hdrs.append(("Call-ID", req.call_id))
    hdrs.append(("CSeq", req.get("cseq")))
    hdrs.extend(extra)
    if body:
        hdrs.append(("Content-Type", ctype or "application/sdp"))
    return build("SIP/2.0 %d %s" % (code, REASONS.get(code, "Unknown")), hdrs, body)


def md5(s):
    return hashlib.md5(s.encode("utf-8")).hexdigest()


def digest_params(value):
    """'Digest a="b", c=d' -> dict."""
    v = value.strip()
    if v.lower().startswith("digest"):
        v = v[6:]
    out = {}
    for m in re.finditer(r'([A-Za-z0-9_-]+)\s*=\s*("([^"]*)"|[^,\s]+)', v):
        out[m.group(1).lower()] = m.group(3) if m.group(3) is not None else m.group(2)
    return out


def digest_response(user, realm, password, method, uri, nonce, qop="", nc="", cnonce=""):
    ha1 = md5("%s:%s:%s" % (user, realm, password))
    ha2 = md5("%s:%s" % (method, uri))
    if qop:
        return md5("%s:%s:%s:%s:%s:%s" % (ha1, nonce, nc, cnonce, qop, ha2))
    return md5("%s:%s:%s" % (ha1, nonce, ha2))


def sdp(ip, port, sess):
    fam = "IP6" if ":" in ip else "IP4"
    return CRLF.join(["v=0", "o=- %d 1 IN %s %s" % (sess, fam, ip), "s=-",
                      "c=IN %s %s" % (fam, ip), "t=0 0",
                      "m=audio %d RTP/AVP 8 101" % port, "a=rtpmap:8 PCMA/8000",
                      "a=rtpmap:101 telephone-event/8000", "a=sendrecv", ""])


def hostport(ip, port):
    return ("[%s]:%d" % (ip, port)) if ":" in ip else ("%s:%d" % (ip, port))
