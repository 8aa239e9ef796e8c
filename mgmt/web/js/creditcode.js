// Unified social credit code (统一社会信用代码, GB 32100-2015), checked as the server checks it
// (mgmt/validate.c with protocol/creditcode.c): characters first, then length, then the check
// character. Returns the validation code the server would put in its 422 detail (bad_format
// for a wrong length or character, lowercase, bad_check), or null when the code is valid.

const ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** The check character for the first 17 characters, or null when one is not allowed. */
export function checkChar(code17) {
  let sum = 0;
  for (let i = 0; i < 17; i += 1) {
    const v = ALPHABET.indexOf(code17[i]);
    if (v < 0) return null;
    sum += v * WEIGHTS[i];
  }
  const c = 31 - (sum % 31);
  return ALPHABET[c === 31 ? 0 : c];
}

export function validateCreditCode(code) {
  if (!code) return 'required';
  if ([...code].length > 64) return 'too_long';
  for (let i = 0; i < code.length && i < 18; i += 1) {
    if (ALPHABET.includes(code[i])) continue;
    const up = code[i].toUpperCase();
    return code[i] !== up && ALPHABET.includes(up) ? 'lowercase' : 'bad_format';
  }
  if (code.length !== 18) return 'bad_format';
  return checkChar(code) === code[17] ? null : 'bad_check';
}
