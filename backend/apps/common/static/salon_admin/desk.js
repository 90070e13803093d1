// The front desk's forms: choosing the day, the service or the staff member shows
// their free starts at once (the "Show free starts" button does it without script).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("desk-form");
  const refresh = document.getElementById("desk-refresh");
  if (!form || !refresh) return;
  for (const name of ["date", "service", "staff"]) {
    const field = form.elements.namedItem(name);
    if (field) field.addEventListener("change", () => refresh.click());
  }
});
