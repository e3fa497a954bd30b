// The inbox's little JavaScript: live updates over SSE, checkpoint answers and the composer
// without a page load, and j/k to move through the list. Everything also works as plain forms.
"use strict";

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
    credentials: "same-origin",
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error((data.error && data.error.message) || response.statusText);
  return data;
}

function showError(anchor, message) {
  let box = anchor.querySelector(".error");
  if (!box) { box = el("p", { class: "error", role: "alert" }); anchor.appendChild(box); }
  box.textContent = message;
}

function checkpointCard(message) {
  const cp = (message.data && message.data.checkpoint) || {};
  const status = message.checkpoint_status || "pending";
  const card = el("div", { class: "checkpoint", "data-checkpoint": message.checkpoint_id,
    "data-task": message.task_id, "data-status": status });
  const title = el("p", { class: "cp-title" });
  title.appendChild(el("strong", {}, cp.title || "Approval needed"));
  title.appendChild(document.createTextNode(" "));
  title.appendChild(el("span", { class: "cp-status" }, status));
  card.appendChild(title);
  if (cp.preview) card.appendChild(el("pre", { class: "cp-preview" }, JSON.stringify(cp.preview, null, 2)));
  const form = el("form", { class: "cp-actions", method: "post",
    action: `/tasks/${message.task_id}/checkpoints/${message.checkpoint_id}` });
  const label = el("label", {}, "Feedback (needed to reject) ");
  label.appendChild(el("input", { name: "feedback", maxlength: "4000" }));
  form.appendChild(label);
  form.appendChild(el("button", { type: "submit", name: "decision", value: "approve", class: "approve" }, "Approve"));
  form.appendChild(el("button", { type: "submit", name: "decision", value: "reject", class: "reject" }, "Reject"));
  card.appendChild(form);
  wireCheckpoint(card);
  return card;
}

function messageItem(message) {
  if (CHAT_KINDS.has(message.kind)) return chatItem(message);  // static/chat.js
  const li = el("li", { class: `message ${message.role} ${message.kind}`, id: `m-${message.message_id}`,
    "data-id": message.message_id });
  const meta = el("div", { class: "meta" });
  meta.appendChild(el("span", { class: "agent" }, message.role === "user" ? "You" : message.agent_id));
  meta.appendChild(document.createTextNode(" "));
  meta.appendChild(el("time", { datetime: message.created_at }, (message.created_at || "").slice(11, 19)));
  if (message.task_id) { meta.appendChild(document.createTextNode(" ")); meta.appendChild(el("a", { href: `/tasks/${message.task_id}` }, "task")); }
  li.appendChild(meta);
  li.appendChild(el("div", { class: "body" }, message.body));
  if (message.kind === "checkpoint") li.appendChild(checkpointCard(message));
  return li;
}

function setCheckpointStatus(card, status) {
  card.dataset.status = status;
  const label = card.querySelector(".cp-status");
  if (label) label.textContent = status;
}

function wireCheckpoint(card) {
  const form = card.querySelector("form");
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const decision = (event.submitter && event.submitter.value) || "approve";
    const feedback = form.querySelector("input[name=feedback]").value.trim();
    const response = decision === "approve"
      ? { type: "approval", approved: true, feedback: feedback || null }
      : { type: "approval", approved: false, feedback };
    try {
      const answered = await api("POST", `/api/v1/tasks/${card.dataset.task}/checkpoints/${card.dataset.checkpoint}`, { response });
      setCheckpointStatus(card, answered.status);
    } catch (err) { showError(card, err.message); }
  });
}

function insertMessage(list, message) {
  if (document.getElementById(`m-${message.message_id}`)) {
    const card = document.querySelector(`#m-${message.message_id} .checkpoint`);
    if (card && message.checkpoint_status) setCheckpointStatus(card, message.checkpoint_status);
    return;
  }
  const item = messageItem(message);
  // Keep the thread in time order even if entries arrive out of it.
  const later = [...list.children].find((li) => {
    const t = li.querySelector("time");
    return t && t.getAttribute("datetime") > message.created_at;
  });
  list.insertBefore(item, later || null);
}

function updateProgress(entry) {
  const progress = document.getElementById("progress");
  if (!progress || !entry.task_id || !entry.data.event) return;
  let link = progress.querySelector(`[data-task="${entry.task_id}"]`);
  if (!link) {
    link = el("a", { href: `/tasks/${entry.task_id}`, "data-task": entry.task_id }, "task: ");
    link.appendChild(el("span", { class: "status" }));
    progress.appendChild(link);
  }
  const event = entry.data.event;
  link.querySelector(".status").textContent = event.step_id ? `${event.status} (${event.kind} ${event.step_id})` : event.status;
}

function thread() {
  const conversation = document.body.dataset.conversation;
  const list = document.getElementById("messages");
  document.querySelectorAll(".checkpoint").forEach(wireCheckpoint);
  const composer = document.getElementById("composer");
  const text = document.getElementById("text");
  composer.addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = text.value.trim();
    if (!value) return;
    try {
      const sent = await api("POST", `/api/v1/chat/${conversation}`, { text: value, message_id: newMessageId() });
      text.value = "";
      insertMessage(list, sent.message);
      replyRunning(sent.reply_id);
    } catch (err) { showError(composer, err.message); }
  });
  wireChat(composer, text);
  live((entry) => {
    if (entry.conversation_id !== conversation) return;
    if (entry.data.message && !chatMessage(list, entry.data.message)) insertMessage(list, entry.data.message);
    if (entry.data.checkpoint && entry.data.checkpoint.message_id) {
      const card = document.querySelector(`#m-${entry.data.checkpoint.message_id} .checkpoint`);
      if (card) setCheckpointStatus(card, entry.data.checkpoint.status);
    }
    updateProgress(entry);
  }, (event) => { if (event.conversation_id === conversation) chatEvent(list, event); });
}

function inbox() {
  const list = document.getElementById("conversations");
  const goal = document.getElementById("new-goal");
  if (goal) goal.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); goal.form.requestSubmit(); }
  });
  live((entry) => {
    const c = entry.data.conversation;
    if (!c || c.read_status === "archived") return;
    const empty = document.getElementById("empty");
    if (empty) empty.remove();
    let row = list.querySelector(`[data-id="${c.conversation_id}"]`);
    if (!row) {
      row = el("li", { "data-id": c.conversation_id });
      row.appendChild(el("a", { href: `/c/${c.conversation_id}` }));
    }
    row.className = `conversation ${c.read_status} ${c.priority}`;
    const link = row.querySelector("a");
    link.textContent = "";
    link.appendChild(el("span", { class: "title" }, c.title || "Untitled"));
    if (c.priority === "attention") link.appendChild(el("span", { class: "badge attention" }, "needs you"));
    if (c.read_status === "unread") link.appendChild(el("span", { class: "badge unread" }, "unread"));
    link.appendChild(el("span", { class: "preview" }, c.last_preview));
    list.prepend(row);
  });
  document.addEventListener("keydown", (event) => {
    if (event.target.closest("input, textarea")) return;
    if (event.key !== "j" && event.key !== "k") return;
    const links = [...list.querySelectorAll("a")];
    const at = links.indexOf(document.activeElement);
    const next = event.key === "j" ? Math.min(at + 1, links.length - 1) : Math.max(at - 1, 0);
    if (links[next]) links[next].focus();
  });
}

function live(onEntry, onChat) {
  // Starts where the page's own reads began; EventSource reconnects by itself and sends
  // Last-Event-ID, so nothing is missed in between.
  const after = document.body.dataset.feedAfter;
  const source = new EventSource("/api/v1/stream" + (after ? `?after=${encodeURIComponent(after)}` : ""));
  const handle = (event) => onEntry(JSON.parse(event.data));
  for (const kind of ["message", "progress", "conversation"]) source.addEventListener(kind, handle);
  // A reply as it is typed: transient, without an id (Last-Event-ID stays on the feed).
  if (onChat) source.addEventListener("chat", (event) => onChat(JSON.parse(event.data)));
  window.fluxosStream = source;
}

document.addEventListener("DOMContentLoaded", () => {
  const page = document.body.dataset.page;
  if (page === "thread") thread();
  if (page === "inbox") inbox();
});
