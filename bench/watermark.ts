// Watermarking figures: stamping a 100-page and a 10-page PDF for one recipient (targets 1 s and 150 ms), each
// beside the time to load and save the same PDF without stamping in the same run (the floor any stamping that
// parses and rewrites the file pays), as a ratio. Inputs are generated with ordinary text on every page.

import { PDFDocument } from '@cantoo/pdf-lib';
import { composePages } from '../src/modules/documents/compose.ts';
import { LOAD_OPTIONS } from '../src/modules/documents/pdf.ts';
import { stampPdf } from '../src/modules/documents/watermark.ts';

export const TARGETS = { pages100Ms: 1000, pages10Ms: 150 };
const ROUNDS = 7;

export interface WatermarkFigure {
  label: string;
  line: string;
  targetMet?: boolean;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

async function timesMs(work: () => Promise<unknown>): Promise<number[]> {
  await work(); // warm-up: the first run pays for compiling the parser
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const started = performance.now();
    await work();
    times.push(performance.now() - started);
  }
  return times;
}

async function figure(pages: number, targetMs: number): Promise<WatermarkFigure> {
  const pdf = await composePages(pages, 'Benchmark report');
  const recipient = {
    name: 'Bench Reader',
    email: 'reader@bench.test',
    company: 'Bench Ltd',
    grantId: 'grt_bench0001',
    at: new Date(),
  };
  const stamp = median(await timesMs(() => stampPdf(pdf, recipient)));
  const roundTrip = median(
    await timesMs(async () => (await PDFDocument.load(pdf, LOAD_OPTIONS)).save({ useObjectStreams: false })),
  );
  const met = stamp < targetMs;
  const label = `watermark a ${pages}-page PDF`;
  return {
    label,
    targetMet: met,
    line:
      `${label} (${Math.round(pdf.length / 1024)} KiB): ${stamp.toFixed(1)} ms (median of ${ROUNDS}; target < ${targetMs} ms, ` +
      `${(stamp / targetMs).toFixed(2)}× target); load+save without stamping ${roundTrip.toFixed(1)} ms, ` +
      `stamp/load+save = ${(stamp / roundTrip).toFixed(2)} ${met ? 'PASS' : 'MISS'}`,
  };
}

export async function watermarkFigures(progress: (message: string) => void): Promise<WatermarkFigure[]> {
  progress('watermarking: 100-page and 10-page PDFs');
  return [await figure(100, TARGETS.pages100Ms), await figure(10, TARGETS.pages10Ms)];
}

// `node --import tsx bench/watermark.ts` runs these figures alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  for (const f of await watermarkFigures((m) => process.stderr.write(`bench: ${m}\n`))) console.log(f.line);
}
