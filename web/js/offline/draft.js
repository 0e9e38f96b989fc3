// The report form's draft, saved as the patrol types (localStorage survives a closed tab or a
// flat battery), per user.

const key = (user) => `qingling.draft.report.${user}`;

export function loadDraft(user) {
  try { return JSON.parse(localStorage.getItem(key(user))) ?? null; } catch { return null; }
}

export function saveDraft(user, draft) {
  localStorage.setItem(key(user), JSON.stringify(draft));
}

export function clearDraft(user) {
  localStorage.removeItem(key(user));
}
