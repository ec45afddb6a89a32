import { parsePhoneNumberFromString } from "libphonenumber-js/max";

/**
 * `number` as E.164 if it is a valid number of its country's numbering plan (libphonenumber-js with
 * its "max" metadata), else undefined. Its own module so that it is imported on first use only
 * (core/equipment/common.ts `publicNumber`).
 */
export function validE164(number: string): string | undefined {
  const parsed = parsePhoneNumberFromString(number);
  return parsed?.isValid() && parsed.number === number ? parsed.number : undefined;
}
