import ipaddr from "ipaddr.js";

/**
 * Where webhook deliveries may go (SSRF guard). Production: https only, and only to public
 * unicast addresses. The local stack allows loopback and plain http, so a receiver can run on the
 * same machine; never private, link-local or metadata addresses.
 */
export interface NetworkPolicy {
  /** Plain http:// URLs (local stack only). */
  readonly allowHttp: boolean;
  /** 127.0.0.0/8 and ::1 (local stack only). */
  readonly allowLoopback: boolean;
}

/** What a deployed stage allows: nothing but https to public addresses. */
export const PRODUCTION_POLICY: NetworkPolicy = { allowHttp: false, allowLoopback: false };

/** Why an address or URL is refused; undefined when it may be used. */
export type Refusal = string | undefined;

/** IPv6 global unicast (RFC 4291 §2.4: 2000::/3); every public IPv6 address is in it. */
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR("2000::/3");

/**
 * Whether a delivery may connect to `address` (an IP literal). Only ipaddr.js's `unicast` range is
 * public: private (RFC 1918), loopback, link-local (169.254.0.0/16, the cloud metadata endpoint),
 * unique-local (fc00::/7, AWS's IPv6 metadata endpoint fd00:ec2::254), carrier-grade NAT (other
 * clouds' metadata), unspecified, broadcast, multicast, reserved and the translation prefixes
 * (6to4, Teredo, NAT64) are all something else. IPv4-mapped IPv6 (::ffff:10.0.0.1) is judged as the
 * IPv4 address it carries; any other IPv6 address must be global unicast (2000::/3).
 */
export function addressRefusal(address: string, policy: NetworkPolicy): Refusal {
  let parsed: ReturnType<typeof ipaddr.process>;
  try {
    // process() turns an IPv4-mapped IPv6 address into its IPv4 address.
    parsed = ipaddr.process(address.replace(/^\[|\]$/g, ""));
  } catch {
    return `${address} is not an IP address`;
  }
  const range = parsed.range();
  if (range === "loopback" && policy.allowLoopback) return undefined;
  if (range !== "unicast") return `${parsed.toString()} is a ${range} address`;
  // ipaddr.js calls every IPv6 address outside its named ranges unicast, ::a.b.c.d (IPv4-compatible,
  // deprecated, reaching a.b.c.d where ::/96 is routed) among them: only global unicast is public.
  if (parsed.kind() === "ipv6" && !parsed.match(GLOBAL_UNICAST_V6))
    return `${parsed.toString()} is not a global address`;
  return undefined;
}

/** Whether `host` (a URL's hostname) is an IP literal. */
export function isIpLiteral(host: string): boolean {
  return ipaddr.isValid(host.replace(/^\[|\]$/g, ""));
}

/**
 * Checks a webhook URL before it is stored and again before each delivery: scheme, credentials, and
 * the host when it is an IP literal or a name that always means this machine. Host names are
 * resolved and checked at connection time (`guardedLookup` in webhook-http.ts).
 */
export function urlRefusal(raw: string, policy: NetworkPolicy): Refusal {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "must be an absolute URL";
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && policy.allowHttp))
    return policy.allowHttp ? "must be an http or https URL" : "must be an https URL";
  if (url.username || url.password) return "must not contain credentials";
  const host = url.hostname.toLowerCase();
  if (host === "") return "must name a host";
  if (isIpLiteral(host)) return addressRefusal(host, policy);
  if (!policy.allowLoopback && (host === "localhost" || host.endsWith(".localhost")))
    return "must not point to this machine";
  return undefined;
}
