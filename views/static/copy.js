// Copies the recovery codes to the clipboard (the page works without it).
document.getElementById('copy-codes')?.addEventListener('click', async (event) => {
  const button = event.currentTarget;
  try {
    await navigator.clipboard.writeText(button.dataset.copy);
    button.textContent = button.dataset.copied;
  } catch {
    button.hidden = true;
  }
});
