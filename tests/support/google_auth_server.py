"""A local OAuth 2.0 token endpoint, so Google application-default credentials work offline.

    with GoogleTokenServer() as tokens:
        adc = tokens.write_credentials(tmp_path)          # a service-account key file
        os.environ["GOOGLE_APPLICATION_CREDENTIALS"] = str(adc)
        ...                                               # google-auth gets its token from us
        assert tokens.grants() == 1

`google.auth.default()` reads the file, and the first request fetches a token: google-auth signs a
JWT with the file's private key and POSTs it (`grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`,
form-encoded) to the file's `token_uri`, here, and gets `{"access_token", "expires_in",
"token_type"}` back, as from oauth2.googleapis.com. (A service-account file, because google-auth
always sends `authorized_user` refreshes to Google's own endpoint.) The server checks the JWT's
signature against the key it generated.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from tests.support.openai_server import Reply, ReplyServer, Request, http_response

__all__ = ["GoogleTokenServer"]

GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CLIENT_EMAIL = "evals@local-project.iam.gserviceaccount.com"


class GoogleTokenServer(ReplyServer):
    """`POST /token` on 127.0.0.1 answers a signed service-account JWT with `access_token`."""

    def __init__(
        self, access_token: str = "ya29.local-access-token", *, host: str = "127.0.0.1"
    ) -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa

        super().__init__(host, 0)
        self.access_token = access_token
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    @property
    def token_uri(self) -> str:
        return f"http://{self.host}:{self.port}/token"

    def write_credentials(self, directory: Path) -> Path:
        """A service-account key file (application-default credentials) pointing at us."""
        from cryptography.hazmat.primitives import serialization

        pem = self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        info = {
            "type": "service_account",
            "project_id": "local-project",
            "private_key_id": "local-key-1",
            "private_key": pem.decode(),
            "client_email": CLIENT_EMAIL,
            "client_id": "1234567890",
            "token_uri": self.token_uri,
        }
        path = directory / "service-account.json"
        path.write_text(json.dumps(info))
        return path

    def grants(self) -> int:
        """Tokens handed out so far."""
        return sum(1 for r in self.requests if self._claims(r) is not None)

    def _claims(self, request: Request) -> dict[str, Any] | None:
        """The JWT's claims when the request is a grant signed with our key, else None."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        form = dict(parse_qsl(request.raw.decode()))
        if request.path != "/token" or form.get("grant_type") != GRANT:
            return None
        try:
            header, payload, signature = form["assertion"].split(".")
            self.key.public_key().verify(
                _unb64(signature),
                f"{header}.{payload}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
            claims: dict[str, Any] = json.loads(_unb64(payload))
        except (KeyError, ValueError, InvalidSignature):
            return None
        return claims if claims.get("iss") == CLIENT_EMAIL else None

    async def _answer(self, request: Request) -> Reply:
        if request.method != "POST" or request.path != "/token":
            return Reply(status=404, body={"error": "not_found"})
        if self._claims(request) is None:
            return Reply(status=400, body={"error": "invalid_grant", "error_description": "Bad"})
        token = {"access_token": self.access_token, "expires_in": 3599, "token_type": "Bearer"}
        return Reply(body=token)

    def _encode(self, reply: Reply, request: Request, keep_alive: bool) -> bytes:
        payload = json.dumps(reply.body).encode()
        return http_response(reply, payload, {"content-type": "application/json"}, keep_alive)


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
