import { expect, test } from "@playwright/test";
import { LoginPage } from "./fixtures/login-page";
import { shoot } from "./fixtures/shoot";

// The QuickBooks sandbox `serve --demo` starts (scripts/test.sh passes its URL).
const SANDBOX = process.env.SANDBOX_URL ?? "http://127.0.0.1:3901";

test("an admin connects QuickBooks, an order is invoiced and a payment recorded there comes back", async ({ page }) => {
  await new LoginPage(page).signInAs("Admin");
  await page.goto("/integrations");
  const card = page.locator('[data-provider="quickbooks"]');
  await expect(card.getByTestId("status")).toHaveText("Not connected");

  // Intuit's consent page (the sandbox's): pick a company, connect.
  await card.getByTestId("connect").click();
  await expect(page.getByRole("heading", { name: "Connect to QuickBooks" })).toBeVisible();
  await page.getByLabel(/Sandbox Company US 1/).check();
  await page.getByRole("button", { name: "Connect", exact: true }).click();
  await expect(page).toHaveURL(/\/integrations\?connected=quickbooks$/);
  await expect(card.getByTestId("status")).toHaveText("Connected");
  await expect(card.getByTestId("company")).toContainText("Sandbox Company US 1");

  // An order for the third demo customer, invoiced on terms through a manual sync.
  const origin = new URL(page.url()).origin;
  const api = page.request;
  const customers = await (await api.get("/api/v1/customers")).json();
  const products = await (await api.get("/api/v1/products")).json();
  const created = await api.post("/api/v1/orders", {
    headers: { origin },
    data: {
      customer_id: customers.items[2].id,
      shipping_amount: 700,
      items: [{ product_id: products.items[0].id, quantity: 2 }],
    },
  });
  expect(created.status()).toBe(201);
  const order = await created.json();
  const sync = await api.post("/api/integrations/sync/quickbooks", {
    headers: { origin },
    data: { entity_type: "Order", entity_ids: [order.id] },
  });
  expect((await sync.json()).successful).toBe(1);

  // The invoice shows up in QuickBooks; the bookkeeper records part of the payment there.
  const invoice = page.locator("tr", { has: page.locator("td", { hasText: new RegExp(`^${order.order_number}$`) }) });
  await expect(async () => {
    await page.goto(`${SANDBOX}/`);
    await expect(invoice).toHaveCount(1);
  }).toPass({ timeout: 20_000 });
  await invoice.getByLabel("Amount").fill("10.00");
  await invoice.getByRole("button", { name: "Record payment" }).click();

  // Back in erp-bridge, the order shows the payment.
  await expect(async () => {
    await page.goto(`/orders/${order.id}`);
    await expect(page.getByText("PartiallyPaid").first()).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 30_000 });

  // The reconciliation report. A second order invoiced on terms, whose invoice someone then
  // edits in QuickBooks: the report finds the total that differs, and a re-send puts it right.
  const second = await api.post("/api/v1/orders", {
    headers: { origin },
    data: { customer_id: customers.items[2].id, items: [{ product_id: products.items[0].id, quantity: 3 }] },
  });
  const drifted = await second.json();
  await api.post("/api/integrations/sync/quickbooks", { headers: { origin }, data: { entity_type: "Order", entity_ids: [drifted.id] } });
  const realm = "9341453050298471";
  const token = (await (await api.post(`${SANDBOX}/_sandbox/realms/${realm}/token`)).json()).access_token;
  const v3 = `${SANDBOX}/v3/company/${realm}`;
  let doc: any = null;
  await expect(async () => {
    const q = await api.get(`${v3}/query?query=${encodeURIComponent(`select * from Invoice where DocNumber = '${drifted.order_number}'`)}`, { headers: { authorization: `Bearer ${token}` } });
    doc = (await q.json()).QueryResponse.Invoice?.[0];
    expect(doc).toBeTruthy();
  }).toPass({ timeout: 20_000 });
  const line = doc.Line.find((l: any) => l.DetailType === "SalesItemLineDetail");
  line.Amount = 1;
  line.SalesItemLineDetail.Qty = 1;
  line.SalesItemLineDetail.UnitPrice = 1;
  const edit = await api.post(`${v3}/invoice`, {
    headers: { authorization: `Bearer ${token}` },
    data: { Id: doc.Id, SyncToken: doc.SyncToken, sparse: true, Line: [line] },
  });
  expect(edit.status()).toBe(200);

  await page.goto("/integrations");
  await card.getByTestId("reconcile-link").click();
  await expect(page.getByTestId("recon-idle")).toBeVisible();
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  await page.getByRole("button", { name: "Compare with QuickBooks" }).click();
  await expect(page.getByTestId("recon-summary")).toContainText("compared with");
  const differs = page.getByTestId("recon-rows").locator('tr[data-kind="total_differs"]', { hasText: `#${drifted.order_number}` });
  await expect(differs).toContainText("total in the ERP is not the order's");
  await shoot(page, "reconciliation");
  await differs.getByRole("button", { name: "Re-send" }).click();
  await expect(page.getByTestId("recon-done")).toContainText("Queued again");
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId("recon-summary")).toBeVisible({ timeout: 2_000 });
    await expect(page.locator('tr[data-kind="total_differs"]', { hasText: `#${drifted.order_number}` })).toHaveCount(0, { timeout: 1_000 });
  }).toPass({ timeout: 30_000 });

  // Disconnect (confirmed), leaving the demo as it was for the other tests.
  await page.goto("/integrations");
  await card.getByText("Disconnect…").click();
  await card.getByRole("button", { name: "Yes, disconnect" }).click();
  await expect(card.getByTestId("status")).toHaveText("Not connected");
});
