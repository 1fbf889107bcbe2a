import type { RecordedEvent } from '../../platform/audit/audit.ts';
import type { AlertSettings, BusinessHours, RuleId, Severity } from './schema.ts';

/** Whose events a counted rule adds up: the same account, address or actor as the event that just arrived. */
export type Subject =
  | { by: 'email'; email: string }
  | { by: 'ip'; ip: string }
  /** A person or token: by id, which survives a change of name. */
  | { by: 'actor'; type: string; id: string }
  /** The system has no id, only a name (`cli`, `startup`). */
  | { by: 'actorLabel'; type: string; label: string }
  /** Anonymous visitors are told apart by address. */
  | { by: 'anonymousIp'; ip: string }
  /** The account an event is about: its target user, else its actor, else the email it names. */
  | { by: 'account'; account: string };

/** Which events of the trail count towards a rule. */
export interface EventMatch {
  /** Exact action names, or (with `suffixes`) any action ending with one of them. */
  actions?: readonly string[];
  suffixes?: readonly string[];
  outcome?: 'success' | 'denied' | 'failed';
  subject: Subject;
}

/** What a rule says about one event: the alert it belongs to, and what must hold for it to open. */
export interface RuleHit {
  rule: RuleId;
  /** Groups events into one alert while it is not closed. */
  key: string;
  title: string;
  /** Events needed within the window; 1 means this event alone opens the alert. */
  threshold: number;
  windowMinutes: number;
  /** How to count earlier events like this one; absent for rules that fire on a single event. */
  match?: EventMatch;
  /** For the mail: what the key is (`Account`, `IP address`, `Actor`). */
  subjectLabel: string;
  subjectValue: string;
}

export interface RuleDefinition {
  id: RuleId;
  name: string;
  description: string;
  severity: Severity;
  /** A cheap test on the action alone, so most events cost no query at all. */
  watches(action: string): boolean;
  evaluate(event: RecordedEvent, settings: AlertSettings): RuleHit | undefined;
}

const READ_SUFFIXES = ['.viewed', '.downloaded'] as const;
const EXPORT_SUFFIXES = ['.exported'] as const;
const PRIVILEGED_ROLES = new Set(['owner', 'security-admin']);

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

function actorSubject(event: RecordedEvent): { subject: Subject; key: string; name: string } | undefined {
  const { type, id, label } = event.actor;
  if (id) return { subject: { by: 'actor', type, id }, key: `${type}:${id}`, name: label ?? id };
  if (type === 'anonymous') {
    return event.ip
      ? { subject: { by: 'anonymousIp', ip: event.ip }, key: `anonymous:${event.ip}`, name: `anonymous (${event.ip})` }
      : undefined;
  }
  return label ? { subject: { by: 'actorLabel', type, label }, key: `${type}:${label}`, name: `${type} ${label}` } : undefined;
}

/** The account an event is about; mirrors the `account` subject's SQL in store.ts. */
function accountOf(event: RecordedEvent): string | undefined {
  const target = event.target?.type === 'user' ? event.target.id : null;
  return target ?? event.actor.id ?? text(event.details.email);
}

/** Whether `at` falls on Monday to Friday within the configured hours, in the configured time zone. */
export function withinBusinessHours(at: Date, hours: BusinessHours): boolean {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: hours.timeZone,
    weekday: 'short',
    hour: 'numeric',
    hourCycle: 'h23',
  }).formatToParts(at);
  const weekday = parts.find((p) => p.type === 'weekday')?.value;
  const hour = Number(parts.find((p) => p.type === 'hour')?.value);
  if (weekday === 'Sat' || weekday === 'Sun') return false;
  return hour >= hours.start && hour < hours.end;
}

function counted(settings: AlertSettings, rule: keyof AlertSettings['thresholds']) {
  const { count, windowMinutes } = settings.thresholds[rule];
  return { threshold: count, windowMinutes };
}

export const RULES: readonly RuleDefinition[] = [
  {
    id: 'failed-sign-in-account',
    name: 'Repeated failed sign-ins for one account',
    description: 'Someone may be guessing the password of this account.',
    severity: 'medium',
    watches: (action) => action === 'session.sign_in_failed',
    evaluate(event, settings) {
      const email = text(event.details.email)?.toLowerCase();
      if (!email) return undefined;
      return {
        rule: 'failed-sign-in-account',
        key: email,
        title: `Repeated failed sign-ins for ${email}`,
        ...counted(settings, 'failed-sign-in-account'),
        match: { actions: ['session.sign_in_failed'], subject: { by: 'email', email } },
        subjectLabel: 'Account',
        subjectValue: email,
      };
    },
  },
  {
    id: 'failed-sign-in-ip',
    name: 'Repeated failed sign-ins from one address',
    description: 'One address is trying many passwords, possibly across many accounts.',
    severity: 'high',
    watches: (action) => action === 'session.sign_in_failed',
    evaluate(event, settings) {
      if (!event.ip) return undefined;
      return {
        rule: 'failed-sign-in-ip',
        key: event.ip,
        title: `Repeated failed sign-ins from ${event.ip}`,
        ...counted(settings, 'failed-sign-in-ip'),
        match: { actions: ['session.sign_in_failed'], subject: { by: 'ip', ip: event.ip } },
        subjectLabel: 'IP address',
        subjectValue: event.ip,
      };
    },
  },
  {
    id: 'access-denied',
    name: 'Repeated permission denials',
    description: 'Someone keeps trying things their role does not allow.',
    severity: 'medium',
    watches: (action) => action === 'access.denied',
    evaluate(event, settings) {
      const actor = actorSubject(event);
      if (!actor) return undefined;
      return {
        rule: 'access-denied',
        key: actor.key,
        title: `Repeated permission denials for ${actor.name}`,
        ...counted(settings, 'access-denied'),
        match: { actions: ['access.denied'], subject: actor.subject },
        subjectLabel: 'Actor',
        subjectValue: actor.name,
      };
    },
  },
  {
    id: 'outside-allowlist',
    name: 'Access from outside the IP allow-list',
    description: 'A request came from an address the allow-list does not include.',
    severity: 'high',
    watches: (action) => action === 'access.outside_allowlist',
    evaluate(event) {
      const where = event.ip ?? 'an unknown address';
      return {
        rule: 'outside-allowlist',
        key: event.ip ?? actorSubject(event)?.key ?? 'unknown',
        title: `Access from outside the IP allow-list: ${where}`,
        threshold: 1,
        windowMinutes: 1,
        subjectLabel: 'IP address',
        subjectValue: where,
      };
    },
  },
  {
    id: 'mfa-failed',
    name: 'Repeated MFA failures',
    description: 'Someone who knows the password may be trying second factors.',
    severity: 'high',
    watches: (action) => action === 'mfa.failed',
    evaluate(event, settings) {
      const account = accountOf(event);
      if (!account) return undefined;
      const name = text(event.details.email) ?? (event.actor.id === account ? event.actor.label : null) ?? account;
      return {
        rule: 'mfa-failed',
        key: account,
        title: `Repeated MFA failures for ${name}`,
        ...counted(settings, 'mfa-failed'),
        match: { actions: ['mfa.failed'], subject: { by: 'account', account } },
        subjectLabel: 'Account',
        subjectValue: name,
      };
    },
  },
  {
    id: 'privileged-grant-off-hours',
    name: 'Privileged role granted outside business hours',
    description:
      'A privileged role (owner, security-admin, or a custom role with power over people, roles, tokens, keys, backups or settings) was granted when nobody is expected to be granting roles.',
    severity: 'high',
    watches: (action) => action === 'access.role_granted',
    evaluate(event, settings) {
      const role = text(event.details.role);
      if (!role || !(event.details.privileged === true || PRIVILEGED_ROLES.has(role))) return undefined;
      // A new workspace's first owner, made by the one-time setup link, is not a grant anyone could review.
      if (event.actor.type === 'system' && event.actor.label === 'setup_link') return undefined;
      if (withinBusinessHours(new Date(event.time), settings.businessHours)) return undefined;
      const grantee = text(event.details.email) ?? event.target?.id ?? 'an unknown account';
      return {
        rule: 'privileged-grant-off-hours',
        key: event.target?.id ?? grantee,
        title: `${role} role granted outside business hours to ${grantee}`,
        threshold: 1,
        windowMinutes: 1,
        subjectLabel: 'Account',
        subjectValue: grantee,
      };
    },
  },
  {
    id: 'bulk-export',
    name: 'Bulk export of data',
    description: 'One actor exported data several times in a short time.',
    severity: 'high',
    watches: (action) => EXPORT_SUFFIXES.some((s) => action.endsWith(s)),
    evaluate(event, settings) {
      const actor = actorSubject(event);
      if (!actor || event.outcome !== 'success') return undefined;
      return {
        rule: 'bulk-export',
        key: actor.key,
        title: `Bulk export of data by ${actor.name}`,
        ...counted(settings, 'bulk-export'),
        match: { suffixes: EXPORT_SUFFIXES, outcome: 'success', subject: actor.subject },
        subjectLabel: 'Actor',
        subjectValue: actor.name,
      };
    },
  },
  {
    id: 'bulk-read',
    name: 'Bulk reads of personal data',
    description: 'One actor opened or downloaded an unusual number of records in a short time.',
    severity: 'medium',
    watches: (action) => READ_SUFFIXES.some((s) => action.endsWith(s)),
    evaluate(event, settings) {
      const actor = actorSubject(event);
      if (!actor || event.outcome !== 'success') return undefined;
      return {
        rule: 'bulk-read',
        key: actor.key,
        title: `Bulk reads of personal data by ${actor.name}`,
        ...counted(settings, 'bulk-read'),
        match: { suffixes: READ_SUFFIXES, outcome: 'success', subject: actor.subject },
        subjectLabel: 'Actor',
        subjectValue: actor.name,
      };
    },
  },
];

export function ruleById(id: string): RuleDefinition | undefined {
  return RULES.find((r) => r.id === id);
}
