"""MetalLB's controller and speaker, as far as bootstrap can tell, for the suite's node (which
cannot pull quay.io): health on :17472 as the real ones serve it, and, for the controller, the
validating admission webhook on :9443 over TLS once its certificate is there. As with the real
controller, the certificate is put in Secret `metallb-webhook-cert` and the webhook's caBundle
by someone other than bootstrap (here `CertificateInjector`, playing the controller's part), and
the webhook serves only after that: the race bootstrap must wait out.

`accept=False` makes a webhook that refuses every object with a validation message, so tests can
tell a real refusal (final) from a webhook not serving yet (retried).
"""

from __future__ import annotations

import base64
import subprocess
import tempfile
import threading
from pathlib import Path

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from tests.stack.registry import Registry

SERVER = r'''
import json, os, ssl, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CERTS = "/tmp/k8s-webhook-server/serving-certs"
ACCEPT = os.environ.get("STANDIN_ACCEPT", "true") == "true"

class Health(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path in ("/readyz", "/healthz") else 404)
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *args):
        pass

class Admission(BaseHTTPRequestHandler):
    def do_POST(self):
        review = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        request = review["request"]
        answer = {"uid": request["uid"], "allowed": ACCEPT}
        if not ACCEPT:
            answer["status"] = {"code": 403, "message": "stand-in webhook: " + request["kind"]["kind"] + " refused"}
        print("admission", request["kind"]["kind"], request.get("name"), "allowed" if ACCEPT else "refused", flush=True)
        body = json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": answer}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

threading.Thread(target=ThreadingHTTPServer(("0.0.0.0", 17472), Health).serve_forever, daemon=True).start()
print("metallb stand-in:", " ".join(sys.argv[1:]), flush=True)
if os.environ.get("STANDIN_ROLE") == "speaker":
    while True:
        time.sleep(3600)
while not (os.path.exists(CERTS + "/tls.crt") and os.path.getsize(CERTS + "/tls.crt") > 0):
    time.sleep(0.5)  # the kubelet refreshes the Secret's volume once the controller's part is done
print("certificate found: serving the webhook", flush=True)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(CERTS + "/tls.crt", CERTS + "/tls.key")
server = ThreadingHTTPServer(("0.0.0.0", 9443), Admission)
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
'''
SERVICE_NAME = "metallb-webhook-service.metallb-system.svc"


def metallb_images(engine, registry: Registry, python_base: str, accept: bool = True) -> tuple[str, str]:
    """(controller, speaker) image names in the suite's registry."""
    names = []
    for role in ("controller", "speaker"):
        tag = f"{registry.host}/standins/metallb-{role}:{'accepting' if accept else 'refusing'}"
        with tempfile.TemporaryDirectory(prefix="dk-metallb-") as directory:
            (Path(directory) / "standin.py").write_text(SERVER)
            (Path(directory) / "Dockerfile").write_text(
                f"FROM {python_base}\nCOPY standin.py /standin.py\nRUN chmod 644 /standin.py\n"
                f"ENV STANDIN_ROLE={role} STANDIN_ACCEPT={'true' if accept else 'false'}\n"
                'ENTRYPOINT ["python3", "-u", "/standin.py"]\n')
            engine.images.build(path=directory, tag=tag, rm=True)
        for line in engine.api.push(tag, stream=True, decode=True):
            if "error" in line:
                raise RuntimeError(f"pushing {tag}: {line['error']}")
        names.append(tag)
    return names[0], names[1]


def self_signed(directory: Path) -> tuple[bytes, bytes]:
    """(certificate, key) for the webhook Service's DNS name."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    f"/CN={SERVICE_NAME}", "-addext", f"subjectAltName=DNS:{SERVICE_NAME}",
                    "-keyout", str(directory / "tls.key"), "-out", str(directory / "tls.crt")],
                   check=True, capture_output=True)
    return (directory / "tls.crt").read_bytes(), (directory / "tls.key").read_bytes()


class CertificateInjector:
    """The controller's part: once bootstrap has created the empty Secret and the webhook
    configuration, fill in the certificate and caBundle (field manager `MetalLB`, by update, as
    the real controller does), and create the speakers' `memberlist` Secret."""

    def __init__(self, api_client: k8s.ApiClient, certificate: bool = True) -> None:
        self.core, self.admission = k8s.CoreV1Api(api_client), k8s.AdmissionregistrationV1Api(api_client)
        self.certificate, self.done, self.stop = certificate, threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> CertificateInjector:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(10)

    def _run(self) -> None:
        with tempfile.TemporaryDirectory() as directory:
            certificate, key = self_signed(Path(directory))
        encoded = {"tls.crt": base64.b64encode(certificate).decode(), "tls.key": base64.b64encode(key).decode(),
                   "ca.crt": base64.b64encode(certificate).decode()}
        while not self.stop.wait(0.5):
            try:
                self.core.read_namespaced_secret("metallb-webhook-cert", "metallb-system")
                webhooks = self.admission.read_validating_webhook_configuration("metallb-webhook-configuration")
            except ApiException:
                continue
            if self.certificate:
                self._fill_in(encoded, len(webhooks.webhooks))
            self._memberlist()
            self.done.set()
            return

    def _fill_in(self, encoded: dict[str, str], webhooks: int) -> None:
        self.core.patch_namespaced_secret("metallb-webhook-cert", "metallb-system", {"data": encoded},
                                          field_manager="MetalLB")
        self.admission.patch_validating_webhook_configuration("metallb-webhook-configuration", [
            {"op": "add", "path": f"/webhooks/{index}/clientConfig/caBundle", "value": encoded["ca.crt"]}
            for index in range(webhooks)], field_manager="MetalLB")

    def _memberlist(self) -> None:
        try:
            self.core.create_namespaced_secret("metallb-system", {
                "metadata": {"name": "memberlist"},
                "data": {"secretkey": base64.b64encode(b"stand-in memberlist key").decode()}}, field_manager="MetalLB")
        except ApiException as e:
            if e.status != 409:
                raise


def without_cel_rules(value):
    """MetalLB's manifest as it would be for an API server before CEL validation rules (1.25):
    the suite's node is 1.20 (bootstrap refuses the published one there, see
    test_an_api_server_too_old_for_metallb_is_refused_before_anything)."""
    if isinstance(value, dict):
        return {key: without_cel_rules(inner) for key, inner in value.items() if key != "x-kubernetes-validations"}
    if isinstance(value, list):
        return [without_cel_rules(inner) for inner in value]
    return value
