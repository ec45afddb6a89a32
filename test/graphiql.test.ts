import { existsSync } from "node:fs";
import { chromium } from "playwright-core";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPERATOR, startTestStack } from "./harness.js";
import type { TestStack } from "./harness.js";

/**
 * GraphiQL on the local stack works offline: the page and every asset come from the stack itself
 * (the installed packages), and a real browser with every non-loopback request blocked loads it,
 * sets the Authorization header and runs the default `viewer` query.
 */
const CHROMIUM = "/usr/bin/chromium";
// As the machine's notes require for headless Chromium here: no background traffic, no sandbox (root).
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-quic",
  "--no-first-run",
  "--disable-component-update",
  "--disable-sync",
];
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

let t: TestStack;
beforeAll(async () => {
  t = await startTestStack();
});
afterAll(async () => {
  await t?.stop();
});

const page = () => fetch(`${t.url}/graphql`, { headers: { accept: "text/html" } });

describe("GraphiQL page", () => {
  it("is served to a browser, with no asset from another origin (no CDN)", async () => {
    const res = await page();
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain("YogaGraphiQL.renderYogaGraphiQL");
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(sources.length).toBeGreaterThanOrEqual(3);
    for (const s of sources) expect(s, s).toMatch(/^\/graphiql\//);
    expect(html).not.toMatch(/unpkg|jsdelivr|cdn\./i);
  });

  it("serves its script, style and editor workers from the installed packages", async () => {
    for (const [path, type] of [
      ["graphiql.js", /javascript/],
      ["graphiql.css", /css/],
      ["editor.worker.js", /javascript/],
      ["json.worker.js", /javascript/],
      ["graphql.worker.js", /javascript/],
      ["favicon.ico", /icon/],
    ] as const) {
      const res = await fetch(`${t.url}/graphiql/${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type"), path).toMatch(type);
      expect((await res.arrayBuffer()).byteLength, path).toBeGreaterThan(1000);
    }
    expect((await fetch(`${t.url}/graphiql/../package.json`)).status).not.toBe(200);
    expect((await fetch(`${t.url}/graphiql/nothing.js`)).status).toBe(404);
  });

  it("opens on default documents (viewer, an account page) with the note on the Authorization header and the one-hour tokens", async () => {
    const html = await (await page()).text();
    expect(html).toContain("query Viewer");
    expect(html).toContain("query AccountPage");
    expect(html).toContain(`curl -s -X POST ${t.url}/dev/token`);
    expect(html).toMatch(/Authorization/);
    expect(html).toMatch(/last one hour/);
  });
});

describe("GraphiQL in headless Chromium, offline", () => {
  let browser: Browser;
  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium; .ci/run does)`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("loads, takes the Authorization header, runs viewer and shows the result; no request leaves loopback", async () => {
    const token = await t.token(OPERATOR);
    const context = await browser.newContext();
    const requests: string[] = [];
    const blocked: string[] = [];
    // Every request of the page and its workers: loopback goes through, anything else is refused and noted.
    await context.route("**/*", (route) => {
      const url = route.request().url();
      requests.push(url);
      if (LOOPBACK.has(new URL(url).hostname)) return route.continue();
      blocked.push(url);
      return route.abort("blockedbyclient");
    });
    try {
      const tab = await context.newPage();
      await tab.goto(`${t.url}/graphql`);
      await tab.getByRole("button", { name: "Headers" }).click();
      const headers = tab.locator(".graphiql-editor-tool .monaco-editor").locator("visible=true");
      await headers.click();
      await tab.keyboard.press("Control+A");
      await tab.keyboard.insertText(JSON.stringify({ Authorization: `Bearer ${token}` }));
      await tab.locator(".graphiql-execute-button").click();
      const response = tab.locator(".graphiql-response");
      await response.getByText(`"email": "${OPERATOR}"`).first().waitFor({ timeout: 20_000 });
      // The result as the response pane shows it (the editor renders spaces as no-break spaces).
      const shown = JSON.parse((await response.innerText()).replace(/\u00a0/g, " ")) as unknown;
      expect(shown).toEqual({
        data: {
          viewer: {
            email: OPERATOR,
            emailVerified: true,
            memberships: [{ role: "OWNER", account: { id: expect.any(String), name: "Platform", kind: "PLATFORM" } }],
          },
        },
      });
      // The page, its assets and the GraphQL calls (introspection, the query) all went to the stack.
      expect(requests.some((u) => u.endsWith("/graphiql/graphiql.js"))).toBe(true);
      expect(requests.filter((u) => u.startsWith(`${t.url}/graphql`)).length).toBeGreaterThanOrEqual(2);
      expect(blocked).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);
});
