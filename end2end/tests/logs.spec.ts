import { expect, test } from "@playwright/test";
import { LoginPage } from "./fixtures/login-page";

// The sync log viewer: filters are a GET form (with and without JavaScript), the page never
// scrolls sideways, and only IntegrationsView roles reach it.
for (const js of [true, false]) {
  test(`an admin filters the sync log (${js ? "with" : "without"} JavaScript)`, async ({ browser }) => {
    const context = await browser.newContext({ javaScriptEnabled: js });
    const page = await context.newPage();
    await new LoginPage(page).signInAs("Admin");
    await page.goto("/integrations");
    await page.getByTestId("open-logs").click();
    await expect(page).toHaveURL(/\/integrations\/logs$/);
    await expect(page.getByRole("heading", { name: "Sync log" })).toBeVisible();
    const form = page.getByTestId("log-filters");
    await form.getByLabel("Status").selectOption("Failed");
    await form.getByLabel("Direction").selectOption("ToExternal");
    await form.getByRole("button", { name: "Filter" }).click();
    await expect(page).toHaveURL(/status=Failed/);
    await expect(page).toHaveURL(/direction=ToExternal/);
    await expect(form.getByLabel("Status")).toHaveValue("Failed");
    // Either rows, or an empty state that says what to do.
    await expect(page.getByTestId("sync-logs").or(page.getByTestId("logs-empty"))).toBeVisible();
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 900 });
      const [scroll, inner] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
      expect(scroll, `no sideways scroll at ${width} px`).toBeLessThanOrEqual(inner);
      await page.screenshot({ path: test.info().outputPath(`sync-log-${width}-${js ? "js" : "nojs"}.png`), fullPage: true });
    }
    await context.close();
  });
}

test("a sales rep cannot open the sync log", async ({ page }) => {
  await new LoginPage(page).signInAs("SalesRep");
  await page.goto("/integrations/logs");
  await expect(page.getByRole("alert")).toContainText("You do not have permission");
});
