import { expect, test } from "@playwright/test";
import { LoginPage, navLinks } from "./fixtures/login-page";

test("without JavaScript: sign in, create a user with a plain form post, see it listed", async ({ page }) => {
  await new LoginPage(page).signInAs("Admin");
  expect(await navLinks(page)).toContain("Users");
  await page.goto("/admin/users");
  const email = `nojs-${Date.now()}@demo.example`;
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Name", { exact: true }).fill("No JS");
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
