// The official WorkOS Node SDK (@workos-inc/node, unmodified) against the emulator.
//
// The SDK has no device-flow methods, so the two device calls go through its generic
// `workos.post(...)` (as WorkOS users do by hand); refresh is the typed
// `userManagement.authenticateWithRefreshToken`; the access token is verified with
// `jose` against the SDK's own JWKS (`userManagement.getJWKS()` / `getJwksUrl`).
//
// Input: INTEROP_BASE_URL, INTEROP_CLIENT_ID. Output: one checkpoint per line on stdout
// (user_code, pending, tokens, jwks, verified, refreshed, replay invalid_grant, ok);
// exit 0 only when every step held.

import { WorkOS, OauthException } from "@workos-inc/node";
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";

const checkpoint = (line) => process.stdout.write(`${line}\n`);
function fail(what) {
  process.stderr.write(`interop-node: FAILED: ${what}\n`);
  process.exit(1);
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const oauthError = (e) => (e instanceof OauthException ? e.error : undefined);

async function main() {
  const base = new URL(process.env.INTEROP_BASE_URL);
  const clientId = process.env.INTEROP_CLIENT_ID;
  const workos = new WorkOS({
    clientId,
    https: base.protocol === "https:",
    apiHostname: base.hostname,
    port: base.port ? Number(base.port) : undefined,
    timeout: 10_000,
  });
  const publicCall = { skipApiKeyCheck: true };

  // 1. Start.
  const { data: device } = await workos.post(
    "/user_management/authorize/device",
    { client_id: clientId },
    publicCall,
  );
  checkpoint(`user_code ${device.user_code}`);
  let interval = Math.max(Number(device.interval ?? 5), 1);

  // 2. Poll: pending at least once, then tokens after the approval.
  const deadline = Date.now() + Number(device.expires_in) * 1000;
  let announced = false;
  let tokens;
  for (;;) {
    await sleep(interval * 1000);
    if (Date.now() > deadline) fail("the device code expired while polling");
    try {
      ({ data: tokens } = await workos.post(
        "/user_management/authenticate",
        {
          grant_type: "urn:ietf:params:oauth:grant-type:device_code",
          device_code: device.device_code,
          client_id: clientId,
        },
        publicCall,
      ));
      break;
    } catch (e) {
      const code = oauthError(e);
      if (code === "authorization_pending") {
        if (!announced) checkpoint("pending");
        announced = true;
      } else if (code === "slow_down") {
        interval += 5;
      } else {
        fail(`poll answered ${code}: ${e}`);
      }
    }
  }
  if (!announced) fail("never saw authorization_pending before the tokens");
  checkpoint(`tokens ${tokens.user.email}`);

  // 3. The JWKS at the SDK's URL, and the token's kid in it.
  const jwksUrl = workos.userManagement.getJwksUrl(clientId);
  const jwks = await (await fetch(jwksUrl)).json();
  const { kid, alg } = decodeProtectedHeader(tokens.access_token);
  if (alg !== "RS256" || !jwks.keys.some((k) => k.kid === kid)) {
    fail(`no RS256 JWKS key with the token's kid ${kid}`);
  }
  checkpoint(`jwks ${jwks.keys.length} key(s), kid matches`);

  // 4. Verify: jose with the SDK's own remote key set, and jose's own.
  const sdkKeys = await workos.userManagement.getJWKS();
  const { payload } = await jwtVerify(tokens.access_token, sdkKeys, { algorithms: ["RS256"] });
  await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(jwksUrl)), {
    algorithms: ["RS256"],
  });
  if (payload.sub !== tokens.user.id) fail("sub is not the user id");
  checkpoint(`verified sid=${payload.sid}`);

  // 5. Refresh (typed, public client: no API key).
  const oldRefresh = tokens.refresh_token;
  const refreshed = await workos.userManagement.authenticateWithRefreshToken({
    clientId,
    refreshToken: oldRefresh,
  });
  if (refreshed.refreshToken === oldRefresh || refreshed.accessToken === tokens.access_token) {
    fail("refresh did not rotate the tokens");
  }
  checkpoint(`refreshed ${refreshed.user.email}`);

  // 6. Replay the old refresh token: invalid_grant.
  try {
    await workos.userManagement.authenticateWithRefreshToken({ clientId, refreshToken: oldRefresh });
  } catch (e) {
    const code = oauthError(e);
    if (code !== "invalid_grant") fail(`replay answered ${code}: ${e}`);
    checkpoint("replay invalid_grant");
    checkpoint("ok");
    return;
  }
  fail("the rotated-out refresh token was accepted");
}

main().catch((e) => fail(`${e?.name}: ${e?.message}`));
