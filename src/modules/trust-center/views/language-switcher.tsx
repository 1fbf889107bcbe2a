import { LOCALE_NAMES, LOCALES, type Locale } from '../../../platform/i18n/locales.ts';
import { prefixedPath } from '../locale.ts';

/**
 * Plain links to this page in every language (no script needed). Each name is written in its own language and
 * marked so, so a screen reader pronounces it right; the language shown is marked current.
 */
export function LanguageSwitcher({ locale, path, label }: { locale: Locale; path: string; label: string }) {
  return (
    <nav class="language-switcher" aria-label={label}>
      <ul>
        {LOCALES.map((l) => (
          <li>
            <a href={prefixedPath(l, path)} lang={l} hreflang={l} aria-current={l === locale ? 'true' : undefined}>
              {LOCALE_NAMES[l]}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}
