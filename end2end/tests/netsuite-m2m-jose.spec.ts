import { expect, test } from "@playwright/test";
// Machine-to-machine (OAuth 2.0 client credentials) against the NetSuite sandbox with a JOSE
// library we did not write: npm's `jose` builds and signs the client assertion exactly as
// Oracle's documentation describes it (header kid + alg, iss = client id, scope, aud = the token
// endpoint, iat/exp), and a plain HTTP POST asks for the token. The sandbox must grant it, the
// token must open SuiteQL, and the assertions NetSuite refuses must be refused.
import { SignJWT, importPKCS8 } from "jose";

const SANDBOX = process.env.NETSUITE_SANDBOX_URL ?? "http://127.0.0.1:3902";
const ACCOUNT = "1234567_SB1";
const ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

type Demo = {
  client_id: string;
  certificate_id: string;
  private_key_pem: string;
  token_path: string;
  algorithm: string;
};

/// The demo account's key pair, made by the sandbox at its first start (README).
async function demo(): Promise<Demo> {
  const resp = await fetch(`${SANDBOX}/_sandbox/accounts/${ACCOUNT}/demo-m2m`);
  expect(resp.status).toBe(200);
  return (await resp.json()) as Demo;
}

async function assertion(d: Demo, change: { aud?: string; kid?: string; lifetime?: string } = {}) {
  const key = await importPKCS8(d.private_key_pem, d.algorithm);
  return new SignJWT({ scope: ["restlets", "rest_webservices"] })
    .setProtectedHeader({ alg: d.algorithm, typ: "JWT", kid: change.kid ?? d.certificate_id })
    .setIssuer(d.client_id)
    .setAudience(change.aud ?? `${SANDBOX}${d.token_path}`)
    .setIssuedAt()
    .setExpirationTime(change.lifetime ?? "30m")
    .sign(key);
}

async function token(d: Demo, jwt: string): Promise<Response> {
  return fetch(`${SANDBOX}${d.token_path}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: jwt,
    }),
  });
}

test("a client assertion signed with jose earns a bearer token that opens SuiteQL", async () => {
  const d = await demo();
  expect(d.client_id).toBe("erp-bridge-demo-client");
  expect(d.certificate_id).toBe("erp-bridge-demo-certificate");

  const granted = await token(d, await assertion(d));
  expect(granted.status).toBe(200);
  const body: any = await granted.json();
  expect(body.token_type.toLowerCase()).toBe("bearer");
  expect(body.expires_in).toBe(3600);
  expect(typeof body.access_token).toBe("string");

  const query = await fetch(`${SANDBOX}/services/rest/query/v1/suiteql?limit=5`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${body.access_token}`,
      "content-type": "application/json",
      prefer: "transient",
    },
    body: JSON.stringify({ q: "SELECT id, itemid FROM item ORDER BY id" }),
  });
  expect(query.status).toBe(200);
  const page: any = await query.json();
  expect(page.items.map((i: any) => i.itemid)).toContain("WID-100");
  expect(typeof page.items[0].id).toBe("string");
});

test("the assertions NetSuite refuses are refused with OAuth's invalid_grant", async () => {
  const d = await demo();
  const refusals = [
    await assertion(d, { kid: "not-a-registered-certificate" }),
    await assertion(d, { aud: "https://example.com/not/the/token/endpoint" }),
    // NetSuite takes assertions that live at most an hour.
    await assertion(d, { lifetime: "2h" }),
  ];
  for (const jwt of refusals) {
    const resp = await token(d, jwt);
    expect(resp.status).toBe(400);
    expect(((await resp.json()) as any).error).toBe("invalid_grant");
  }
  // A bearer token made up by the caller opens nothing.
  const query = await fetch(`${SANDBOX}/services/rest/query/v1/suiteql`, {
    method: "POST",
    headers: { authorization: "Bearer made-up", "content-type": "application/json", prefer: "transient" },
    body: JSON.stringify({ q: "SELECT id FROM item" }),
  });
  expect(query.status).toBe(401);
  expect(((await query.json()) as any)["o:errorDetails"][0]["o:errorCode"]).toBe("INVALID_LOGIN");
});
