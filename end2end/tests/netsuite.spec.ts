import { expect, test } from "@playwright/test";
import { LoginPage } from "./fixtures/login-page";

const SANDBOX = process.env.NETSUITE_SANDBOX_URL ?? "http://127.0.0.1:3902";
// The demo account's published TBA token (README: NetSuite sandbox).
const TBA = {
  consumerKey: "erp-bridge-demo-consumer-key",
  consumerSecret: "erp-bridge-demo-consumer-secret",
  tokenId: "erp-bridge-demo-token-id",
  tokenSecret: "erp-bridge-demo-token-secret",
};

test("an Admin connects NetSuite, sends an order, and sees NetSuite's payment come back", async ({ page }) => {
  test.setTimeout(120_000);
  await new LoginPage(page).signInAs("Admin");
  await page.goto("/integrations");
  const card = page.locator('article[data-provider="netsuite"]');
  await expect(card.getByTestId("status")).toHaveText("Not connected");
  await card.getByTestId("connect").click();
  await expect(page).toHaveURL(/\/integrations\/netsuite\/connect$/);
  await expect(page.getByRole("heading", { name: "Connect NetSuite" })).toBeVisible();

  // A wrong secret: NetSuite's generic refusal, explained; nothing stored.
  await page.getByTestId("ns-account").fill("1234567_SB1");
  await page.getByTestId("ns-tba").check();
  await page.getByTestId("ns-consumer-key").fill(TBA.consumerKey);
  await page.getByTestId("ns-consumer-secret").fill(TBA.consumerSecret);
  await page.getByTestId("ns-token-id").fill(TBA.tokenId);
  await page.getByTestId("ns-token-secret").fill("not-the-secret");
  await page.getByTestId("ns-connect").click();
  await expect(page.getByText(/Login Audit Trail/)).toBeVisible();

  // The right one connects and says what the account turned out to be.
  await page.getByTestId("ns-token-secret").fill(TBA.tokenSecret);
  await page.getByTestId("ns-connect").click();
  const done = page.getByTestId("ns-connected");
  await expect(done).toContainText("Connected to NetSuite account 1234567_SB1");
  await expect(done).toContainText("Home currency: USD");
  await expect(page.locator("body")).not.toContainText(TBA.tokenSecret);
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: test.info().outputPath(`netsuite-connect-${width}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });

  await page.goto("/integrations");
  await expect(card.getByTestId("status")).toHaveText("Connected");
  await card.getByTestId("ns-check").click();
  await expect(card.getByTestId("ns-check-result")).toContainText("1234567_SB1 is connected");
  await page.screenshot({ path: test.info().outputPath("netsuite-card-1280.png"), fullPage: true });

  // A new customer's order, sent with "Sync now", becomes a sales order on the sandbox's page.
  await page.goto("/customers");
  const buyer = `NetSuite Buyer ${Date.now()}`;
  await page.getByLabel("Name", { exact: true }).fill(buyer);
  await page.getByRole("button", { name: "Add customer" }).click();
  await expect(page.getByTestId("created")).toHaveText("Customer created.");
  await page.getByTestId("new-order").click();
  await page.getByLabel("Product, line 1").selectOption({ index: 1 });
  await page.getByLabel("Quantity, line 1").fill("2");
  await page.getByLabel(/^Shipping/).fill("5.00");
  await page.getByRole("button", { name: "Place order" }).click();
  await expect(page.getByTestId("created")).toHaveText("Order created.");
  const orderUrl = page.url().replace(/\?created=1$/, "");
  const orderId = orderUrl.split("/").pop();
  await expect(page.getByTestId("payment-status")).toHaveText("Unpaid");
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  await page.getByRole("button", { name: "Sync now to NetSuite" }).click();
  await expect(page.getByText("Queued for delivery")).toBeVisible();
  const salesOrder = page.locator("tr", { hasText: `erpb-order-${orderId}` });
  await expect(async () => {
    await page.goto(`${SANDBOX}/`);
    await expect(salesOrder).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 30_000 });
  await expect(salesOrder).toContainText(buyer);

  // The accountant bills it and records the customer's payment in NetSuite (the sandbox's page).
  await salesOrder.getByRole("button", { name: "Bill" }).click();
  await expect(salesOrder).toContainText("Billed");
  const invoice = page.locator("tr", { hasText: /Sales Order #/ }).filter({ has: page.getByRole("button", { name: "Record payment" }) }).last();
  await invoice.getByRole("button", { name: "Record payment" }).click();
  await expect(page.locator("tr", { hasText: "Paid In Full" }).first()).toBeVisible();
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: test.info().outputPath(`netsuite-sandbox-billing-${width}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });

  // Asked for NetSuite's changes now, erp-bridge records the payment on the order.
  await page.goto("/integrations");
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  await card.getByTestId("ns-pull").click();
  await expect(card.getByTestId("ns-pull-result")).toContainText("new change");
  await expect(async () => {
    await page.goto(orderUrl);
    await expect(page.getByTestId("payment-status")).toHaveText("Paid", { timeout: 1_000 });
  }).toPass({ timeout: 30_000 });

  // Leave the demo as the other specs expect it: disconnected.
  await page.goto("/integrations");
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  await card.getByText("Disconnect…").click();
  await card.getByRole("button", { name: "Yes, disconnect" }).click();
  await expect(card.getByTestId("status")).toHaveText("Not connected");

  // The sandbox's own page: its login audit trail says why the wrong secret was refused.
  await page.goto(`${SANDBOX}/`);
  await expect(page.getByRole("heading", { name: "Login audit trail" })).toBeVisible();
  await expect(page.getByRole("cell", { name: "InvalidSignature" }).first()).toBeVisible();
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: test.info().outputPath(`netsuite-sandbox-${width}.png`), fullPage: true });
  }
});

test("a OneWorld account offers its subsidiaries to choose from", async ({ page }) => {
  // The sandbox's OneWorld account, with a TBA token registered for this test.
  const registered = await page.request.post(`${SANDBOX}/_sandbox/accounts/7654321_SB2/tba`, {
    data: { consumer_key: "ow-ck", consumer_secret: "ow-cs", token_id: "ow-tid", token_secret: "ow-ts" },
  });
  expect(registered.status()).toBe(204);
  await new LoginPage(page).signInAs("Admin");
  await page.goto("/integrations/netsuite/connect");
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  await page.getByTestId("ns-account").fill("7654321_SB2");
  await page.getByTestId("ns-tba").check();
  await page.getByTestId("ns-consumer-key").fill("ow-ck");
  await page.getByTestId("ns-consumer-secret").fill("ow-cs");
  await page.getByTestId("ns-token-id").fill("ow-tid");
  await page.getByTestId("ns-token-secret").fill("ow-ts");
  await page.getByTestId("ns-connect").click();

  // NetSuite named its subsidiaries: the form offers them; nothing is connected yet.
  await expect(page.getByTestId("ns-choose")).toBeVisible();
  const choice = page.getByTestId("ns-subsidiary-choice");
  await expect(choice.locator("option")).toHaveText(["Parent Company — 1", "UK Subsidiary — 2"]);
  await choice.selectOption("2");
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: test.info().outputPath(`netsuite-subsidiary-${width}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.getByTestId("ns-connect").click();
  const done = page.getByTestId("ns-connected");
  await expect(done).toContainText("Connected to NetSuite account 7654321_SB2");
  await expect(done).toContainText("Subsidiary: 2");
  await expect(done).toContainText("Home currency: GBP");

  // Leave the demo disconnected, as the other specs expect.
  await page.goto("/integrations");
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  const card = page.locator('article[data-provider="netsuite"]');
  await card.getByText("Disconnect…").click();
  await card.getByRole("button", { name: "Yes, disconnect" }).click();
  await expect(card.getByTestId("status")).toHaveText("Not connected");
});
