"""A local managed-identity token endpoint, so Microsoft Entra ID credentials work offline.

    with ManagedIdentityServer("entra-token") as identity:
        os.environ.update(identity.environment())   # IDENTITY_ENDPOINT, IDENTITY_HEADER
        ...                                         # DefaultAzureCredential gets its token here
        assert identity.token_requests()[0].query["resource"] == "https://cognitiveservices.azure.com"

It speaks App Service's managed-identity protocol (what `ManagedIdentityCredential`, and so
`DefaultAzureCredential`, uses when `IDENTITY_ENDPOINT` and `IDENTITY_HEADER` are set):
`GET {IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=R` with `X-IDENTITY-HEADER`, answered by
`{"access_token", "expires_on", "resource", "token_type"}`.
"""

from __future__ import annotations

import json
import time

from tests.support.openai_server import Reply, ReplyServer, Request, http_response

__all__ = ["ManagedIdentityServer"]

IDENTITY_HEADER = "local-identity-header-value"


class ManagedIdentityServer(ReplyServer):
    """`GET /msi/token` on 127.0.0.1 hands out `access_token` for any resource."""

    def __init__(self, access_token: str, *, host: str = "127.0.0.1") -> None:
        super().__init__(host, 0)
        self.access_token = access_token

    def environment(self) -> dict[str, str]:
        return {
            "IDENTITY_ENDPOINT": f"http://{self.host}:{self.port}/msi/token",
            "IDENTITY_HEADER": IDENTITY_HEADER,
        }

    def token_requests(self) -> list[Request]:
        return [r for r in self.requests if r.path == "/msi/token"]

    async def _answer(self, request: Request) -> Reply:
        if request.method != "GET" or request.path != "/msi/token":
            return Reply(status=404, body={"error": "not_found"})
        if request.headers.get("x-identity-header") != IDENTITY_HEADER:
            return Reply(status=401, body={"error": "unauthorized"})
        if request.query.get("api-version") != "2019-08-01" or not request.query.get("resource"):
            return Reply(status=400, body={"error": "invalid_request"})
        token = {
            "access_token": self.access_token,
            "expires_on": str(int(time.time()) + 3600),
            "resource": request.query["resource"],
            "token_type": "Bearer",
        }
        return Reply(body=token)

    def _encode(self, reply: Reply, request: Request, keep_alive: bool) -> bytes:
        payload = json.dumps(reply.body).encode()
        return http_response(reply, payload, {"content-type": "application/json"}, keep_alive)
