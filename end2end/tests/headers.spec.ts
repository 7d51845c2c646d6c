import { expect, test } from "@playwright/test";
import { LoginPage } from "./fixtures/login-page";

// The Content-Security-Policy must let every page hydrate and refuse nothing of our own: any
// violation the browser reports on the way through the app fails the test.
test("no page breaks its Content-Security-Policy", async ({ page }) => {
  const violations: string[] = [];
  page.on("console", (msg) => {
    if (msg.text().includes("Content Security Policy")) violations.push(msg.text());
  });
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) =>
      console.error(`Content Security Policy violation: ${e.violatedDirective} ${e.blockedURI}`),
    );
  });
  await new LoginPage(page).signInAs("Admin");
  for (const path of ["/", "/orders", "/customers", "/integrations", "/admin/users", "/admin/api-tokens"]) {
    const res = await page.goto(path);
    expect(res?.headers()["content-security-policy"]).toContain("'nonce-");
    await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  }
  expect(violations).toEqual([]);
});
