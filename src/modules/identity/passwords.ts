import { dictionary } from '@zxcvbn-ts/language-common';
import { InvalidInput } from '../../platform/errors.ts';

/**
 * Password rules after NIST SP 800-63B §5.1.1.2: length over composition, no character-class rules, no
 * hints, any characters (NFKC-normalised so the same password typed on two keyboards is the same), and a
 * check against common passwords and words tied to this service and this person.
 *
 * The minimum is 12, above NIST's floor of 8 for user-chosen secrets: at 8 characters the common-password
 * list and an offline guess against a leaked argon2 hash are both far more likely to succeed, and a password
 * manager or a short passphrase reaches 12 with no effort. The maximum of 256 leaves room for passphrases
 * while bounding the work one sign-in asks of the hasher.
 */
export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 256;

// ~49,000 of the most common passwords from public breach corpora, shipped inside the npm package.
const COMMON_PASSWORDS: ReadonlySet<string> = new Set(dictionary['passwords-common']);

// Context words shorter than this are too common inside ordinary words to refuse on.
const MIN_CONTEXT_WORD = 3;

/** Who the password is for, so it can be refused for leaning on their own names. */
export interface PasswordContext {
  tenantName?: string;
  tenantSlug?: string;
  email?: string;
}

/** Compatibility forms fold into one (full-width letters, ligatures): what is typed is what is compared. */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

/** Length in characters as a person counts them, not UTF-16 code units. */
function characterCount(text: string): number {
  return [...text].length;
}

function isCommon(lowered: string): boolean {
  if (COMMON_PASSWORDS.has(lowered)) return true;
  // "Password2024!" is "password" with the usual digits and punctuation around it.
  const core = lowered.replace(/^[^\p{L}]+|[^\p{L}]+$/gu, '');
  return core.length > 0 && COMMON_PASSWORDS.has(core);
}

function contextWords(context: PasswordContext): string[] {
  const local = context.email?.split('@')[0] ?? '';
  const words = [context.tenantName ?? '', context.tenantSlug ?? '', local, ...local.split(/[._+-]/), 'candor'];
  return [...new Set(words.map((w) => w.trim().toLowerCase()).filter((w) => characterCount(w) >= MIN_CONTEXT_WORD))];
}

/** What is left of the password once the service's and the person's own words are taken out. */
function withoutContext(lowered: string, context: PasswordContext): string {
  return contextWords(context).reduce((rest, word) => rest.split(word).join(''), lowered);
}

/** Why a new password is refused, in words for the form; undefined when it is acceptable. */
export function passwordProblem(password: string, context: PasswordContext = {}): string | undefined {
  const normalized = normalizePassword(password);
  const length = characterCount(normalized);
  if (length < PASSWORD_MIN_LENGTH) return `use at least ${PASSWORD_MIN_LENGTH} characters (a short phrase works well)`;
  if (length > PASSWORD_MAX_LENGTH) return `use at most ${PASSWORD_MAX_LENGTH} characters`;
  const lowered = normalized.toLowerCase();
  if (isCommon(lowered)) return 'this password is on a list of common or breached passwords; choose another';
  if (characterCount(withoutContext(lowered, context)) < PASSWORD_MIN_LENGTH) {
    return 'this password leans on your email, the organisation’s name or “candor”; choose something else';
  }
  return undefined;
}

/** Refuses an unacceptable new password with the reason on the `field` it came from. */
export function assertAcceptablePassword(password: string, context: PasswordContext, field = 'password'): string {
  const problem = passwordProblem(password, context);
  if (problem) throw new InvalidInput(problem, { [field]: problem });
  return normalizePassword(password);
}
