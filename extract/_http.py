"""The extractors' HTTP stack: a `requests` session whose every send goes through the API's
`HttpPolicy` (pacing, retries with a time budget, typed errors, one call counter).

The policy sits in the transport adapter, so dlt's REST client, its paginators and the
OAuth token call all get the same pacing and retries, and every request that reaches the
server is counted once.
"""

from __future__ import annotations

from requests import PreparedRequest, Response, Session
from requests.adapters import HTTPAdapter

from lmsbridge_core.http import HttpPolicy

# Seconds to wait for a response; a slower one counts as a transient failure and is retried.
REQUEST_TIMEOUT_S = 60.0


class PolicyAdapter(HTTPAdapter):
    """Sends each request through `policy`: paced, retried, classified."""

    def __init__(self, policy: HttpPolicy) -> None:
        super().__init__(pool_maxsize=8)
        self.policy = policy

    def send(self, request: PreparedRequest, *args: object, **kwargs: object) -> Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = REQUEST_TIMEOUT_S

        def attempt() -> Response:
            return super(PolicyAdapter, self).send(request, *args, **kwargs)  # type: ignore[arg-type]

        return self.policy.send(request.method or "GET", request.url or "", attempt)


def policy_session(policy: HttpPolicy) -> Session:
    session = Session()
    adapter = PolicyAdapter(policy)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
