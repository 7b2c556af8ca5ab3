#!/usr/bin/python3
"""An APIBAN-style responder for tests (test data, not product code).

  apiban_responder.py --listen IP:PORT --pages FILE --key KEY --log FILE
        [--cert PEM --key-file PEM]

GET /api/KEY/banned/ID answers the page ID of FILE (a JSON object
{"ID": {"ipaddress": [...], "ID": "NEXT"}, ...}, read again at every
request, so a test adds pages while it runs) with HTTP 200; an ID that
FILE does not hold answers 400 {"ipaddress":["no new bans"],"ID":"none"},
as APIBAN does when a client is caught up; another key answers 403, a
request that does not accept application/json 406
{"ipaddress":["unauthorized"],"ID":"none"}.  Every request is logged as one
JSON line (path with the key replaced by KEY, status).
"""
import argparse, http.server, json, ssl, threading


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True)
    ap.add_argument("--pages", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key-file")
    a = ap.parse_args()
    host, port = a.listen.rsplit(":", 1)
    lock = threading.Lock()

    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def reply(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            with lock, open(a.log, "a") as f:
                f.write(json.dumps({"path": self.path.replace(a.key, "KEY"), "status": status}) + "\n")

        def do_GET(self):
            if self.headers.get("Accept") != "application/json":
                return self.reply(406, {"error": "Accept: application/json expected"})
            parts = self.path.split("/")
            # ['', 'api', KEY, 'banned', ID]
            if len(parts) != 5 or parts[1] != "api" or parts[3] != "banned":
                return self.reply(404, {"error": "not found"})
            if parts[2] != a.key:
                return self.reply(403, {"ipaddress": ["unauthorized"], "ID": "none"})
            pages = json.load(open(a.pages))
            page = pages.get(parts[4])
            if page is None:
                return self.reply(400, {"ipaddress": ["no new bans"], "ID": "none"})
            return self.reply(200, page)

    srv = http.server.ThreadingHTTPServer((host, int(port)), H)
    if a.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key_file)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
