"""The official WorkOS Python SDK (PyPI `workos`, unmodified) against the emulator.

Start a device authorization, poll (pending) until someone approves on the
verification page, verify the access token against the JWKS (the SDK's sealed
session verifier and PyJWT on the SDK's JWKS URL), refresh, and replay the old
refresh token (`invalid_grant`).

Input: INTEROP_BASE_URL, INTEROP_CLIENT_ID. Output: one checkpoint per line on
stdout (user_code, pending, tokens, jwks, verified, refreshed, replay
invalid_grant, ok); exit 0 only when every step held. The SDK has no poll loop,
so this program polls at the server's interval, as its documentation shows.
"""

import os
import sys
import time

import jwt
from cryptography.fernet import Fernet
from workos import create_public_client
from workos._errors import BadRequestError
from workos.session import seal_session_from_auth_response


def checkpoint(line: str) -> None:
    print(line, flush=True)


def fail(what: str) -> "NoReturn":  # noqa: F821
    print(f"interop-python: FAILED: {what}", file=sys.stderr, flush=True)
    sys.exit(1)


def as_dict(model):
    return model.to_dict() if hasattr(model, "to_dict") else dict(model)


def main() -> None:
    base_url = os.environ["INTEROP_BASE_URL"]
    client_id = os.environ["INTEROP_CLIENT_ID"]
    workos = create_public_client(client_id=client_id, base_url=base_url, request_timeout=10)
    um = workos.user_management

    # 1. Start.
    device = um.create_device(client_id=client_id)
    checkpoint(f"user_code {device.user_code}")
    interval = max(float(device.interval or 5), 1.0)

    # 2. Poll: pending at least once, then tokens after the approval.
    announced = False
    deadline = time.monotonic() + float(device.expires_in)
    while True:
        time.sleep(interval)
        if time.monotonic() > deadline:
            fail("the device code expired while polling")
        try:
            tokens = um.authenticate_with_device_code(device_code=device.device_code)
            break
        except BadRequestError as e:
            code = e.code or e.error
            if code == "authorization_pending":
                if not announced:
                    checkpoint("pending")
                    announced = True
            elif code == "slow_down":
                interval += 5
            else:
                fail(f"poll answered {code}: {e}")
    if not announced:
        fail("never saw authorization_pending before the tokens")
    checkpoint(f"tokens {tokens.user.email}")

    # 3. The JWKS through the SDK, and the token's kid in it.
    jwks = um.get_jwks(client_id)
    kid = jwt.get_unverified_header(tokens.access_token)["kid"]
    keys = [as_dict(k) for k in jwks.keys]
    if not any(k.get("kid") == kid for k in keys):
        fail(f"no JWKS key with the token's kid {kid}")
    checkpoint(f"jwks {len(keys)} key(s), kid matches")

    # 4. Verify the access token: PyJWT against the SDK's JWKS URL, then the SDK's
    #    own sealed-session verifier.
    signing_key = jwt.PyJWKClient(um.get_jwks_url()).get_signing_key_from_jwt(tokens.access_token)
    claims = jwt.decode(
        tokens.access_token,
        signing_key.key,
        algorithms=["RS256"],
        options={"verify_aud": False},
    )
    if claims["sub"] != tokens.user.id:
        fail("sub is not the user id")
    password = Fernet.generate_key().decode()
    sealed = seal_session_from_auth_response(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        user=as_dict(tokens.user),
        cookie_password=password,
    )
    result = um.load_sealed_session(session_data=sealed, cookie_password=password).authenticate()
    if not result.authenticated:
        # The SDK takes a token for a user session only with a string `sid` and a
        # numeric `auth_time` claim: name what is missing.
        lacking = [c for c in ("sid", "auth_time") if c not in claims]
        fail(f"Session.authenticate rejected the token: {result.reason}; claims lacking: {lacking}")
    checkpoint(f"verified sid={result.session_id}")

    # 5. Refresh: a new pair.
    old_refresh = tokens.refresh_token
    refreshed = um.authenticate_with_refresh_token(refresh_token=old_refresh)
    if refreshed.refresh_token == old_refresh or refreshed.access_token == tokens.access_token:
        fail("refresh did not rotate the tokens")
    checkpoint(f"refreshed {refreshed.user.email}")

    # 6. Replay the old refresh token: invalid_grant.
    try:
        um.authenticate_with_refresh_token(refresh_token=old_refresh)
    except BadRequestError as e:
        code = e.code or e.error
        if code != "invalid_grant":
            fail(f"replay answered {code}: {e}")
        checkpoint("replay invalid_grant")
    else:
        fail("the rotated-out refresh token was accepted")
    checkpoint("ok")


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except BaseException as e:  # report any SDK error as a failed step
        fail(f"{type(e).__name__}: {e}")
