// WebAuthn glue for the hosted pages. Options come from the inert JSON in
// #webauthn-options; @simplewebauthn/browser (served by Latchkey, no CDN)
// runs the ceremony; the JSON response goes into the form's
// `webauthn_response` field and the form is submitted to the server, which
// verifies everything. Buttons: data-webauthn="register" | "authenticate".
(() => {
  const optionsElement = document.getElementById('webauthn-options');
  const lib = window.SimpleWebAuthnBrowser;
  if (!optionsElement || !lib) return;
  const optionsJSON = JSON.parse(optionsElement.textContent);
  const errorBox = document.getElementById('webauthn-error');

  const showError = (message) => {
    if (!errorBox) return;
    errorBox.textContent = message;
    errorBox.hidden = false;
  };

  const submit = (form, response) => {
    form.querySelector('[name="webauthn_response"]').value = JSON.stringify(response);
    if (form.dataset.method) {
      const method = document.createElement('input');
      method.type = 'hidden';
      method.name = 'method';
      method.value = form.dataset.method;
      form.append(method);
    }
    form.submit();
  };

  for (const button of document.querySelectorAll('[data-webauthn]')) {
    if (!lib.browserSupportsWebAuthn()) {
      button.disabled = true;
      continue;
    }
    button.addEventListener('click', async () => {
      const form = button.form;
      try {
        const response = button.dataset.webauthn === 'register'
          ? await lib.startRegistration({ optionsJSON })
          : await lib.startAuthentication({ optionsJSON });
        submit(form, response);
      } catch (error) {
        showError(button.dataset.error || error.message);
      }
    });
  }

  // Conditional UI: passkeys offered in the email field's autofill.
  const autofillForm = document.querySelector('form[data-webauthn-autofill]');
  if (autofillForm) {
    lib.browserSupportsWebAuthnAutofill().then((supported) => {
      if (!supported) return;
      lib.startAuthentication({ optionsJSON, useBrowserAutofill: true })
        .then((response) => submit(autofillForm, response))
        .catch(() => {}); // cancelled by the button or the password form
    });
  }
})();
