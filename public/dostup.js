// Optional enhancements for the hosted pages. Every page works without this file: the server checks
// everything, and each element handled here is usable (or stays hidden) when the script never runs.
// No dependencies and no inline handlers: the CSP is `default-src 'self'`.
(() => {
  'use strict';

  // "Show" the new password (S1.3). The button ships with `hidden`, so no-JS readers never meet a
  // dead control; one button reveals every password field of its form (new + confirmation).
  for (const button of document.querySelectorAll('[data-toggle-password]')) {
    const form = button.closest('form');
    const inputs = form ? [...form.querySelectorAll('input[data-password]')] : [];
    if (inputs.length === 0) continue;
    const set = (visible) => {
      for (const input of inputs) input.type = visible ? 'text' : 'password';
      button.setAttribute('aria-pressed', String(visible));
      button.textContent = visible ? button.dataset.labelHide : button.dataset.labelShow;
    };
    button.addEventListener('click', () => set(button.getAttribute('aria-pressed') !== 'true'));
    // Submit as password fields, so browsers offer to save the password and never keep it in
    // plain-text form history.
    form.addEventListener('submit', () => set(false));
    button.hidden = false;
  }

  // "Send again" countdown. The page says "in N seconds" as rendered; this keeps the number true and
  // holds the button back until then (the server would only answer "wait").
  for (const note of document.querySelectorAll('[data-seconds]')) {
    const total = Number(note.dataset.seconds);
    const button = note.closest('form')?.querySelector('button[type="submit"]');
    if (!(total > 0)) continue;
    const rules = new Intl.PluralRules(document.documentElement.lang || undefined);
    const started = Date.now();
    const hold = (event) => {
      if (button.getAttribute('aria-disabled') === 'true') event.preventDefault();
    };
    if (button) {
      button.setAttribute('aria-disabled', 'true');
      button.addEventListener('click', hold);
    }
    const tick = () => {
      const left = total - Math.floor((Date.now() - started) / 1000);
      if (left <= 0) {
        clearInterval(timer);
        note.textContent = note.dataset.ready;
        note.classList.add('resend__wait--ready');
        button?.removeAttribute('aria-disabled');
        return;
      }
      const template = note.getAttribute(`data-plural-${rules.select(left)}`) ?? note.getAttribute('data-plural-other');
      if (template) note.textContent = template.replace('{count}', String(left));
    };
    const timer = setInterval(tick, 1000);
  }
})();
