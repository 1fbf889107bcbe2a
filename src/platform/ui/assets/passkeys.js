// Candor: the browser side of passkeys (WebAuthn). Forms marked data-passkey="register|second-factor|sign-in"
// are hidden until this script shows them (they need JavaScript). On submit it asks the server for options
// (data-options), runs the ceremony with navigator.credentials, posts the credential's JSON to the form's
// action and goes to the address the server answers with. No dependencies; runs under script-src 'self'.
(() => {
  const supported =
    typeof window.PublicKeyCredential === 'function' &&
    typeof PublicKeyCredential.parseCreationOptionsFromJSON === 'function' &&
    typeof PublicKeyCredential.parseRequestOptionsFromJSON === 'function';

  function forms() {
    return document.querySelectorAll('form[data-passkey]');
  }

  function headersFor(form) {
    const headers = { 'content-type': 'application/json', accept: 'application/json' };
    const token = form.querySelector('input[name="_csrf"]');
    if (token) headers['x-csrf-token'] = token.value;
    return headers;
  }

  async function postJson(url, form, body) {
    const response = await fetch(url, {
      method: 'POST',
      headers: headersFor(form),
      body: JSON.stringify(body),
      credentials: 'same-origin',
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error || data.detail || 'The server refused the passkey.');
    return data;
  }

  async function ceremony(form) {
    const mode = form.dataset.passkey;
    const options = await postJson(form.dataset.options, form, {});
    const credential =
      mode === 'register'
        ? await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options) })
        : await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) });
    if (!credential) throw new Error('No passkey was chosen.');
    const body = { response: credential.toJSON() };
    const name = form.querySelector('input[name="name"]');
    if (name) body.name = name.value;
    const result = await postJson(form.action, form, body);
    window.location.assign(result.next || form.dataset.next || '/admin');
  }

  function start() {
    for (const form of forms()) {
      if (!supported) continue;
      form.hidden = false;
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        const status = form.querySelector('[data-passkey-status]');
        if (status) status.textContent = 'Waiting for your passkey…';
        ceremony(form).catch((error) => {
          if (status)
            status.textContent = error && error.name === 'NotAllowedError' ? 'Cancelled.' : String(error.message || error);
        });
      });
    }
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
