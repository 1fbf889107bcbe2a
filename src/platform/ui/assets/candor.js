// Candor: progressive enhancement only. Every page works without this file; it adds
// (1) confirmation before destructive submits ([data-confirm] on a submit button or a form),
// (2) a Copy button next to [data-copy] elements, announced through a polite live region,
// (3) focus on the error summary (.form-errors) when a form comes back with errors,
// (4) a dismiss button on flash messages,
// and two small touches for narrow screens (current nav item in view, scrollable tables focusable).
// No dependencies, no inline handlers, no eval: it runs under a CSP of script-src 'self'.
(() => {
  let live = null;

  /** A polite live region, created once, for short announcements such as "Copied". */
  function announce(message) {
    if (!live) {
      live = document.createElement('div');
      live.className = 'visually-hidden';
      live.setAttribute('role', 'status');
      live.setAttribute('aria-live', 'polite');
      live.setAttribute('aria-atomic', 'true');
      document.body.appendChild(live);
    }
    // Clear first so that the same message twice in a row is announced twice.
    live.textContent = '';
    window.setTimeout(() => {
      live.textContent = message;
    }, 60);
  }

  // (1) Confirm before submitting. Listening to "submit" also covers pressing Enter in a field.
  document.addEventListener('submit', (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    const submitter = event.submitter;
    const message = submitter?.getAttribute('data-confirm') || form.getAttribute('data-confirm') || null;
    if (message && !window.confirm(message)) event.preventDefault();
  });

  function copyWithSelection(element) {
    const selection = window.getSelection();
    if (!selection) return false;
    const range = document.createRange();
    range.selectNodeContents(element);
    selection.removeAllRanges();
    selection.addRange(range);
    try {
      return document.execCommand('copy');
    } catch {
      return false;
    }
  }

  // (2) Copy buttons.
  function enhanceCopy(element) {
    if (element.hasAttribute('data-copy-ready')) return;
    element.setAttribute('data-copy-ready', '');

    const wrapper = document.createElement('span');
    wrapper.className = 'copyable';
    element.parentNode.insertBefore(wrapper, element);
    wrapper.appendChild(element);

    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'button button--secondary button--small';
    button.textContent = 'Copy';
    const label = element.getAttribute('data-copy-label');
    if (label) button.setAttribute('aria-label', label);
    wrapper.appendChild(button);

    let timer = 0;
    const done = (ok) => {
      window.clearTimeout(timer);
      button.textContent = ok ? 'Copied' : 'Copy';
      announce(ok ? 'Copied' : 'Copy failed: the text is selected, press Ctrl+C or Command+C to copy it');
      timer = window.setTimeout(() => {
        button.textContent = 'Copy';
      }, 2000);
    };

    button.addEventListener('click', () => {
      const text = (element.textContent || '').trim();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(
          () => done(true),
          () => done(copyWithSelection(element)),
        );
      } else {
        done(copyWithSelection(element));
      }
    });
  }

  // (4) Dismissable flash messages; focus goes back to the main region so it is not lost.
  function enhanceFlash(flash) {
    if (flash.querySelector('.flash__dismiss')) return;
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'flash__dismiss';
    button.setAttribute('aria-label', 'Dismiss message');
    const glyph = document.createElement('span');
    glyph.setAttribute('aria-hidden', 'true');
    glyph.textContent = '×';
    button.appendChild(glyph);
    button.addEventListener('click', () => {
      const main = document.getElementById('main');
      flash.remove();
      if (main) main.focus({ preventScroll: true });
    });
    flash.appendChild(button);
  }

  // On narrow screens the back-office nav scrolls sideways: bring the current page into view.
  function revealCurrentNavItem() {
    const nav = document.querySelector('.admin-sidebar nav');
    const current = nav?.querySelector('[aria-current="page"]');
    if (!current || nav.scrollWidth <= nav.clientWidth) return;
    const navBox = nav.getBoundingClientRect();
    const box = current.getBoundingClientRect();
    nav.scrollLeft += box.left - navBox.left - (navBox.width - box.width) / 2;
  }

  // A table wider than the screen scrolls: make it reachable and named for keyboard users.
  function labelScrollingTables() {
    for (const wrap of document.querySelectorAll('.table-wrap')) {
      if (wrap.scrollWidth <= wrap.clientWidth || wrap.hasAttribute('tabindex')) continue;
      const caption = wrap.querySelector('caption');
      wrap.setAttribute('tabindex', '0');
      wrap.setAttribute('role', 'region');
      wrap.setAttribute('aria-label', caption ? `${caption.textContent} (scrolls sideways)` : 'Table (scrolls sideways)');
    }
  }

  function init() {
    for (const element of document.querySelectorAll('[data-copy]')) enhanceCopy(element);
    for (const flash of document.querySelectorAll('.flash')) enhanceFlash(flash);
    revealCurrentNavItem();
    labelScrollingTables();

    // (3) A form came back with errors: start there, so the summary is read and the fields follow.
    const summary = document.querySelector('.form-errors');
    if (summary) {
      if (!summary.hasAttribute('tabindex')) summary.setAttribute('tabindex', '-1');
      summary.focus();
    }
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
