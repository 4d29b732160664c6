// node-oidc-provider with the device flow (RFC 8628) enabled and one public client,
// the reference for bench/emulator.sh. Listens on 127.0.0.1:$PORT and prints its URL.
// Device authorization: POST /device/auth; polling: POST /token (device_code grant).
import Provider from "oidc-provider";

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  clients: [
    {
      client_id: "client_bench",
      token_endpoint_auth_method: "none",
      grant_types: ["urn:ietf:params:oauth:grant-type:device_code"],
      response_types: [],
      redirect_uris: [],
    },
  ],
  features: { deviceFlow: { enabled: true }, devInteractions: { enabled: false } },
});
const server = provider.listen(port, "127.0.0.1", () => {
  process.stdout.write(`${issuer}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
