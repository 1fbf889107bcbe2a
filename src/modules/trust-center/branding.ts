import { createHash } from 'node:crypto';
import { auditScope } from '../../platform/audit/audit.ts';
import { actorLabel, type RequestContext, type Runtime } from '../../platform/context.ts';
import { InvalidInput, NotFound } from '../../platform/errors.ts';
import { requirePermission } from '../access/service.ts';
import { announceEveryPageChanged, forgetEveryPage } from './cache.ts';
import { isBlobId } from './certificates.ts';
import {
  AA_CONTRAST,
  contrastRatio,
  DARK_BACKGROUNDS,
  darken,
  lighten,
  lightenToContrast,
  NON_TEXT_CONTRAST,
  normalizeHex,
  PAGE_BACKGROUND,
  SURFACE,
} from './colors.ts';
import { checkUpload, JPEG, kindOfType, PNG, type Upload, WEBP } from './files.ts';
import { type BrandingRow, readBranding, writeBranding } from './store.ts';

export const LOGO_CATEGORY = 'trust-center-logo';
/** Raster images only: an SVG can carry script, and its magic bytes are none of these. */
export const LOGO_KINDS = [PNG, JPEG, WEBP] as const;
export const MAX_LOGO_BYTES = 1024 * 1024;
export const MAX_DISPLAY_NAME = 120;

export interface BrandingInput {
  displayName?: string | undefined;
  primaryColor?: string | undefined;
  accentColor?: string | undefined;
  removeLogo?: boolean | undefined;
}

export interface Branding {
  displayName: string | null;
  primaryColor: string | null;
  accentColor: string | null;
  logoBlobId: string | null;
  updatedAt: Date | null;
  updatedBy: string | null;
}

const NONE: Branding = {
  displayName: null,
  primaryColor: null,
  accentColor: null,
  logoBlobId: null,
  updatedAt: null,
  updatedBy: null,
};

/**
 * A brand colour as saved, or the reason it is refused: it must be `#rrggbb` (or `#rgb`) and read at WCAG AA
 * (4.5:1) against the page background and the card surface, where it is used for buttons and links.
 */
function brandColor(value: string | undefined, errors: Record<string, string>, field: string): string | null {
  const text = (value ?? '').trim();
  if (text === '') return null;
  const hex = normalizeHex(text);
  if (!hex) {
    errors[field] = 'enter a colour as #rrggbb';
    return null;
  }
  const worst = Math.min(contrastRatio(hex, PAGE_BACKGROUND), contrastRatio(hex, SURFACE));
  if (worst < AA_CONTRAST) {
    errors[field] =
      `${hex} has a contrast of ${worst.toFixed(2)}:1 against the page; WCAG AA needs at least ${AA_CONTRAST}:1 — choose a darker colour`;
  }
  return hex;
}

function brandingOf(row: BrandingRow | undefined): Branding {
  return row ? { ...row } : NONE;
}

export async function getBranding(ctx: RequestContext): Promise<Branding> {
  requirePermission(ctx.actor, 'content.read');
  return brandingOf(await ctx.db.withTenant(ctx.tenant.id, (tx) => readBranding(tx, ctx.tenant.id)));
}

/**
 * Changes the public site's name, colours and logo. Needs `content.publish` (it is live at once). Every field
 * is checked first (a refusal stores nothing); a new logo replaces the old one, whose blob is deleted. The
 * rendered pages of the tenant are forgotten. Recorded as `trust_center.branding_updated`.
 */
export async function updateBranding(ctx: RequestContext, input: BrandingInput, logo?: Upload): Promise<Branding> {
  requirePermission(ctx.actor, 'content.publish');
  const errors: Record<string, string> = {};
  const displayName = (input.displayName ?? '').replace(/\p{Cc}/gu, '').trim();
  if (displayName.length > MAX_DISPLAY_NAME) errors.displayName = `use at most ${MAX_DISPLAY_NAME} characters`;
  const primaryColor = brandColor(input.primaryColor, errors, 'primaryColor');
  const accentColor = brandColor(input.accentColor, errors, 'accentColor');
  const bad = Object.keys(errors).length;
  if (bad > 0) throw new InvalidInput(bad === 1 ? 'a field needs correcting' : `${bad} fields need correcting`, errors);
  const logoKind = logo ? checkUpload(logo, LOGO_KINDS, MAX_LOGO_BYTES, 'logo') : undefined;
  const saved = await ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const before = brandingOf(await readBranding(tx, ctx.tenant.id));
    let logoBlobId = input.removeLogo ? null : before.logoBlobId;
    if (logo && logoKind) {
      const blob = await ctx.blobs.put(tx, ctx.tenant.id, logo.bytes, {
        category: LOGO_CATEGORY,
        contentType: logoKind.contentType,
      });
      logoBlobId = blob.id;
    }
    if (before.logoBlobId && before.logoBlobId !== logoBlobId) await ctx.blobs.delete(tx, ctx.tenant.id, before.logoBlobId);
    const row: BrandingRow = {
      tenantId: ctx.tenant.id,
      displayName: displayName || null,
      primaryColor,
      accentColor,
      logoBlobId,
      updatedAt: ctx.clock.now(),
      updatedBy: actorLabel(ctx.actor),
    };
    await writeBranding(tx, row);
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'trust_center.branding_updated',
      target: { type: 'trust_center_branding', id: ctx.tenant.id },
      details: {
        displayName: row.displayName,
        primaryColor,
        accentColor,
        logo: logoBlobId === before.logoBlobId ? 'unchanged' : logoBlobId ? 'replaced' : 'removed',
      },
    });
    // Every page shows the brand.
    await announceEveryPageChanged(tx, ctx.tenant.id);
    return brandingOf(row);
  });
  forgetEveryPage(ctx.db, ctx.tenant.id);
  return saved;
}

/** What the public pages need: the name to show, the stylesheet's version, the logo's address. */
export interface PublicBrand {
  displayName: string | null;
  /** Changes whenever the colours do, so `/brand.css?v=` can be cached by browsers. */
  cssVersion: string | null;
  logoUrl: string | null;
  css: string;
}

/**
 * The brand stylesheet: custom properties only (the CSP allows no inline style, so it is a file of its own).
 * Colours are checked against the light pages; the dark scheme gets lightened shades of them that read
 * on its backgrounds, since a colour dark enough for white pages is unreadable on near-black ones.
 */
export function brandCss(branding: Pick<Branding, 'primaryColor' | 'accentColor'>): string {
  const light = lightSchemeLines(branding);
  if (light.length === 0) return '';
  const dark = darkSchemeLines(branding);
  return `:root {\n  ${light.join('\n  ')}\n}\n@media (prefers-color-scheme: dark) {\n  :root {\n    ${dark.join('\n    ')}\n  }\n}\n`;
}

function darkSchemeLines(branding: Pick<Branding, 'primaryColor' | 'accentColor'>): string[] {
  const lines: string[] = [];
  // Buttons keep the brand colour with white text (it passed 4.5:1 against white); the focus ring, drawn
  // on the page, needs the non-text 3:1 against the dark backgrounds.
  if (branding.primaryColor) {
    lines.push(`--color-focus: ${lightenToContrast(branding.primaryColor, DARK_BACKGROUNDS, NON_TEXT_CONTRAST)};`);
  }
  if (branding.accentColor) {
    // A margin over 4.5:1 so anti-aliased text still measures above the line.
    const shade = lightenToContrast(branding.accentColor, DARK_BACKGROUNDS, AA_CONTRAST + 0.2);
    lines.push(`--color-link: ${shade};`, `--color-link-hover: ${lighten(shade, 0.3)};`);
  }
  return lines;
}

function lightSchemeLines(branding: Pick<Branding, 'primaryColor' | 'accentColor'>): string[] {
  const lines: string[] = [];
  if (branding.primaryColor) {
    const p = branding.primaryColor;
    lines.push(
      `--color-brand: ${p};`,
      `--color-brand-hover: ${darken(p, 0.15)};`,
      `--color-brand-active: ${darken(p, 0.3)};`,
      `--color-focus: ${p};`,
    );
  }
  if (branding.accentColor) {
    const a = branding.accentColor;
    lines.push(`--color-link: ${a};`, `--color-link-hover: ${darken(a, 0.25)};`);
  }
  return lines;
}

export async function publicBrand(runtime: Runtime, tenantId: string): Promise<PublicBrand> {
  const branding = brandingOf(await runtime.db.withTenant(tenantId, (tx) => readBranding(tx, tenantId)));
  const css = brandCss(branding);
  return {
    displayName: branding.displayName,
    cssVersion: css ? createHash('sha256').update(css).digest('base64url').slice(0, 12) : null,
    logoUrl: branding.logoBlobId ? `/brand/logo/${branding.logoBlobId}` : null,
    css,
  };
}

/** The tenant's current logo (an older logo's id is not found: it was deleted with the change). */
export async function publicLogo(runtime: Runtime, tenantId: string, id: string) {
  if (!isBlobId(id)) throw new NotFound('logo', id);
  return runtime.db.withTenant(tenantId, async (tx) => {
    const branding = await readBranding(tx, tenantId);
    if (branding?.logoBlobId !== id) throw new NotFound('logo', id);
    const { blob, content } = await runtime.blobs.get(tx, tenantId, id);
    const kind = kindOfType(blob.contentType);
    if (!kind || blob.category !== LOGO_CATEGORY) throw new NotFound('logo', id);
    return { content, contentType: kind.contentType, sha256: blob.sha256 };
  });
}
