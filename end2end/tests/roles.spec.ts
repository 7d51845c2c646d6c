import { expect, test } from "@playwright/test";
import { LoginPage, navLinks, RoleName } from "./fixtures/login-page";

const EXPECTED_NAV: Record<RoleName, string[]> = {
  Admin: ["Home", "Orders", "Customers", "Integrations", "Users", "API tokens"],
  SalesManager: ["Home", "Orders", "Customers", "Integrations"],
  SalesRep: ["Home", "Orders", "Customers"],
  Customer: ["Home", "Orders"],
};

for (const role of Object.keys(EXPECTED_NAV) as RoleName[]) {
  test(`${role} signs in and sees only the navigation the role may use`, async ({ page }) => {
    await new LoginPage(page).signInAs(role);
    expect(await navLinks(page)).toEqual(EXPECTED_NAV[role]);
  });
}

test("the page hydrates: an admin creates an API token without a page load", async ({ page }) => {
  await new LoginPage(page).signInAs("Admin");
  await page.goto("/admin/api-tokens");
  // The wasm marks the body once it has taken over the page.
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  let navigations = 0;
  page.on("framenavigated", () => (navigations += 1));
  await page.getByLabel("Name").fill("e2e script");
  await page.getByRole("button", { name: "Create token" }).click();
  await expect(page.getByTestId("new-token").first()).toContainText("ebt_");
  await expect(page.getByTestId("api-tokens")).toContainText("e2e script");
  expect(navigations).toBe(0);
});

test("a sales rep is refused the integrations dashboard", async ({ page }) => {
  await new LoginPage(page).signInAs("SalesRep");
  const res = await page.goto("/integrations");
  expect(res?.status()).toBe(403);
  await expect(page.getByRole("alert")).toContainText("You do not have permission");
});

test("a wrong password shows a message", async ({ page }) => {
  const login = new LoginPage(page);
  await login.goto();
  await login.signIn("admin@demo.example", "wrong-password");
  await expect(page.getByRole("alert")).toContainText("The email or password is not right.");
});

test("a customer sees only its own orders, with their sync badges", async ({ page }) => {
  await new LoginPage(page).signInAs("Customer");
  await page.goto("/orders");
  const rows = page.getByTestId("orders").locator("tbody tr");
  await expect(rows).toHaveCount(2);
  for (const text of await rows.allTextContents()) {
    expect(text).toContain("Acme Supplies");
    expect(text).toContain("No ERP connected");
  }
});

test("a sales rep opens an order and sees its items and totals", async ({ page }) => {
  await new LoginPage(page).signInAs("SalesRep");
  await page.goto("/orders");
  await page.getByTestId("orders").getByRole("link").first().click();
  await expect(page.getByRole("heading", { name: /Order #\d+/ })).toBeVisible();
  await expect(page.getByTestId("order-items").locator("tbody tr").first()).toContainText("USD");
});
