"""LearnWorlds OAuth2 client credentials on dlt's auth class.

LearnWorlds nests the token under `tokenData`, wants `Lw-Client` on the token call too and
takes a JSON body; there is no refresh token, so an expiring or rejected token is re-minted.
"""

from __future__ import annotations

from typing import Any

from dlt.common.configuration import configspec
from dlt.sources.helpers.rest_client.auth import OAuth2ClientCredentials
from requests import PreparedRequest, Response

from extract.result import ExtractError
from lmsbridge_core.http import LEARNWORLDS, error_message
from lmsbridge_core.learnworlds_token import access_token, lifetime_s, refused, token_request


@configspec
class LearnWorldsAuth(OAuth2ClientCredentials):
    def build_access_token_request(self) -> dict[str, Any]:
        return token_request(self.client_id, self.client_secret)

    def obtain_token(self) -> None:
        response = self.session.post(self.access_token_url, **self.build_access_token_request())
        error = refused(response)
        if error is not None:
            raise error
        if response.status_code != 200:
            raise ExtractError(
                f"LearnWorlds token request failed: HTTP {response.status_code}: "
                f"{error_message(response)}",
                api=LEARNWORLDS.name,
                status=response.status_code,
            )
        self.obtain_token_from(response)

    def obtain_token_from(self, response: Response) -> None:
        import pendulum

        try:
            body = response.json()
        except ValueError as exc:
            raise ExtractError("LearnWorlds token response is not JSON") from exc
        self.parse_native_representation(self.parse_access_token(body))
        self.token_expiry = pendulum.now().add(seconds=self.parse_expiration_in_seconds(body))

    def parse_access_token(self, response_json: Any) -> str:
        token = access_token(response_json)
        if token is None:
            raise ExtractError("LearnWorlds token response has no tokenData.access_token")
        return token

    def parse_expiration_in_seconds(self, response_json: Any) -> int:
        return lifetime_s(response_json, self.default_token_expiration)

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        request = super().__call__(request)
        request.register_hook("response", self._remint_once_on_401)
        return request

    def _remint_once_on_401(self, response: Response, **kwargs: Any) -> Response:
        if response.status_code != 401 or getattr(response.request, "_lw_reminted", False):
            return response
        self.access_token = None
        self.obtain_token()
        retry = response.request.copy()
        retry.headers["Authorization"] = f"Bearer {self.access_token}"
        retry._lw_reminted = True  # type: ignore[attr-defined]
        response.content  # noqa: B018 - release the connection before reusing it
        response.close()
        new_response = response.connection.send(retry, **kwargs)
        new_response.history.append(response)
        new_response.request = retry
        return new_response
