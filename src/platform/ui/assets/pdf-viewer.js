// Candor: the in-browser viewer for view-only documents. It fetches the PDF named by the viewer element and draws
// each page into a canvas with pdf.js, loaded from our own origin. Nothing here offers a download: that is a
// deterrent only, since the bytes reach the browser. Runs under a CSP of script-src 'self': no inline code, and
// pdf.js is told not to compile PostScript functions with `new Function` (isEvalSupported: false).
const viewer = document.querySelector('[data-pdf-viewer]');
if (viewer) show(viewer);

/** "Page {n} of {total}" from the page's own language, filled in. */
function pageLabel(template, n, total) {
  return template.replace('{n}', String(n)).replace('{total}', String(total));
}

/** One page as a canvas as wide as the viewer, drawn at the screen's pixel density so text stays sharp. */
async function drawPage(pdf, n, into, template) {
  const page = await pdf.getPage(n);
  const base = page.getViewport({ scale: 1 });
  const width = Math.max(320, into.clientWidth || 800);
  const density = window.devicePixelRatio || 1;
  const viewport = page.getViewport({ scale: (width / base.width) * density });
  const canvas = document.createElement('canvas');
  canvas.width = Math.floor(viewport.width);
  canvas.height = Math.floor(viewport.height);
  canvas.className = 'pdf-viewer__page';
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', pageLabel(template, n, pdf.numPages));
  into.appendChild(canvas);
  await page.render({ canvasContext: canvas.getContext('2d'), viewport }).promise;
  page.cleanup();
}

async function show(element) {
  const status = element.querySelector('[data-pdf-status]');
  const pages = element.querySelector('[data-pdf-pages]');
  const { src, module, worker, loading, failed, page: template } = element.dataset;
  status.textContent = loading;
  try {
    const pdfjs = await import(module);
    pdfjs.GlobalWorkerOptions.workerSrc = worker;
    // Each fetch is recorded as a view; the answer is never stored (Cache-Control: no-store).
    const response = await fetch(src, { credentials: 'same-origin', cache: 'no-store' });
    if (!response.ok) throw new Error(`the document answered ${response.status}`);
    const data = new Uint8Array(await response.arrayBuffer());
    const pdf = await pdfjs.getDocument({ data, isEvalSupported: false, enableXfa: false }).promise;
    for (let n = 1; n <= pdf.numPages; n++) await drawPage(pdf, n, pages, template);
    element.dataset.rendered = String(pdf.numPages);
    status.textContent = '';
  } catch (error) {
    status.textContent = failed;
    element.dataset.rendered = 'failed';
    console.error('document viewer:', error);
  }
}
