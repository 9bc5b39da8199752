"""A real SMTP server (aiosmtpd) and a real HTTP server on the loopback address, for the tests
of sending through a mail relay and an SMS gateway.

    python3 servers.py SMTP_PORT HTTP_PORT OUTDIR TOKEN [SMTP_TLS_PORT HTTPS_PORT CERT KEY]

Every message the SMTP server accepts is written to OUTDIR/smtp/N.eml; every SMS the HTTP
server accepts is a JSON line in OUTDIR/sms.jsonl. Recipients decide the answer, so a test can
ask for each: an address with `reject` gets 550 (refused for good), one with `later` gets 451
(try again); an SMS to a number ending in 400 gets HTTP 400, one ending in 503 gets 503.
A request without `Authorization: Bearer TOKEN` gets 401. OUTDIR/ready appears once both
listen. Runs until killed.

With the four more arguments, also: an SMTP server on SMTP_TLS_PORT that requires STARTTLS and
then a login (user `tickets`, password TOKEN), and the same HTTP gateway over TLS on
HTTPS_PORT, both with the certificate CERT (key KEY) of a CA the test made.
"""

import itertools
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

smtp_port, http_port, outdir, token = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
os.makedirs(os.path.join(outdir, "smtp"), exist_ok=True)
counter = itertools.count()
lock = threading.Lock()


class Relay:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if "reject" in address:
            return "550 5.1.1 <%s>: no such mailbox here" % address
        if "later" in address:
            return "451 4.3.0 mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with lock:
            n = next(counter)
        path = os.path.join(outdir, "smtp", "%06d.eml" % n)
        with open(path + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(path + ".tmp", path)
        return "250 2.0.0 Ok: queued as m%d" % n


class Gateway(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Authorization") != "Bearer " + token:
            return self.answer(401, {"error": "bad token"})
        try:
            sms = json.loads(body)
            to, text, reference = sms["to"], sms["text"], sms["reference"]
        except Exception as e:  # noqa: BLE001 - any bad body is the client's fault
            return self.answer(400, {"error": "bad body: %s" % e})
        if to.endswith("400"):
            return self.answer(400, {"error": "not a mobile number"})
        if to.endswith("503"):
            return self.answer(503, {"error": "overloaded"})
        with lock:
            with open(os.path.join(outdir, "sms.jsonl"), "a") as f:
                f.write(json.dumps({"to": to, "text": text, "reference": reference}) + "\n")
        self.answer(200, {"id": reference})

    def answer(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


controller = Controller(Relay(), hostname="127.0.0.1", port=smtp_port)
controller.start()
http = ThreadingHTTPServer(("127.0.0.1", http_port), Gateway)
threading.Thread(target=http.serve_forever, daemon=True).start()

if len(sys.argv) > 5:
    import ssl

    from aiosmtpd.smtp import AuthResult, LoginPassword

    tls_port, https_port, cert, key = int(sys.argv[5]), int(sys.argv[6]), sys.argv[7], sys.argv[8]
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == b"tickets"
            and auth_data.password == token.encode()
        )
        return AuthResult(success=ok)

    secure = Controller(
        Relay(),
        hostname="127.0.0.1",
        port=tls_port,
        server_hostname="localhost",
        tls_context=context,
        require_starttls=True,
        authenticator=authenticator,
        auth_require_tls=True,
        auth_required=True,
    )
    secure.start()
    https = ThreadingHTTPServer(("127.0.0.1", https_port), Gateway)
    https.socket = context.wrap_socket(https.socket, server_side=True)
    threading.Thread(target=https.serve_forever, daemon=True).start()
open(os.path.join(outdir, "ready"), "w").close()
while True:
    time.sleep(3600)
