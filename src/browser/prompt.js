// cartsense default prompt UI: the dialog that shows a campaign's prompt (a coupon, a nudge).
// The shell (index.js) imports it lazily, only when a prompt is about to show, so it is not part
// of what a page downloads before its first event. It owns the DOM of that one dialog and
// nothing else: who sees which prompt, when and how often is the engine's decision, and the
// shell turns the callbacks into events (Prompt Clicked, Prompt Dismissed, Coupon Copied).
//
//   const handle = showPrompt(prompt, { onClick, onDismiss, onCopy, labels });
//   handle?.close(); // the shell closing it (no callback); null: a prompt is already open
//
// `prompt` is what the engine produced: { promptId, campaignId, title, message?, code?, cta?,
// offer, ... }; title, message, code and cta are shown, the rest is handed back untouched. Each
// callback gets the prompt, after the dialog has closed when the action closes it:
// - onClick(prompt): the call-to-action button (shown when `cta` is set); closes the prompt.
// - onDismiss(prompt): the close button, Esc, the back gesture or a click outside the dialog.
// - onCopy(prompt, { code, clipboard }): the copy button (shown when `code` is set); the prompt
//   stays open. `clipboard` is false when the code could only be selected for the visitor to
//   copy (no clipboard access on this page).
// `labels` overrides the built-in English { close, copy, copied }.
//
// Choices, and why:
// - A native <dialog> opened with showModal(): the browser puts it in the top layer (no z-index
//   contest with the shop), makes the page behind it inert and answers Esc and the Android back
//   gesture with a `cancel` event. Added here: focus restored on close, Tab and Shift+Tab
//   wrapping inside it, a visible close button, a click on the backdrop as a dismissal.
// - In a shadow root under <cartsense-prompt> at the end of <body>: the shop's CSS cannot
//   restyle it by accident (a page-wide `button {}` rule), ours cannot leak out and its ids
//   cannot clash. A shop themes it on purpose with custom properties, which cross the shadow
//   boundary (--cs-prompt-bg, -fg, -accent, -accent-fg, -radius, -font, -shadow, -backdrop),
//   or restyles any part with ::part(dialog|title|message|code|copy|cta|close).
// - Its styles are one constructed stylesheet (adoptedStyleSheets), made once per page: a page
//   whose Content-Security-Policy forbids inline styles still gets a styled prompt, which an
//   injected <style> element would not.
// - Placed in the bottom corner on the reading side's end (logical insets: bottom left on a
//   right-to-left page). The transparent outline is what draws its edge in forced-colors mode.
// - Nothing of it is in the page's flow (the dialog is fixed, in the top layer), so opening it
//   moves nothing: layout shift 0. Its entrance animates opacity and transform only, which
//   never count as layout shift, and is off under prefers-reduced-motion.
// - Text goes in with textContent only: campaign and product data never become markup.
// - One prompt at a time: showPrompt() while one is open returns null and leaves that one as it
//   is. The engine's budget is one prompt on screen, and replacing it would pull the dialog
//   and focus from under a visitor who may be reading it or about to copy its code.
//
// Import is side-effect free (server-side rendering can import it): nothing touches window or
// document until showPrompt() runs.

const ACCENT = 'var(--cs-prompt-accent,#0b57d0)';
const RADIUS = 'var(--cs-prompt-radius,12px)';
// One rule a line; a long rule goes on over lines ending in `\` (no newline in the string).
const STYLE = `:host{all:initial}
dialog{inset:auto;inset-block-end:1rem;inset-inline-end:1rem;margin:0;box-sizing:border-box;\
width:min(24rem,calc(100vw - 2rem));max-height:calc(100vh - 2rem);overflow:auto;padding:1.25rem;\
border:0;outline:1px solid transparent;border-radius:${RADIUS};background:var(--cs-prompt-bg,#fff);\
color:var(--cs-prompt-fg,#1f1f1f);font:var(--cs-prompt-font,15px/1.45 system-ui,sans-serif);\
box-shadow:var(--cs-prompt-shadow,0 8px 32px #0004);animation:in .2s ease-out}
dialog::backdrop{background:var(--cs-prompt-backdrop,#0002)}
@keyframes in{from{opacity:0;transform:translateY(1rem)}}
@media (prefers-reduced-motion:reduce){dialog{animation:none}}
h2{margin:0 0 .5rem;padding-inline-end:2rem;font-size:1.2em}
p{margin:0 0 1rem}
button{font:inherit;color:inherit;background:none;cursor:pointer;padding:.5rem 1rem;\
border:1px solid ${ACCENT};border-radius:calc(${RADIUS}/2)}
button:focus-visible{outline:2px solid ${ACCENT};outline-offset:2px}
.x{position:absolute;top:.5rem;inset-inline-end:.5rem;border:0;padding:.25rem .6rem;font-size:1.3em;line-height:1}
div{display:flex;gap:.5rem;margin-bottom:1rem}
code{flex:1;padding:.5rem;border:1px dashed;border-radius:calc(${RADIUS}/2);\
font:600 1em ui-monospace,monospace;user-select:all;overflow-wrap:anywhere}
.go{width:100%;background:${ACCENT};color:var(--cs-prompt-accent-fg,#fff)}
span{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%)}`;

// The stylesheet every prompt of this page adopts, built on the first showPrompt().
let sheet;
// The prompt on screen, if any: { handle, host }.
let current = null;

const fail = (message) => {
  throw new TypeError('cartsense prompt: ' + message);
};

// An optional text field of the prompt: absent or empty means "not shown".
const optionalText = (prompt, field) => {
  const value = prompt[field];
  if (value != null && typeof value != 'string') fail(`prompt.${field} must be a string`);
  return value || '';
};

const checkCallback = (callbacks, name) => {
  if (callbacks[name] != null && typeof callbacks[name] != 'function') fail(`${name} must be a function`);
};

// Appends a new element to `parent`; `attributes` are set as attributes, `text` with
// textContent.
const add = (parent, tag, attributes = {}, text) => {
  const element = parent.appendChild(document.createElement(tag));
  for (const name in attributes) element.setAttribute(name, attributes[name]);
  if (text) element.textContent = text;
  return element;
};

// The focused element, looking inside shadow roots (the shop's own web components included).
const focusedElement = () => {
  let element = document.activeElement;
  while (element?.shadowRoot?.activeElement) element = element.shadowRoot.activeElement;
  return element;
};

/**
 * Shows `prompt` as a modal dialog and moves focus into it. Returns `{ close() }`, or null when
 * a prompt is already on screen. Throws a TypeError naming the field when the prompt or a
 * callback is malformed, and an Error outside a browser.
 */
export function showPrompt(prompt, callbacks = {}) {
  if (typeof document == 'undefined') {
    throw new Error(
      'cartsense prompt: showPrompt() needs a browser; during server-side rendering there is nothing to show',
    );
  }
  if (!prompt || typeof prompt != 'object') fail('prompt must be an object');
  if (typeof prompt.title != 'string' || !prompt.title) fail('prompt.title must be a non-empty string');
  const message = optionalText(prompt, 'message');
  const code = optionalText(prompt, 'code');
  const cta = optionalText(prompt, 'cta');
  if (!callbacks || typeof callbacks != 'object') fail('the second argument must be an object of callbacks');
  ['onClick', 'onDismiss', 'onCopy'].forEach((name) => checkCallback(callbacks, name));
  const { onClick, onDismiss, onCopy } = callbacks;
  if (callbacks.labels != null && typeof callbacks.labels != 'object') fail('labels must be an object');
  const labels = { close: 'Close', copy: 'Copy code', copied: 'Copied', ...callbacks.labels };
  // A prompt whose element the page removed (a single-page app re-rendering <body>) is no
  // longer on screen: it is closed, not left to block every later prompt.
  if (current?.host.isConnected) return null;
  current?.handle.close();

  const previousFocus = focusedElement();
  const host = document.createElement('cartsense-prompt');
  const root = host.attachShadow({ mode: 'open' });
  if (root.adoptedStyleSheets) {
    if (!sheet) {
      sheet = new CSSStyleSheet();
      sheet.replaceSync(STYLE);
    }
    root.adoptedStyleSheets = [sheet];
  } else {
    add(root, 'style', {}, STYLE); // browsers without constructed stylesheets
  }

  const dialog = add(root, 'dialog', { role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 't', part: 'dialog' });
  add(dialog, 'h2', { id: 't', part: 'title' }, prompt.title);
  const closeAttributes = { type: 'button', class: 'x', 'aria-label': labels.close, part: 'close' };
  const closeButton = add(dialog, 'button', closeAttributes, '×');
  if (message) {
    add(dialog, 'p', { id: 'm', part: 'message' }, message);
    dialog.setAttribute('aria-describedby', 'm');
  }
  let codeText, copyButton, status, ctaButton;
  if (code) {
    const row = add(dialog, 'div');
    codeText = add(row, 'code', { part: 'code' }, code);
    copyButton = add(row, 'button', { type: 'button', part: 'copy' }, labels.copy);
    status = add(row, 'span', { role: 'status' }); // tells screen readers the code was copied
  }
  if (cta) ctaButton = add(dialog, 'button', { type: 'button', class: 'go', part: 'cta' }, cta);
  const buttons = [closeButton, copyButton, ctaButton].filter(Boolean);

  // Every listener goes with this signal: close() removes them all at once.
  const listening = new AbortController();
  const on = (target, type, listener) => target.addEventListener(type, listener, { signal: listening.signal });

  const close = () => {
    if (current?.handle != handle) return;
    current = null;
    listening.abort();
    dialog.close();
    host.remove();
    // Browsers that predate the HTML spec's focus restoring on dialog close leave focus on
    // <body>: give it back to where the visitor was (a no-op where the browser did it).
    if (previousFocus?.isConnected) previousFocus.focus();
  };
  const handle = {
    close,
    /** Whether the prompt is still in the document (a single-page app may re-render it away). */
    get connected() {
      return host.isConnected;
    },
  };
  // Closed first, then reported: the shop's callback has the last word on focus, and a callback
  // that throws cannot leave the dialog half closed.
  const dismiss = (event) => {
    event.preventDefault();
    close();
    onDismiss?.(prompt);
  };
  const reportCopy = (clipboard) => {
    if (clipboard) copyButton.textContent = status.textContent = labels.copied;
    onCopy?.(prompt, { code, clipboard });
  };
  // Without the async clipboard (an insecure page, a refused permission) the code is selected
  // for the visitor, and copied through the older execCommand where the browser still does it.
  const selectCode = () => {
    getSelection()?.selectAllChildren(codeText);
    let copied = false;
    try {
      copied = document.execCommand('copy');
    } catch {
      // not supported: the selection stays for the visitor to copy
    }
    reportCopy(copied);
  };

  on(dialog, 'keydown', (event) => {
    if (event.key == 'Escape') dismiss(event);
    if (event.key != 'Tab') return;
    // Focus stays inside: Tab past the last button comes back to the first, Shift+Tab before the
    // first goes to the last (the browser would move on to its own toolbar).
    event.preventDefault();
    const at = buttons.indexOf(root.activeElement);
    const from = at < 0 ? (event.shiftKey ? 0 : -1) : at;
    buttons[(from + (event.shiftKey ? -1 : 1) + buttons.length) % buttons.length].focus();
  });
  on(dialog, 'cancel', dismiss); // Esc with focus on no element, the Android back gesture
  // A click on the backdrop dismisses it, as visitors expect of a popup. The backdrop's clicks
  // land on the dialog element, so it is a click on the dialog outside the dialog's box.
  on(dialog, 'click', (event) => {
    const box = dialog.getBoundingClientRect();
    const { clientX: x, clientY: y } = event;
    if (event.target == dialog && (x < box.left || x > box.right || y < box.top || y > box.bottom)) dismiss(event);
  });
  on(closeButton, 'click', dismiss);
  if (copyButton) {
    on(copyButton, 'click', () => {
      if (navigator.clipboard) navigator.clipboard.writeText(code).then(() => reportCopy(true), selectCode);
      else selectCode();
    });
  }
  if (ctaButton) {
    on(ctaButton, 'click', () => {
      close();
      onClick?.(prompt);
    });
  }

  current = { handle, host };
  (document.body || document.documentElement).append(host);
  try {
    dialog.showModal();
  } catch (error) {
    // (a page whose own modal dialog is open in a way this one cannot join, an older browser):
    // nothing stays behind to block the next prompt
    close();
    throw error;
  }
  (copyButton || ctaButton || closeButton).focus();
  return handle;
}
