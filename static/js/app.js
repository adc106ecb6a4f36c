/* Small page behaviours shared by every page. */
"use strict";

// <form data-confirm="Question?">: ask before submitting (deletes, removals, cancels).
document.addEventListener(
  "submit",
  (event) => {
    const question = event.target?.dataset?.confirm;
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  },
  true,
);
