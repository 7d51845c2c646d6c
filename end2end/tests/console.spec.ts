import { expect, Page, test } from "@playwright/test";
import { LoginPage } from "./fixtures/login-page";
import { shoot } from "./fixtures/shoot";

// The integrations console, driven only through the browser (the README's demo walkthrough):
// records made before QuickBooks is connected, connecting, a backfill run watched to 100 %, an
// order marked paid and watched until it is synced, the log entry behind it, a broken sandbox
// explained, retried and dismissed, and a setting whose effect shows in what the sandbox holds.
// It leaves QuickBooks disconnected, as the other specs expect.
const SANDBOX = process.env.SANDBOX_URL ?? "http://127.0.0.1:3901";

async function newCustomer(page: Page, name: string): Promise<string> {
  await page.goto("/customers");
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByRole("button", { name: "Add customer" }).click();
  await expect(page.getByTestId("created")).toHaveText("Customer created.");
  await expect(page.getByRole("heading", { name })).toBeVisible();
  return page.url().replace(/\?created=1$/, "");
}

async function newOrder(page: Page, customerUrl: string): Promise<string> {
  await page.goto(customerUrl);
  await page.getByTestId("new-order").click();
  await expect(page.getByRole("heading", { name: "New order" })).toBeVisible();
  await page.getByLabel("Product, line 1").selectOption({ index: 1 });
  await page.getByLabel("Quantity, line 1").fill("2");
  await page.getByLabel(/^Shipping/).fill("5.00");
  await page.getByRole("button", { name: "Place order" }).click();
  await expect(page.getByTestId("created")).toHaveText("Order created.");
  return page.url().replace(/\?created=1$/, "");
}

/** Reloads `url` until the QuickBooks badge reads `state`. */
async function badgeBecomes(page: Page, url: string, state: string) {
  const badge = page.locator('.sync-badge[data-provider="quickbooks"]').first();
  await expect(async () => {
    await page.goto(url);
    await expect(badge).toHaveAttribute("data-state", state, { timeout: 1_000 });
  }).toPass({ timeout: 30_000 });
  // The steps after it click as a JavaScript user would: wait for the page to come alive.
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
}

async function faults(page: Page, body: object) {
  const res = await page.request.post(`${SANDBOX}/_sandbox/faults`, { data: body });
  expect(res.status()).toBe(204);
}

test("an admin runs the whole demo in the browser", async ({ page }) => {
  test.setTimeout(180_000);
  await new LoginPage(page).signInAs("Admin");
  const stamp = Date.now();

  // Before any ERP is connected: a customer and an order, made with the staff forms.
  const early = await newCustomer(page, `Early Bird ${stamp}`);
  await shoot(page, "customer");
  const earlyOrder = await newOrder(page, early);
  await expect(page.getByText("No ERP connected")).toBeVisible();
  await shoot(page, "order");

  // Connect QuickBooks through Intuit's (the sandbox's) consent page.
  await page.goto("/integrations");
  const card = page.locator('[data-provider="quickbooks"]');
  await card.getByTestId("connect").click();
  await page.getByLabel(/Sandbox Company US 1/).check();
  await page.getByRole("button", { name: "Connect", exact: true }).click();
  await expect(card.getByTestId("status")).toHaveText("Connected");
  await shoot(page, "integrations");

  // Backfill: what was made before the connection goes out; the run page follows it to 100 %
  // by itself (no reload).
  // "Sync records…" opens a modal: keyboard focus moves into it and Escape closes it.
  const dialog = card.getByTestId("sync-dialog");
  await card.getByTestId("sync-link").click();
  await expect(dialog).toBeVisible();
  expect(await dialog.evaluate((d) => d.contains(document.activeElement))).toBe(true);
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  await card.getByTestId("sync-link").click();
  await expect(dialog).toBeVisible();
  await shoot(page, "sync-dialog");
  await dialog.getByTestId("start-sync").click();
  await expect(page).toHaveURL(/\/integrations\/sync-runs\/[0-9a-f-]+$/);
  await expect(page.getByTestId("run-percent")).toHaveText("100 %", { timeout: 60_000 });
  await expect(page.getByTestId("run-progress")).toHaveAttribute("data-complete", "true");
  await expect(page.getByTestId("run-failed")).toHaveText("0");
  await shoot(page, "sync-run");
  await badgeBecomes(page, earlyOrder, "Synced");
  // The ERP id links to its mapping.
  await page.getByTestId("erp-id").click();
  await expect(page.getByTestId("mappings").locator("tbody tr")).toHaveCount(1);
  await expect(page.getByTestId("mappings")).toContainText(earlyOrder.split("/").pop() ?? "");

  // The mapping viewer finds the early customer by our id.
  const earlyId = early.split("/").pop() ?? "";
  await page.goto("/integrations");
  await card.getByTestId("mappings-link").click();
  const filters = page.getByTestId("mapping-filters");
  await filters.getByLabel("Our id or the ERP's").fill(earlyId);
  await filters.getByRole("button", { name: "Search" }).click();
  await expect(page.getByTestId("mappings").locator("tbody tr")).toHaveCount(1);
  await expect(page.getByTestId("mappings")).toContainText(earlyId);
  await shoot(page, "mappings");

  // A new order: not sent while unpaid, then marked paid and invoiced.
  const order = await newOrder(page, early);
  await badgeBecomes(page, order, "Skipped");
  await expect(page.locator(".sync-badge").first()).toContainText("paid in full");
  await page.getByTestId("mark-paid").click();
  await expect(page.getByTestId("payment-done")).toHaveText("Order marked paid.");
  await expect(page.getByTestId("payment-status")).toHaveText("Paid");
  await expect(page.getByTestId("payments")).toContainText("Recorded here");
  await badgeBecomes(page, order, "Synced");

  // The log entry of that delivery.
  const orderId = order.split("/").pop() ?? "";
  await page.goto(`/integrations/logs?q=${orderId}&status=Completed`);
  await page.getByTestId("log-link").first().click();
  await expect(page.getByTestId("log-facts")).toContainText("To the ERP");
  await shoot(page, "log-entry");

  // QuickBooks breaks: two new customers fail; the log says so in plain words.
  await faults(page, { error_rate_5xx: 1.0 });
  const broken = await newCustomer(page, `Broken One ${stamp}`);
  const dropped = await newCustomer(page, `Broken Two ${stamp}`);
  await badgeBecomes(page, broken, "Failed");
  await badgeBecomes(page, dropped, "Failed");
  const failedEntry = async (customerUrl: string) => {
    const id = customerUrl.split("/").pop() ?? "";
    await page.goto(`/integrations/logs?q=${id}&status=Failed`);
    await expect(page.getByTestId("sync-logs")).toContainText("failed on its side");
    await page.getByTestId("log-link").first().click();
    await expect(page.getByTestId("explanation")).toContainText("retried automatically");
  };

  // Dismiss one (with a reason for the audit trail)…
  await failedEntry(dropped);
  await page.getByTestId("dismiss").getByText("Dismiss this delivery…").click();
  await page.getByLabel("Why (kept in the audit trail)").fill("duplicate of another account");
  await page.getByRole("button", { name: "Dismiss", exact: true }).click();
  await expect(page.getByTestId("dismissed")).toBeVisible();
  await expect(page.getByTestId("delivery")).toContainText("Dismissed");
  await badgeBecomes(page, dropped, "Dismissed");
  await page.goto("/integrations");
  await page.getByTestId("open-outbox").click();
  await page.getByRole("navigation", { name: "Status" }).getByRole("link", { name: "Dismissed" }).click();
  await expect(page.getByTestId("outbox")).toContainText("duplicate of another account");
  await shoot(page, "outbox");

  // …and once QuickBooks is back, retry the other.
  await faults(page, {});
  await page.goto("/integrations");
  const resume = card.getByTestId("resume");
  if (await resume.isVisible()) await resume.click();
  await failedEntry(broken);
  await shoot(page, "log-failed");
  await page.getByTestId("retry").click();
  await expect(page.getByTestId("retried")).toBeVisible();
  await badgeBecomes(page, broken, "Synced");

  // Settings: with "Send customers" off, a new customer never reaches QuickBooks.
  await page.goto("/integrations/quickbooks/settings");
  await page.getByLabel(/Send customers/).uncheck();
  await page.getByRole("button", { name: "Save settings" }).click();
  await expect(page.getByTestId("saved")).toBeVisible();
  await expect(page.getByLabel(/Send customers/)).not.toBeChecked();
  await shoot(page, "settings");
  const quiet = `Quiet Customer ${stamp}`;
  const quietUrl = await newCustomer(page, quiet);
  await badgeBecomes(page, quietUrl, "Skipped");
  await expect(page.locator(".sync-badge").first()).toContainText("customer sync is off");
  await page.goto(`${SANDBOX}/`);
  await expect(page.getByText(`Broken One ${stamp}`)).toBeVisible();
  await expect(page.getByText(quiet)).toHaveCount(0);
  await page.goto("/integrations/quickbooks/settings");
  await page.getByLabel(/Send customers/).check();
  await page.getByRole("button", { name: "Save settings" }).click();
  await expect(page.getByTestId("saved")).toBeVisible();

  // Leave the demo as the other specs expect it: disconnected.
  await page.goto("/integrations");
  await card.getByText("Disconnect…").click();
  await card.getByRole("button", { name: "Yes, disconnect" }).click();
  await expect(card.getByTestId("status")).toHaveText("Not connected");
});

test("a sales manager reads the console but cannot change it", async ({ page }) => {
  await new LoginPage(page).signInAs("SalesManager");
  await page.goto("/integrations/quickbooks/settings");
  await expect(page.getByText("Only an Admin can change these settings.")).toBeVisible();
  await expect(page.getByRole("button", { name: "Save settings" })).toHaveCount(0);
  await page.goto("/integrations/quickbooks/sync");
  await expect(page.getByText("Only an Admin can start a sync.")).toBeVisible();
  await expect(page.getByTestId("start-sync")).toHaveCount(0);
  await page.goto("/orders");
  await page.getByTestId("orders").getByRole("link").first().click();
  await expect(page.getByTestId("sync-now")).toHaveCount(0);
});

test("a sales rep places an order but records no payment", async ({ page }) => {
  await new LoginPage(page).signInAs("SalesRep");
  const name = `Rep Buyer ${Date.now()}`;
  await newCustomer(page, name);
  await page.goto("/orders");
  await page.getByTestId("new-order").first().click();
  await expect(page.getByRole("heading", { name: "New order" })).toBeVisible();
  const option = page.getByLabel("Customer").locator("option", { hasText: name });
  await page.getByLabel("Customer").selectOption((await option.getAttribute("value")) ?? "");
  await page.getByLabel("Product, line 1").selectOption({ index: 1 });
  await page.getByLabel(/^Shipping/).fill("1.234");
  await page.getByRole("button", { name: "Place order" }).click();
  // A mistake is shown at the form and what was typed is kept.
  await expect(page.getByTestId("form-error")).toContainText("Shipping");
  await expect(page.getByLabel(/^Shipping/)).toHaveValue("1.234");
  await page.getByLabel(/^Shipping/).fill("1.25");
  await page.getByRole("button", { name: "Place order" }).click();
  await expect(page.getByTestId("created")).toHaveText("Order created.");
  await expect(page.getByTestId("record-payment")).toHaveCount(0);
  await expect(page.getByTestId("totals")).toContainText("USD 1.25");
});

test("a customer sees its own orders' badges and nothing of the console", async ({ page }) => {
  await new LoginPage(page).signInAs("Customer");
  await page.goto("/orders");
  await page.getByTestId("orders").getByRole("link").first().click();
  await expect(page.locator(".sync-badge, .badge").first()).toBeVisible();
  // No staff action and no ERP detail on its own order.
  for (const id of ["mark-paid", "record-payment", "sync-now", "erp-id"]) {
    await expect(page.getByTestId(id)).toHaveCount(0);
  }
  await expect(page.getByRole("button", { name: "Retry" })).toHaveCount(0);
  await shoot(page, "customer-order");
  // Every console page, and the staff pages, refuse it.
  for (const path of ["/integrations", "/integrations/logs", "/integrations/outbox", "/integrations/quickbooks/mappings", "/customers"]) {
    const res = await page.goto(path);
    expect(res?.status(), path).toBe(403);
    await expect(page.getByRole("alert")).toContainText("You do not have permission");
  }
  // (The server functions' refusals, called directly, are in the RBAC table test: tests/api/rbac.rs.)
});
