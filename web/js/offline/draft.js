// The drafts of the patrol's forms (the fire report, the dust violation), saved as the patrol
// types (localStorage survives a closed tab or a flat battery), per user.

const key = (user, form) => `qingling.draft.${form}.${user}`;

export function loadDraft(user, form = 'report') {
  try { return JSON.parse(localStorage.getItem(key(user, form))) ?? null; } catch { return null; }
}

export function saveDraft(user, draft, form = 'report') {
  localStorage.setItem(key(user, form), JSON.stringify(draft));
}

export function clearDraft(user, form = 'report') {
  localStorage.removeItem(key(user, form));
}
