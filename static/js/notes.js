/* Notes panel: "Edit" swaps a note's rendered body for its edit form in place (the link still works
   without script: it opens the note's edit page). */
"use strict";

function noteToggle(id, editing) {
  const note = document.getElementById(`note-${id}`);
  const form = document.getElementById(`note-edit-${id}`);
  if (!note || !form) return;
  form.hidden = !editing;
  note.querySelector(".note-body").hidden = editing;
  if (editing) form.querySelector("textarea")?.focus();
}

document.addEventListener("click", (event) => {
  const edit = event.target.closest("[data-note-edit]");
  if (edit) {
    event.preventDefault();
    noteToggle(edit.dataset.noteEdit, true);
    return;
  }
  const cancel = event.target.closest("[data-note-cancel]");
  if (cancel) noteToggle(cancel.dataset.noteCancel, false);
});
