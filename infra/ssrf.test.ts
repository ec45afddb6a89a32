import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { LookupAddress } from "node:dns";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PRODUCTION_POLICY, addressRefusal, urlRefusal } from "./ssrf.js";
import { createWebhookSender } from "./webhook-http.js";
import type { Resolver } from "./webhook-http.js";

/**
 * The SSRF guard of webhook deliveries: in production only https to public unicast
 * addresses; IPv4-mapped IPv6 is judged as the IPv4 address it carries; host names are checked on
 * every address they resolve to, and the connection goes to the checked address (DNS rebinding).
 */
describe("SSRF guard, production policy", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.8.9.10", "loopback"],
    ["::1", "loopback"],
    ["10.0.0.1", "private"],
    ["172.16.5.4", "private"],
    ["192.168.1.1", "private"],
    ["169.254.169.254", "linkLocal"],
    ["fe80::1", "linkLocal"],
    ["fd00:ec2::254", "uniqueLocal"],
    ["100.100.100.200", "carrierGradeNat"],
    ["0.0.0.0", "unspecified"],
    ["::", "unspecified"],
    ["224.0.0.1", "multicast"],
    ["255.255.255.255", "broadcast"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:169.254.169.254", "linkLocal"],
    ["::ffff:10.1.2.3", "private"],
    ["[::ffff:7f00:1]", "loopback"],
    ["64:ff9b::a00:1", "rfc6052"],
  ])("refuses %s (%s)", (address, range) => {
    expect(addressRefusal(address, PRODUCTION_POLICY)).toMatch(new RegExp(`is an? ${range} address$`));
  });

  // IPv4-compatible IPv6 (::a.b.c.d, deprecated) and other IPv6 outside global unicast 2000::/3,
  // which ipaddr.js calls "unicast": URL parsing writes [::169.254.169.254] as [::a9fe:a9fe].
  it.each([
    "::169.254.169.254",
    "[::a9fe:a9fe]",
    "::127.0.0.1",
    "::7f00:1",
    "::10.0.0.1",
    "::a00:1",
    "4000::1",
    "1234:5678::9",
  ])("refuses %s, outside IPv6 global unicast", (address) => {
    // (The dotted forms are judged as the IPv4 address they carry, the hex forms as IPv6.)
    expect(addressRefusal(address, PRODUCTION_POLICY)).toMatch(/is (not a global|an? \w+) address$/);
    expect(
      urlRefusal(`https://[${address.replace(/^\[|\]$/g, "")}]/latest/meta-data/`, PRODUCTION_POLICY),
    ).toBeDefined();
  });

  it.each(["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"])(
    "allows the public address %s",
    (address) => {
      expect(addressRefusal(address, PRODUCTION_POLICY)).toBeUndefined();
    },
  );

  it("loopback only when the policy allows it (the local stack); private ranges never", () => {
    const local = { allowHttp: true, allowLoopback: true };
    expect(addressRefusal("127.0.0.1", local)).toBeUndefined();
    expect(addressRefusal("::ffff:127.0.0.1", local)).toBeUndefined();
    expect(addressRefusal("10.0.0.1", local)).toMatch(/private/);
    expect(addressRefusal("169.254.169.254", local)).toMatch(/linkLocal/);
  });

  it.each([
    ["http://example.com/hook", "must be an https URL"],
    ["ftp://example.com/hook", "must be an https URL"],
    ["https://user:pw@example.com/hook", "must not contain credentials"],
    ["https://localhost/hook", "must not point to this machine"],
    ["https://api.localhost/hook", "must not point to this machine"],
    ["https://127.0.0.1/hook", "127.0.0.1 is a loopback address"],
    ["https://[::ffff:169.254.169.254]/latest/meta-data", "169.254.169.254 is a linkLocal address"],
    ["https://[fd00:ec2::254]/", "fd00:ec2::254 is a uniqueLocal address"],
    ["https://0x7f000001/", "127.0.0.1 is a loopback address"],
    ["not a url", "must be an absolute URL"],
  ])("refuses the URL %s", (url, reason) => {
    expect(urlRefusal(url, PRODUCTION_POLICY)).toBe(reason);
  });

  it("accepts an https URL with a host name (its addresses are checked when connecting)", () => {
    expect(urlRefusal("https://hooks.example.com/in?x=1", PRODUCTION_POLICY)).toBeUndefined();
  });
});

describe("SSRF guard at delivery time: resolve, check every address, connect to the checked one", () => {
  let port = 0;
  let received = 0;
  const server = createServer((req, res) => {
    received += 1;
    req.resume();
    res.end("ok");
  });
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  /** A resolver with fixed answers: a public-looking name that resolves to loopback is what rebinding looks like. */
  const resolver =
    (answers: Record<string, LookupAddress[]>): Resolver =>
    (hostname, _family, callback) =>
      answers[hostname]
        ? callback(null, answers[hostname])
        : callback(Object.assign(new Error("not found"), { code: "ENOTFOUND" }), []);
  const answers = {
    "rebind.example": [{ address: "127.0.0.1", family: 4 }],
    "mixed.example": [
      { address: "93.184.216.34", family: 4 },
      { address: "10.0.0.7", family: 4 },
    ],
  };

  it("a name resolving to loopback is refused in production mode, and nothing reaches the address", async () => {
    const sender = createWebhookSender({ allowHttp: true, allowLoopback: false }, { resolve: resolver(answers) });
    const before = received;
    const r = await sender.post(`http://rebind.example:${port}/hook`, {}, "{}", 2000);
    expect(r).toMatchObject({ refused: true });
    expect(r.error).toMatch(
      /refused: rebind\.example resolves to a refused address: 127\.0\.0\.1 is a loopback address/,
    );
    expect(received).toBe(before);
  });

  it("a name with one private address among public ones is refused", async () => {
    const sender = createWebhookSender({ allowHttp: true, allowLoopback: false }, { resolve: resolver(answers) });
    const r = await sender.post(`http://mixed.example:${port}/hook`, {}, "{}", 2000);
    expect(r.refused).toBe(true);
    expect(r.error).toMatch(/10\.0\.0\.7 is a private address/);
  });

  it("positive control: allowed, the same name connects to the address the resolver answered", async () => {
    const sender = createWebhookSender({ allowHttp: true, allowLoopback: true }, { resolve: resolver(answers) });
    const before = received;
    const r = await sender.post(`http://rebind.example:${port}/hook`, {}, "{}", 2000);
    expect(r).toMatchObject({ statusCode: 200, body: "ok" });
    expect(received).toBe(before + 1);
  });

  it("an IP literal is checked without a lookup", async () => {
    const sender = createWebhookSender({ allowHttp: true, allowLoopback: false });
    const r = await sender.post(`http://127.0.0.1:${port}/hook`, {}, "{}", 2000);
    expect(r).toMatchObject({ refused: true, error: "refused: 127.0.0.1 is a loopback address" });
  });
});
