import { expect, test } from "@playwright/test";
import { LoginPage, navLinks } from "./fixtures/login-page";

test("without JavaScript: sign in, create a user with a plain form post, see it listed", async ({ page }) => {
  await new LoginPage(page).signInAs("Admin");
  expect(await navLinks(page)).toContain("Users");
  await page.goto("/admin/users");
  const email = `nojs-${Date.now()}@demo.example`;
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Name", { exact: true }).fill("No JS");
  // The role picker starts at the least privilege (Customer); pick a staff role.
  await page.getByTestId("add-user").locator('select[name="role"]').selectOption("SalesRep");
  await page.getByLabel("Initial password (12+ characters)").fill("a-long-password-1");
  await page.getByRole("button", { name: "Add user" }).click();
  await expect(page.getByTestId("users")).toContainText(email);
});

test("without JavaScript: an API token created by form post is shown once", async ({ page }) => {
  await new LoginPage(page).signInAs("Admin");
  await page.goto("/admin/api-tokens");
  await page.getByLabel("Name").fill("nojs token");
  await page.getByRole("button", { name: "Create token" }).click();
  await expect(page.getByTestId("new-token")).toContainText("ebt_");
  await page.reload();
  await expect(page.getByTestId("new-token")).toHaveCount(0);
  await expect(page.getByTestId("api-tokens")).toContainText("nojs token");
});

test("without JavaScript: sign out", async ({ page }) => {
  await new LoginPage(page).signInAs("SalesManager");
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByText("You have signed out.")).toBeVisible();
});

test("without JavaScript: a sales manager places an order and records payments with plain form posts", async ({ page }) => {
  await new LoginPage(page).signInAs("SalesManager");
  await page.goto("/customers");
  const name = `NoJS Buyer ${Date.now()}`;
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByRole("button", { name: "Add customer" }).click();
  await expect(page.getByTestId("created")).toHaveText("Customer created.");
  await page.getByTestId("new-order").click();
  await page.getByLabel("Product, line 1").selectOption({ index: 1 });
  await page.getByLabel("Quantity, line 1").fill("3");
  await page.getByLabel(/^Shipping/).fill("abc");
  await page.getByRole("button", { name: "Place order" }).click();
  // The refusal comes back to the form, naming the field.
  await expect(page.getByTestId("form-error")).toContainText("Shipping");
  await page.getByLabel("Product, line 1").selectOption({ index: 1 });
  await page.getByLabel(/^Shipping/).fill("2");
  await page.getByRole("button", { name: "Place order" }).click();
  await expect(page.getByTestId("created")).toHaveText("Order created.");
  await page.getByLabel(/^Amount/).fill("1.00");
  await page.getByRole("button", { name: "Record payment" }).click();
  await expect(page.getByTestId("done")).toHaveText("Payment recorded.");
  await expect(page.getByTestId("payment-status")).toHaveText("PartiallyPaid");
  await page.getByTestId("mark-paid").click();
  await expect(page.getByTestId("done")).toHaveText("Order marked paid.");
  await expect(page.getByTestId("payment-status")).toHaveText("Paid");
  await expect(page.getByTestId("payments").locator("tbody tr")).toHaveCount(2);
});

test("without JavaScript: an Admin connects NetSuite with a plain form post, then disconnects", async ({ page }) => {
  await new LoginPage(page).signInAs("Admin");
  await page.goto("/integrations/netsuite/connect");
  await page.getByTestId("ns-account").fill("1234567_SB1");
  await page.getByTestId("ns-tba").check();
  await page.getByTestId("ns-consumer-key").fill("erp-bridge-demo-consumer-key");
  await page.getByTestId("ns-consumer-secret").fill("erp-bridge-demo-consumer-secret");
  await page.getByTestId("ns-token-id").fill("erp-bridge-demo-token-id");
  await page.getByTestId("ns-token-secret").fill("erp-bridge-demo-token-secret");
  await page.getByTestId("ns-connect").click();
  await expect(page).toHaveURL(/\/integrations\?done=netsuite-connected/);
  await expect(page.getByText("NetSuite connected: the credentials were tried and work.")).toBeVisible();
  const card = page.locator('article[data-provider="netsuite"]');
  await expect(card.getByTestId("status")).toHaveText("Connected");
  await page.setViewportSize({ width: 390, height: 900 });
  await page.screenshot({ path: test.info().outputPath("netsuite-nojs-390.png"), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });
  await card.getByText("Disconnect…").click();
  await card.getByRole("button", { name: "Yes, disconnect" }).click();
  await expect(card.getByTestId("status")).toHaveText("Not connected");
});
