import { expect, test } from "@playwright/test";
// A published NetSuite client we did not write: npm's netsuite-rest (token-based authentication
// with oauth-1.0a, HMAC-SHA256). Our NetSuite sandbox is only worth what it shares with
// NetSuite, so it must accept the requests this client signs and answer in shapes it reads.
import NetsuiteRest from "netsuite-rest";

// The NetSuite sandbox `serve --demo` starts, and the demo account's published TBA token (README).
const SANDBOX = process.env.NETSUITE_SANDBOX_URL ?? "http://127.0.0.1:3902";
const DEMO = {
  consumer_key: "erp-bridge-demo-consumer-key",
  consumer_secret_key: "erp-bridge-demo-consumer-secret",
  token: "erp-bridge-demo-token-id",
  token_secret: "erp-bridge-demo-token-secret",
  realm: "1234567_SB1",
  base_url: SANDBOX,
};

/// The problem document of a refused call (got throws on a 4xx).
async function refusal(call: Promise<unknown>): Promise<{ status: number; body: any }> {
  try {
    await call;
  } catch (err: any) {
    return { status: err.response?.statusCode, body: JSON.parse(err.response?.body ?? "null") };
  }
  throw new Error("the call was not refused");
}

test("netsuite-rest signs requests the NetSuite sandbox accepts and reads its answers", async () => {
  const ns = new NetsuiteRest(DEMO);
  const unique = `SDK-${Date.now()}`;

  // Create: 204 and the new record's URL in Location, no body.
  const created: any = await ns.request({
    path: "record/v1/customer",
    method: "POST",
    body: JSON.stringify({ companyName: `Customer ${unique}`, email: "sdk@example.com", externalId: unique }),
    heads: { "content-type": "application/json" },
  });
  expect(created.statusCode).toBe(204);
  // netsuite-rest hands back a copy of got's response in which the lazy `headers` getter is
  // lost; the raw header list survives.
  const raw: string[] = created.rawHeaders;
  const location = raw[raw.findIndex((h) => h.toLowerCase() === "location") + 1];
  expect(location).toMatch(/\/services\/rest\/record\/v1\/customer\/\d+$/);
  const id = location.split("/").pop();

  // Read, with query parameters the client signs (fields).
  const read: any = await ns.request({ path: `record/v1/customer/${id}?fields=companyName,email` });
  expect(read.statusCode).toBe(200);
  expect(read.data.companyName).toBe(`Customer ${unique}`);
  expect(read.data.email).toBe("sdk@example.com");
  expect(read.data.entityId).toBeUndefined();

  // Change, and upsert by external id.
  const patched: any = await ns.request({
    path: `record/v1/customer/${id}`,
    method: "PATCH",
    body: JSON.stringify({ phone: "555-0100" }),
  });
  expect(patched.statusCode).toBe(204);
  const upserted: any = await ns.request({
    path: `record/v1/customer/eid:${unique}`,
    method: "PUT",
    body: JSON.stringify({ companyName: `Renamed ${unique}` }),
  });
  expect(upserted.statusCode).toBe(204);
  const byExternalId: any = await ns.request({ path: `record/v1/customer/eid:${unique}` });
  expect(byExternalId.data.id).toBe(id);
  expect(byExternalId.data.companyName).toBe(`Renamed ${unique}`);
  expect(byExternalId.data.phone).toBe("555-0100");

  // SuiteQL, paged, with the limit and offset signed as query parameters.
  const page: any = await ns.request({
    path: "query/v1/suiteql?limit=5&offset=0",
    method: "POST",
    body: JSON.stringify({ q: "SELECT id, companyname FROM customer WHERE externalid = ?", params: [unique] }),
  });
  expect(page.statusCode).toBe(200);
  expect(page.data.count).toBe(1);
  expect(page.data.items[0]).toEqual({ links: [], id, companyname: `Renamed ${unique}` });
  const items: any = await ns.request({
    path: "query/v1/suiteql",
    method: "POST",
    body: JSON.stringify({ q: "SELECT id, itemid FROM item ORDER BY itemid" }),
  });
  expect(items.data.items.map((i: any) => i.itemid)).toEqual(["GAD-200", "SPR-300", "WID-100"]);

  // Refusals answer as NetSuite does: 404 NONEXISTENT_ID; a wrong secret is the generic 401.
  const missing = await refusal(ns.request({ path: "record/v1/customer/999999" }));
  expect(missing.status).toBe(404);
  expect(missing.body["o:errorDetails"][0]["o:errorCode"]).toBe("NONEXISTENT_ID");
  const wrong = new NetsuiteRest({ ...DEMO, token_secret: "not-the-secret" });
  const denied = await refusal(wrong.request({ path: `record/v1/customer/${id}` }));
  expect(denied.status).toBe(401);
  expect(denied.body["o:errorDetails"][0]["o:errorCode"]).toBe("INVALID_LOGIN");
});
