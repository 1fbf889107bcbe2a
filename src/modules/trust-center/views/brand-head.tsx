import type { PublicBrand } from '../branding.ts';

/** The tenant's brand stylesheet, after Candor's own so its custom properties win; none without colours. */
export function BrandStylesheet({ brand }: { brand: PublicBrand | undefined }) {
  return brand?.cssVersion ? <link rel="stylesheet" href={`/brand.css?v=${brand.cssVersion}`} /> : null;
}
