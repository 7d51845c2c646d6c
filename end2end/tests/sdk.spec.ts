import { expect, test } from "@playwright/test";
// Published clients we did not write: Intuit's own OAuth client and the most used community
// QuickBooks client for Node. Our sandbox is only worth what it shares with QuickBooks, so it
// must accept what they send and answer in shapes they read.
import OAuthClient from "intuit-oauth";
import QuickBooks from "node-quickbooks";

// The sandbox `serve --demo` starts, and the demo app's published credentials (README).
const SANDBOX = process.env.SANDBOX_URL ?? "http://127.0.0.1:3901";
const CLIENT_ID = "erp-bridge-demo-client";
const CLIENT_SECRET = "erp-bridge-demo-secret";
// A loopback redirect: the browser's way back is caught by the test, never served.
const REDIRECT = "http://127.0.0.1:9/sdk-callback";

type Qb = Record<string, (...args: unknown[]) => void>;

/// Calls a node-quickbooks method (callback style) and resolves with its answer; a failure
/// rejects with the body QuickBooks answered (node-quickbooks hands over axios' error for a 4xx).
function call<T = any>(qb: Qb, method: string, ...args: unknown[]): Promise<T> {
  return new Promise((resolve, reject) => {
    qb[method](...args, (err: any, body: T) => (err ? reject(err?.response?.data ?? body ?? err) : resolve(body)));
  });
}

test("Intuit's OAuth client and node-quickbooks work against the sandbox as against QuickBooks", async ({ page }) => {
  test.setTimeout(120_000);

  // OAuth, configured the way Intuit's clients are: from the OpenID discovery document.
  const discovery = await (await page.request.get(`${SANDBOX}/.well-known/openid_sandbox_configuration`)).json();
  for (const key of ["authorization_endpoint", "token_endpoint", "revocation_endpoint"]) {
    expect(discovery[key], key).toMatch(new RegExp(`^${SANDBOX}/`));
  }
  const oauth = new OAuthClient({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, environment: "sandbox", redirectUri: REDIRECT });
  oauth.setAuthorizeURLs({
    authorizeEndpoint: discovery.authorization_endpoint,
    tokenEndpoint: discovery.token_endpoint,
    revokeEndpoint: discovery.revocation_endpoint,
    userInfoEndpoint: discovery.token_endpoint,
  });
  const authorizeUri = oauth.authorizeUri({ scope: [OAuthClient.scopes.Accounting], state: "sdk-state" });
  let callback = "";
  await page.route("http://127.0.0.1:9/**", (route) => {
    callback = route.request().url();
    return route.fulfill({ status: 200, body: "back at the app" });
  });
  await page.goto(authorizeUri);
  await page.getByLabel(/Northwind Distribution/).check();
  await page.getByRole("button", { name: "Connect", exact: true }).click();
  await expect.poll(() => callback).toContain("code=");
  expect(callback).toContain("state=sdk-state");
  const realmId = new URL(callback).searchParams.get("realmId") ?? "";
  expect(realmId).not.toBe("");
  const created = await oauth.createToken(callback);
  const token = created.getJson();
  expect(token.token_type).toBe("bearer");
  expect(token.expires_in).toBe(3600);
  expect(token.x_refresh_token_expires_in).toBeGreaterThan(0);
  // A refresh rotates the refresh token, as Intuit's does.
  const refreshed = (await oauth.refresh()).getJson();
  expect(refreshed.access_token).not.toBe(token.access_token);

  // The API, through node-quickbooks pointed at the sandbox instead of Intuit's sandbox host.
  (QuickBooks as any).V3_ENDPOINT_BASE_URL = `${SANDBOX}/v3/company/`;
  const qb = new (QuickBooks as any)(CLIENT_ID, CLIENT_SECRET, refreshed.access_token, false, realmId, true, false, 75, "2.0", refreshed.refresh_token) as Qb;
  const stamp = Date.now();

  // Customers: create, read, sparse update, query with criteria; a duplicate name is Fault 6240.
  const customer = await call(qb, "createCustomer", { DisplayName: `SDK Customer ${stamp}`, PrimaryEmailAddr: { Address: "sdk@example.com" } });
  expect(customer.Id).toBeTruthy();
  expect(customer.SyncToken).toBe("0");
  const read = await call(qb, "getCustomer", customer.Id);
  expect(read.DisplayName).toBe(`SDK Customer ${stamp}`);
  const updated = await call(qb, "updateCustomer", { Id: customer.Id, SyncToken: read.SyncToken, sparse: true, CompanyName: "SDK Co" });
  expect(updated.CompanyName).toBe("SDK Co");
  expect(updated.SyncToken).toBe("1");
  const found = await call(qb, "findCustomers", [{ field: "DisplayName", value: `SDK Customer ${stamp}`, operator: "=" }]);
  expect(found.QueryResponse.Customer).toHaveLength(1);
  const duplicate = await call(qb, "createCustomer", { DisplayName: `SDK Customer ${stamp}` }).catch((e) => e);
  expect(duplicate.Fault.Error[0].code).toBe("6240");

  // An item on the company's income account.
  const accounts = await call(qb, "findAccounts", [{ field: "AccountType", value: "Income", operator: "=" }]);
  const income = accounts.QueryResponse.Account[0];
  const item = await call(qb, "createItem", { Name: `SDK-${stamp}`, Type: "Service", UnitPrice: 12.5, IncomeAccountRef: { value: income.Id } });
  expect(item.Id).toBeTruthy();

  // An invoice, a payment applied to it (deposited to Undeposited Funds by default), the balance.
  const invoice = await call(qb, "createInvoice", {
    CustomerRef: { value: customer.Id },
    Line: [{ DetailType: "SalesItemLineDetail", Amount: 25, SalesItemLineDetail: { ItemRef: { value: item.Id }, Qty: 2, UnitPrice: 12.5 } }],
  });
  expect(invoice.TotalAmt).toBe(25);
  expect(invoice.Balance).toBe(25);
  expect(invoice.DueDate).toBeTruthy();
  expect(invoice.CurrencyRef.value).toBe("USD");
  const payment = await call(qb, "createPayment", {
    CustomerRef: { value: customer.Id },
    TotalAmt: 10,
    Line: [{ Amount: 10, LinkedTxn: [{ TxnId: invoice.Id, TxnType: "Invoice" }] }],
  });
  expect(payment.DepositToAccountRef.value).toBeTruthy();
  const afterPayment = await call(qb, "getInvoice", invoice.Id);
  expect(afterPayment.Balance).toBe(15);

  // A second invoice, voided: it stays, with nothing owed.
  const second = await call(qb, "createInvoice", {
    CustomerRef: { value: customer.Id },
    Line: [{ DetailType: "SalesItemLineDetail", Amount: 12.5, SalesItemLineDetail: { ItemRef: { value: item.Id }, Qty: 1, UnitPrice: 12.5 } }],
  });
  const voided = await call(qb, "voidInvoice", second.Id);
  expect(voided.Invoice?.TotalAmt ?? voided.TotalAmt).toBe(0);
  const voidedRead = await call(qb, "getInvoice", second.Id);
  expect(voidedRead.PrivateNote).toMatch(/^Voided/);
  // An invoice with a payment applied cannot be voided.
  const refused = await call(qb, "voidInvoice", invoice.Id).catch((e) => e);
  expect(refused.Fault).toBeTruthy();

  // A payment is voided as Intuit documents it (operation=update&include=void): it stays with
  // nothing applied, and the invoice it paid is open again for what it applied.
  const paid = await call(qb, "getPayment", payment.Id);
  const voidedPayment = await call(qb, "voidPayment", { Id: paid.Id, SyncToken: paid.SyncToken });
  expect(voidedPayment.TotalAmt).toBe(0);
  expect(voidedPayment.PrivateNote).toMatch(/^Voided/);
  expect((await call(qb, "getInvoice", invoice.Id)).Balance).toBe(25);

  // Terms: a company's standard terms, and the DueDate an invoice on terms gets.
  const terms = await call(qb, "findTerms");
  const net15 = terms.QueryResponse.Term.find((t: any) => t.Name === "Net 15");
  expect(net15.DueDays).toBe(15);
  const onTerms = await call(qb, "createInvoice", {
    CustomerRef: { value: customer.Id },
    TxnDate: "2026-03-01",
    SalesTermRef: { value: net15.Id },
    Line: [{ DetailType: "SalesItemLineDetail", Amount: 12.5, SalesItemLineDetail: { ItemRef: { value: item.Id }, Qty: 1, UnitPrice: 12.5 } }],
  });
  expect(onTerms.DueDate).toBe("2026-03-16");
  expect(onTerms.SalesTermRef.value).toBe(net15.Id);

  // Exchange rates into the home currency.
  const rated = await call(qb, "getExchangeRate", { sourcecurrencycode: "EUR", asofdate: "2026-11-01" });
  const rate = rated.ExchangeRate ?? rated;
  expect(rate.SourceCurrencyCode).toBe("EUR");
  expect(rate.TargetCurrencyCode).toBe("USD");
  expect(rate.AsOfDate).toBe("2026-11-01");
  expect(rate.Rate).toBeGreaterThan(0);

  // Addresses come back with ids of their own.
  const addressed = await call(qb, "createCustomer", { DisplayName: `SDK Addressed ${stamp}`, BillAddr: { Line1: "1 Main St", City: "Springfield", CountrySubDivisionCode: "CA", PostalCode: "94000", Country: "US" } });
  expect(addressed.BillAddr.Id).toBeTruthy();
  // Since 2025-10-31 QuickBooks answers countries as ISO 3166 alpha-3 codes.
  expect(addressed.BillAddr.Country).toBe("USA");

  // Batch: one item's fault does not fail the others.
  const batch = await call(qb, "batch", [
    { bId: "1", operation: "create", Customer: { DisplayName: `SDK Batch ${stamp}` } },
    { bId: "2", operation: "create", Customer: { DisplayName: `SDK Customer ${stamp}` } },
    { bId: "3", Query: `select * from Customer where DisplayName = 'SDK Batch ${stamp}'` },
  ]);
  const answers = batch.BatchItemResponse;
  expect(answers.find((a: any) => a.bId === "1").Customer.Id).toBeTruthy();
  expect(answers.find((a: any) => a.bId === "2").Fault.Error[0].code).toBe("6240");
  expect(answers.find((a: any) => a.bId === "3").QueryResponse).toBeTruthy();

  // CDC: what changed since a moment ago, in Intuit's nesting.
  const since = new Date(stamp - 60_000);
  const cdc = await call(qb, "changeDataCapture", ["Customer", "Invoice"], since);
  const responses = cdc.CDCResponse[0].QueryResponse;
  const customers = responses.find((r: any) => r.Customer)?.Customer ?? [];
  expect(customers.map((c: any) => c.Id)).toContain(customer.Id);

  // Preferences: home currency and closing date, where the connector reads them.
  const prefs = await call(qb, "getPreferences");
  expect(prefs.CurrencyPrefs.HomeCurrency.value).toBe("USD");

  // Revocation: the grant ends; the API refuses the token with Intuit's 401.
  await oauth.revoke({ refresh_token: refreshed.refresh_token });
  const after = await call(qb, "getCustomer", customer.Id).catch((e) => e);
  expect(JSON.stringify(after)).toMatch(/401|AuthenticationFailed|3200/);
});
