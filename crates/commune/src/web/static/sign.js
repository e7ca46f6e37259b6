// commune's signing script: the only script of the web app, and the only place a member's
// private key is ever used. Everything else on the pages works without it.
//
// The key: an Ed25519 key made with WebCrypto, kept in IndexedDB as a *non-extractable*
// CryptoKey, so that neither this script nor anything injected into the page can read it
// back. The backup: when the key is made, and only then, an extractable copy exists for a
// moment; it is encrypted at once with the member's passphrase (PBKDF2-SHA-256, 600,000
// rounds, then AES-256-GCM with the public key as associated data), the plain copy is
// dropped, and only the encrypted backup is kept beside the key. Restoring decrypts a backup
// and imports the key, non-extractable again.
//
// Acting: a form marked data-sign is posted with the member's public key as `author`; the
// node answers with a draft (the exact bytes to sign); the browser signs them and posts the
// signed event to /api/events. The node never sees the private key.
'use strict';

(() => {
  const DB = 'commune';
  const STORE = 'keys';
  const SLOT = 'member';
  const ROUNDS = 600000;
  const DOMAIN = 17; // "commune/event/v1\0"

  const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  const unhex = (text) => new Uint8Array(text.match(/../g).map((h) => parseInt(h, 16)));
  const utf8 = (text) => new TextEncoder().encode(text);

  function database() {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(DB, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  async function slot(value) {
    const db = await database();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, value === undefined ? 'readonly' : 'readwrite');
      const store = tx.objectStore(STORE);
      const request = value === undefined ? store.get(SLOT) : store.put(value, SLOT);
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error);
    });
  }

  /** The member's key in this browser: {key (CryptoKey), public (hex), backup}, or undefined. */
  const myKey = () => slot();

  /** Signs in to the node: the key signs a fresh challenge, and the node answers with a
   *  session cookie (HttpOnly: this script never sees it) bound to that key. Returns whether
   *  a new session was opened. */
  async function signIn(record) {
    const json = (response) => (response.ok ? response.json() : {});
    const who = await fetch('/session', { credentials: 'same-origin' }).then(json).catch(() => ({}));
    if (who.key === record.public) return false;
    const { challenge } = await fetch('/session/challenge', { credentials: 'same-origin' }).then(json);
    if (!challenge) return false;
    const domain = utf8('commune/session/v1\0');
    const message = new Uint8Array(domain.length + 64);
    message.set(domain);
    message.set(unhex(challenge), domain.length);
    message.set(unhex(record.public), domain.length + 32);
    const signature = hex(await sign(record, message));
    await post('/session', JSON.stringify({ key: record.public, challenge, signature }), 'application/json');
    return true;
  }

  async function remember(record) {
    await slot(record);
    localStorage.removeItem('commune-signed-out');
    await signIn(record).catch(() => {});
  }

  /** Who this browser is signed in as, on the key page. */
  async function showSession() {
    const status = document.getElementById('session-status');
    if (!status) return;
    const who = await fetch('/session', { credentials: 'same-origin' }).then((r) => r.json()).catch(() => ({}));
    status.textContent = who.key ? `Signed in as ${who.key.slice(0, 8)}.` : 'Not signed in.';
  }

  function available() {
    if (!window.isSecureContext || !crypto.subtle) {
      throw new Error('This page is not in a secure context (HTTPS, or this device as localhost), so the browser offers no signing here.');
    }
  }

  async function wrappingKey(passphrase, salt) {
    const material = await crypto.subtle.importKey('raw', utf8(passphrase), 'PBKDF2', false, ['deriveKey']);
    return crypto.subtle.deriveKey(
      { name: 'PBKDF2', hash: 'SHA-256', salt, iterations: ROUNDS },
      material, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
  }

  async function install(pkcs8, publicHex, backup) {
    const key = await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'Ed25519' }, false, ['sign']);
    // Check that the key is the one the backup names before keeping it.
    const verifier = await crypto.subtle.importKey('raw', unhex(publicHex), { name: 'Ed25519' }, false, ['verify']);
    const probe = utf8('commune key check');
    const signature = await crypto.subtle.sign('Ed25519', key, probe);
    if (!(await crypto.subtle.verify('Ed25519', verifier, signature, probe))) {
      throw new Error('The backup does not hold the key it names: it is damaged.');
    }
    await remember({ key, public: publicHex, backup });
  }

  async function makeKey(passphrase) {
    available();
    const pair = await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify']);
    const publicHex = hex(new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey)));
    const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey));
    const salt = crypto.getRandomValues(new Uint8Array(16));
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const sealed = await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: unhex(publicHex) },
      await wrappingKey(passphrase, salt), pkcs8);
    const backup = {
      commune_key_backup: 1,
      public_key: publicHex,
      kdf: 'PBKDF2-SHA-256',
      rounds: ROUNDS,
      salt: hex(salt),
      iv: hex(iv),
      sealed_pkcs8: hex(new Uint8Array(sealed)),
    };
    await install(pkcs8, publicHex, backup);
    pkcs8.fill(0);
  }

  async function restore(text, passphrase) {
    available();
    let backup;
    try {
      backup = JSON.parse(text);
    } catch {
      throw new Error('This is not a commune key backup (it is not JSON).');
    }
    if (backup.commune_key_backup !== 1 || backup.kdf !== 'PBKDF2-SHA-256') {
      throw new Error('This is not a commune key backup this page can read.');
    }
    let pkcs8;
    try {
      pkcs8 = new Uint8Array(await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: unhex(backup.iv), additionalData: unhex(backup.public_key) },
        await wrappingKey(passphrase, unhex(backup.salt)), unhex(backup.sealed_pkcs8)));
    } catch {
      throw new Error('The passphrase does not open this backup.');
    }
    await install(pkcs8, backup.public_key, backup);
    pkcs8.fill(0);
  }

  async function post(url, body, type) {
    let response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': type, Accept: 'application/json' },
        body,
        credentials: 'same-origin',
      });
    } catch {
      throw new Error('The node could not be reached. Check the connection, reload the page to see whether your act was recorded, and try again.');
    }
    const answer = await response.json().catch(() => ({ error: `the node answered ${response.status}` }));
    if (!response.ok) {
      const error = new Error(answer.error || `the node answered ${response.status}`);
      error.redraft = answer.redraft === true;
      throw error;
    }
    return answer;
  }

  async function sign(record, message) {
    return new Uint8Array(await crypto.subtle.sign('Ed25519', record.key, message));
  }

  /** The signed event: the envelope is the signed array (minus the domain) with one more
   *  element, the signature (docs/event-format.md, section 5). */
  function assemble(message, signature) {
    const fields = message.subarray(DOMAIN + 1);
    const event = new Uint8Array(1 + fields.length + 2 + 64);
    event[0] = 0x8b;
    event.set(fields, 1);
    event.set([0x58, 0x40], 1 + fields.length);
    event.set(signature, 3 + fields.length);
    return event;
  }

  async function needKey() {
    available();
    const record = await myKey();
    if (!record) throw new Error('You need a key to act: make one (or restore yours) on the “My key” page.');
    return record;
  }

  function say(form, text, error) {
    const status = form.querySelector('.status');
    if (status) {
      status.textContent = text;
      status.classList.toggle('error', !!error);
    }
  }

  async function act(form) {
    const record = await needKey();
    const fields = new URLSearchParams(new FormData(form));
    fields.set('author', record.public);
    if (form.hasAttribute('data-invite')) {
      const draft = await post(form.action, fields, 'application/x-www-form-urlencoded');
      draft.invitation.signature = hex(await sign(record, unhex(draft.signing_message)));
      const sealed = await post('/invitations', JSON.stringify({ invitation: draft.invitation }), 'application/json');
      const output = form.querySelector('#invite-link');
      output.value = location.origin + sealed.link;
      output.hidden = false;
      form.querySelector('label[for="invite-link"]').hidden = false;
      output.select();
      return 'Here is the link: hand it to the person you invite.';
    }
    // A statement to sign first (a petition): the node gives its message, we sign it, and
    // the signature goes into the event we draft next.
    if (form.hasAttribute('data-statement')) {
      const statement = await post(form.action, fields, 'application/x-www-form-urlencoded');
      fields.set('statement_signature', hex(await sign(record, unhex(statement.statement_message))));
    }
    // Someone else's act may land between our draft and our signature: then the node asks
    // for a new draft, and we sign that one.
    for (let attempt = 1; ; attempt++) {
      const draft = await post(form.action, fields, 'application/x-www-form-urlencoded');
      const message = unhex(draft.signing_message);
      const event = assemble(message, await sign(record, message));
      try {
        const done = await post('/api/events', JSON.stringify({ event: hex(event) }), 'application/json');
        location.assign(draft.next.replace('{event}', done.event).replace('{council}', done.council));
        return 'Signed and recorded.';
      } catch (error) {
        if (!error.redraft || attempt === 5) throw error;
      }
    }
  }

  async function makeFromForm(form) {
    const passphrase = form.elements.passphrase.value;
    if (passphrase !== form.elements.again.value) throw new Error('The two passphrases differ.');
    if ((await myKey()) && !confirm('This browser already holds a key. Replace it? (Download its backup first.)')) return 'Kept the key you had.';
    await makeKey(passphrase);
    form.reset();
    await showKey();
    return 'Your key is made. Download its backup now.';
  }

  async function restoreFromForm(form) {
    const held = await myKey();
    if (held && !form.elements.backup.value.includes(held.public)
      && !confirm('This browser holds another key. Replace it? (Download its backup first.)')) return 'Kept the key you had.';
    await restore(form.elements.backup.value, form.elements.passphrase.value);
    form.reset();
    await showKey();
    return 'Your key is restored in this browser.';
  }

  document.addEventListener('submit', async (event) => {
    const form = event.target;
    const run = form.matches('form[data-sign], form[data-invite]') ? act
      : form.matches('form[data-keygen]') ? makeFromForm
        : form.matches('form[data-restore]') ? restoreFromForm : null;
    if (!run) return;
    event.preventDefault();
    const button = form.querySelector('button');
    button.disabled = true;
    say(form, 'Working…');
    try {
      say(form, await run(form));
    } catch (error) {
      say(form, error.message, true);
    } finally {
      button.disabled = false;
    }
  });

  document.addEventListener('change', async (event) => {
    if (event.target.matches('form[data-restore] input[type="file"]') && event.target.files[0]) {
      event.target.form.elements.backup.value = await event.target.files[0].text();
    }
  });

  document.addEventListener('click', async (event) => {
    if (event.target.matches('[data-signout]')) {
      localStorage.setItem('commune-signed-out', '1');
      await post('/session/end', '{}', 'application/json').catch(() => {});
      await showSession();
      return;
    }
    if (event.target.matches('[data-signin]')) {
      localStorage.removeItem('commune-signed-out');
      const record = await myKey();
      if (record) await signIn(record).catch(() => {});
      await showSession();
      return;
    }
    if (!event.target.matches('[data-backup]')) return;
    const record = await myKey();
    if (!record) return;
    const blob = new Blob([JSON.stringify(record.backup, null, 2)], { type: 'application/json' });
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = `commune-key-${record.public.slice(0, 8)}.json`;
    link.click();
    URL.revokeObjectURL(link.href);
  });

  async function showKey() {
    const status = document.getElementById('key-status');
    if (!status) return;
    const record = await myKey();
    status.textContent = '';
    const line = document.createElement('p');
    if (record) {
      line.append('This browser holds your key. Your public key: ');
      const code = document.createElement('code');
      code.id = 'my-public-key';
      code.textContent = record.public;
      line.append(code);
    } else {
      line.textContent = 'This browser holds no key yet.';
    }
    status.append(line);
    document.getElementById('key-make').hidden = false;
    document.getElementById('key-backup').hidden = !record;
  }

  /** Shows times in the reader's own time zone (the page says UTC without the script). */
  function localTimes(root) {
    const format = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
    for (const time of root.querySelectorAll('time[datetime]')) {
      time.textContent = format.format(new Date(time.getAttribute('datetime')));
    }
  }

  /** Live updates: when the council changes, fetch this page again and swap its live part. */
  function listen() {
    const url = document.body.dataset.live;
    const live = document.getElementById('live');
    if (!url || !live || !window.EventSource) return;
    const source = new EventSource(url);
    source.addEventListener('change', async () => {
      const response = await fetch(location.href, { credentials: 'same-origin' });
      if (!response.ok) return;
      const page = new DOMParser().parseFromString(await response.text(), 'text/html');
      const fresh = page.getElementById('live');
      if (fresh) {
        live.replaceChildren(...fresh.childNodes);
        localTimes(live);
      }
    });
  }

  async function start() {
    try {
      const record = await myKey();
      // The page was drawn without a session: sign in, then draw it again for the member.
      const out = localStorage.getItem('commune-signed-out');
      if (record && !out && await signIn(record) && !sessionStorage.getItem('commune-signed-in')) {
        sessionStorage.setItem('commune-signed-in', '1');
        location.reload();
        return;
      }
      sessionStorage.removeItem('commune-signed-in');
    } catch {
      // No IndexedDB (a private window in some browsers): reading still works.
    }
    await showKey().catch((error) => {
      const status = document.getElementById('key-status');
      if (status) status.textContent = error.message;
    });
    await showSession();
    localTimes(document);
    listen();
  }

  start();
})();
