#!/usr/bin/env python3
"""Test peers for tests/root/image_*_test.cpp (Python standard library and the openssl CLI only).

  image_peers.py token PORT KEY CERT ISSUER SERVICE USER:PASS [TTL [REFRESH [POST]]]
      A bearer token issuer for docker-registry's token auth: GET /token?scope=&service= with
      HTTP basic USER:PASS returns {"token": JWT} (RS256 signed by KEY, CERT in the x5c header,
      which the registry checks against its rootcertbundle); wrong or no credentials get 401,
      a scope on a repository under forbidden/ gets 403 DENIED. Prints "issued" per token.
      TTL (seconds, default 600): how long the registry accepts a token (it allows 60 s past
      "exp", so exp is set TTL - 60 s from now).
      REFRESH (default none): an OAuth2 refresh token. POST /token with the form
      grant_type=refresh_token&refresh_token=REFRESH&service=&scope= returns {"access_token":
      JWT} (prints "issued post"); a wrong refresh token gets 401 invalid_grant. With POST "nopost"
      every POST gets 404 (token servers without OAuth2) and GET also takes basic
      <user>:REFRESH (the identity token as the password, as containerd sends it). With POST
      "redirect" a POST to /token gets 307 to /followed, which would issue (a client must not
      resend the refresh token where a redirect points).
  image_peers.py proxy PORT UPSTREAM_PORT MODE [STORAGE_DIR STORAGE_PORT]
      A TCP proxy to 127.0.0.1:UPSTREAM_PORT that prints each connection ("connection") and
      request line (and Range header).
      MODE count: relay only. MODE cut: the first blob response is cut after 64 KiB.
      MODE slow: responses trickle (16 KiB every 50 ms), for kill -9 tests.
      MODE busy: the first two blob requests get 503 from the proxy itself (not forwarded).
      MODE norange: as cut, and every Range header is then dropped, so the registry answers a
      resumed request with 200 and the whole blob (a server that ignores Range).
      MODE redirect: every blob request gets 307 to http://127.0.0.1:STORAGE_PORT/sha256/<hex>,
      where the proxy serves the blob files of the docker-registry storage STORAGE_DIR, unauth-
      enticated, printing "storage GET <path> authorization=yes|none" per request.
      Each request line is printed with "at <monotonic seconds>".
      MODE stall: the first blob response stops after 64 KiB ("stall after"), its connection
      left open and silent (an inactivity timeout must end it); later responses are relayed.
Prints "ready" once listening."""
import base64, http.server, json, os, socket, subprocess, sys, threading, time, uuid
from urllib.parse import urlparse, parse_qs


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token_server(port, key, cert, issuer, service, userpass, ttl, refresh, post):
    der = subprocess.run(["openssl", "x509", "-in", cert, "-outform", "DER"],
                         check=True, capture_output=True).stdout
    expected = ["Basic " + base64.b64encode(userpass.encode()).decode()]
    if refresh and post == "nopost":
        user = userpass.split(":")[0]
        expected.append("Basic " + base64.b64encode((user + ":" + refresh).encode()).decode())

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def refuse(self, status, body=b""):
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode())
            if post == "redirect" and not self.path.startswith("/followed"):
                self.send_response(307)
                self.send_header("Location", "/followed")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if not refresh or post == "nopost":
                return self.refuse(404)
            if (form.get("grant_type") != ["refresh_token"] or
                    form.get("refresh_token") != [refresh] or form.get("service") != [service]):
                return self.refuse(401, b'{"error":"invalid_grant"}')
            self.issue(form, "access_token", "issued post")

        def do_GET(self):
            if self.headers.get("Authorization") not in expected:
                return self.refuse(401)
            self.issue(parse_qs(urlparse(self.path).query), "token", "issued")

        def issue(self, query, field, note):
            # Repositories under forbidden/ are refused outright, as registries that know the
            # user but deny the repository do (HTTP 403 with a DENIED error).
            if any(s.split(":")[1].startswith("forbidden/") for s in query.get("scope", [])
                   if s.count(":") >= 2):
                body = json.dumps({"errors": [{"code": "DENIED", "message":
                                   "requested access to the resource is denied"}]}).encode()
                self.send_response(403)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            access = []
            for scope in query.get("scope", []):
                kind, name, actions = scope.split(":", 2) if scope.count(":") >= 2 else ("", "", "")
                access.append({"type": kind, "name": name, "actions": actions.split(",")})
            now = int(time.time())
            header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(der).decode()]}
            claims = {"iss": issuer, "sub": userpass.split(":")[0], "aud": service,
                      "exp": now + ttl - 60, "nbf": now - 60, "iat": now, "jti": uuid.uuid4().hex,
                      "access": access}
            signing_input = (b64url(json.dumps(header).encode()) + "." +
                             b64url(json.dumps(claims).encode()))
            sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key],
                                 input=signing_input.encode(), check=True,
                                 capture_output=True).stdout
            body = json.dumps({field: signing_input + "." + b64url(sig)}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            print(note, flush=True)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print("ready", flush=True)
    server.serve_forever()


def blob_storage(port, storage):
    """What a registry's redirect points at: the blobs of a docker-registry's storage directory,
    GET /sha256/<hex> (with Range: bytes=N-), no auth; prints each request and whether it came
    with an Authorization header."""
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            print("storage GET", self.path, "authorization=%s" %
                  ("yes" if self.headers.get("Authorization") else "none"), flush=True)
            hexd = self.path.rsplit("/", 1)[-1]
            path = os.path.join(storage, "docker/registry/v2/blobs/sha256", hexd[:2], hexd, "data")
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            start = 0
            rng = self.headers.get("Range", "")
            if rng.startswith("bytes=") and rng.endswith("-"):
                start = int(rng[6:-1])
            self.send_response(206 if start else 200)
            if start:
                self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1,
                                                                      len(data)))
            self.send_header("Content-Length", str(len(data) - start))
            self.end_headers()
            self.wfile.write(data[start:])

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()


def proxy(port, upstream, mode, storage=None, storage_port=None):
    if mode == "redirect":
        blob_storage(storage_port, storage)
    cut_left = [1 if mode in ("cut", "norange") else 0]
    busy_left = [2 if mode == "busy" else 0]
    stall_left = [1 if mode == "stall" else 0]
    lock = threading.Lock()

    def take(left):
        with lock:
            if left[0] > 0:
                left[0] -= 1
                return True
            return False

    def pipe(src, dst, blob_request, is_response):
        sent = 0
        try:
            while True:
                data = src.recv(16384)
                if not data:
                    break
                if not is_response and data.startswith(b"GET "):
                    lines = data.split(b"\r\n")
                    rng = [l for l in lines if l.lower().startswith(b"range:")]
                    print("request", lines[0].decode(errors="replace"),
                          rng[0].decode(errors="replace") if rng else "",
                          "at %.3f" % time.monotonic(), flush=True)
                    if b"/blobs/" in lines[0]:
                        blob_request[0] = True
                        # busy: the first two blob requests answered 503 here, never forwarded
                        if take(busy_left):
                            print("busy", flush=True)
                            src.sendall(b"HTTP/1.1 503 Service Unavailable\r\n"
                                        b"Content-Length: 0\r\n\r\n")
                            continue
                        # redirect: the blob is served elsewhere, as registries on S3 do
                        if mode == "redirect":
                            where = lines[0].split(b" ")[1].rsplit(b"/", 1)[-1].split(b":")[-1]
                            print("redirected", flush=True)
                            src.sendall(b"HTTP/1.1 307 Temporary Redirect\r\nLocation: "
                                        b"http://127.0.0.1:%d/sha256/%s\r\n"
                                        b"Content-Length: 0\r\n\r\n" % (storage_port, where))
                            continue
                        # norange: after its cut, a server that ignores Range (answers 200)
                        if mode == "norange" and rng:
                            print("range dropped", flush=True)
                            data = b"\r\n".join(l for l in lines
                                                 if not l.lower().startswith(b"range:"))
                if (is_response and blob_request[0] and sent + len(data) > 65536 and
                        take(stall_left)):
                    dst.sendall(data[:max(0, 65536 - sent)])
                    print("stall after", 65536, flush=True)
                    threading.Event().wait()  # never set: the socket stays open, nothing sent
                dst.sendall(data)
                sent += len(data)
                if is_response and blob_request[0]:
                    if mode == "slow":
                        time.sleep(0.05)
                    if mode in ("cut", "norange") and sent > 65536 and take(cut_left):
                        print("cut after", sent, flush=True)
                        raise ConnectionResetError
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(64)
    print("ready", flush=True)
    while True:
        client, _ = listener.accept()
        print("connection", flush=True)
        up = socket.create_connection(("127.0.0.1", upstream))
        blob_request = [False]
        threading.Thread(target=pipe, args=(client, up, blob_request, False), daemon=True).start()
        threading.Thread(target=pipe, args=(up, client, blob_request, True), daemon=True).start()


if __name__ == "__main__":
    if sys.argv[1] == "token":
        token_server(int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6],
                     sys.argv[7], int(sys.argv[8]) if len(sys.argv) > 8 else 600,
                     sys.argv[9] if len(sys.argv) > 9 else "",
                     sys.argv[10] if len(sys.argv) > 10 else "post")
    else:
        proxy(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4],
              sys.argv[5] if len(sys.argv) > 5 else None,
              int(sys.argv[6]) if len(sys.argv) > 6 else None)
