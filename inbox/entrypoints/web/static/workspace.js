// The workspace and files pages' little JavaScript: "/" focuses the filter or search box, j/k
// move through a table's rows, and uploads stream the chosen file to the API (the bytes go on
// to Den as they arrive).
"use strict";

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.target.closest("input, textarea, select")) return;
  if (event.key === "/") {
    const box = document.getElementById("where") || document.getElementById("search");
    if (box) { event.preventDefault(); box.focus(); }
    return;
  }
  if (event.key !== "j" && event.key !== "k") return;
  // j and k move through the table's rows (their first link), as in the inbox's list.
  const links = [...document.querySelectorAll("table.data tbody tr td:first-child a")];
  const at = links.indexOf(document.activeElement);
  const next = event.key === "j" ? Math.min(at + 1, links.length - 1) : Math.max(at - 1, 0);
  if (links[next]) { event.preventDefault(); links[next].focus(); }
});

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("upload");
  if (!form) return;
  const input = document.getElementById("upload-file");
  const status = document.getElementById("upload-status");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = input.files[0];
    if (!file) return;
    status.classList.remove("error");
    status.textContent = `Uploading ${file.name}…`;
    try {
      const response = await fetch(`/api/v1/files/upload/${encodeURIComponent(file.name)}`, {
        method: "PUT", body: file, credentials: "same-origin",
        headers: { "Content-Type": "application/octet-stream" },
      });
      const data = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error((data.error && data.error.message) || response.statusText);
      window.location.assign("/files?uploaded=1");
    } catch (err) {
      status.classList.add("error");
      status.textContent = `Upload failed: ${err.message}`;
    }
  });
});
