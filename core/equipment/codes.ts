/**
 * Activation codes have 8 digits. A device allows MAX_ATTEMPTS = 5 evaluated codes per issued
 * code, so a guesser's chance per device and code is 5 / 10^8 = 1 in 20,000,000 (the bar is
 * 1 in a million, which 7 digits would just meet at 1 in 2,000,000; the eighth digit buys a
 * margin of 10 for one more keystroke on the PBX console). The device id (128 random bits)
 * must be known too, and only an admin's regeneration grants 5 more attempts.
 *
 * A leaf module: the change-stream consumer reads MAX_ATTEMPTS (equipment.locked) without loading
 * the equipment use cases and their phone-number metadata.
 */
export const CODE_DIGITS = 8;
export const MAX_ATTEMPTS = 5;
