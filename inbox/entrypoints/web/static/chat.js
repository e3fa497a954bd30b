// Chat with Flux in a thread: the reply drawn as it is typed (the live stream's `chat`
// events), tool calls and results as compact cards, approvals with their buttons, and Stop.
// The same pieces also arrive as thread messages (with the same ids), which win: a reply
// whose live events were missed (a reconnect, a reload) still ends complete.
"use strict";

const CHAT_KINDS = new Set(["tool_call", "tool_result", "chat_approval", "chat_reply", "chat_error"]);

function chatEl(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) node.setAttribute(k, v);
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

async function chatApi(method, path, body) {
  const response = await fetch(path, {
    method, credentials: "same-origin",
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error((data.error && data.error.message) || response.statusText);
  return data;
}

function chatShell(message) {
  const d = message.data || {};
  const li = chatEl("li", { class: `message agent ${message.kind}`, id: `m-${message.message_id}`,
    "data-id": message.message_id, "data-reply": d.reply_id, "data-seq": d.seq });
  const meta = chatEl("div", { class: "meta" });
  meta.appendChild(chatEl("span", { class: "agent" }, "Flux"));
  meta.appendChild(document.createTextNode(" "));
  meta.appendChild(chatEl("time", { datetime: message.created_at }, (message.created_at || "").slice(11, 19)));
  li.appendChild(meta);
  return li;
}

function setApprovalStatus(card, status) {
  card.dataset.status = status;
  const label = card.querySelector(".cp-status");
  if (label) label.textContent = status;
}

function wireApproval(card) {
  const form = card.querySelector("form");
  if (!form || form.dataset.wired) return;
  form.dataset.wired = "1";
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const approved = !(event.submitter && event.submitter.value === "reject");
    const feedback = form.querySelector("input[name=feedback]").value.trim() || null;
    const conversation = document.body.dataset.conversation;
    try {
      const answer = await chatApi("POST",
        `/api/v1/chat/${conversation}/approvals/${card.dataset.approval}`, { approved, feedback });
      setApprovalStatus(card, answer.status);
    } catch (err) { showError(card, err.message); }
  });
}

// A thread message of Flux's, as the server's chat_message.html draws it.
function chatItem(message) {
  const d = message.data || {};
  const li = chatShell(message);
  if (message.kind === "tool_call") {
    const card = chatEl("div", { class: "tool-card call" });
    card.appendChild(chatEl("span", { class: "tool-name" }, d.call.name));
    card.appendChild(document.createTextNode(" "));
    card.appendChild(chatEl("code", { class: "tool-args" }, JSON.stringify(d.call.arguments)));
    li.appendChild(card);
  } else if (message.kind === "tool_result") {
    const card = chatEl("div", { class: `tool-card result ${d.ok ? "ok" : "failed"}` });
    card.appendChild(chatEl("span", { class: "tool-name" }, d.name));
    card.appendChild(document.createTextNode(" "));
    card.appendChild(chatEl("span", { class: "tool-status" }, d.ok ? "ok" : `failed: ${d.error ? d.error.message : ""}`));
    if (d.ok) {
      const more = chatEl("details");
      more.appendChild(chatEl("summary", {}, "result"));
      more.appendChild(chatEl("pre", {}, JSON.stringify(d.result, null, 2)));
      card.appendChild(more);
    }
    li.appendChild(card);
  } else if (message.kind === "chat_approval") {
    const card = chatEl("div", { class: "chat-approval", "data-approval": d.approval.approval_id, "data-status": d.status });
    const title = chatEl("p", { class: "cp-title" });
    title.appendChild(chatEl("strong", {}, "Flux asks before it acts:"));
    title.appendChild(document.createTextNode(" "));
    title.appendChild(chatEl("span", { class: "summary" }, message.body));
    title.appendChild(document.createTextNode(" "));
    title.appendChild(chatEl("span", { class: "cp-status" }, d.status));
    card.appendChild(title);
    card.appendChild(chatEl("pre", { class: "cp-preview" }, `${d.approval.tool} ${JSON.stringify(d.approval.arguments, null, 2)}`));
    const form = chatEl("form", { class: "cp-actions", method: "post",
      action: `/c/${message.conversation_id}/approvals/${d.approval.approval_id}` });
    const label = chatEl("label", {}, "Feedback (optional) ");
    label.appendChild(chatEl("input", { name: "feedback", maxlength: "4000" }));
    form.appendChild(label);
    form.appendChild(chatEl("button", { type: "submit", name: "decision", value: "approve", class: "approve" }, "Approve"));
    form.appendChild(chatEl("button", { type: "submit", name: "decision", value: "reject", class: "reject" }, "Reject"));
    card.appendChild(form);
    wireApproval(card);
    li.appendChild(card);
  } else if (message.kind === "chat_error") {
    li.appendChild(chatEl("div", { class: "body error", "data-code": d.code }, message.body));
  } else {
    li.dataset.status = d.status || "complete";
    li.appendChild(chatEl("div", { class: "body" }, message.body));
  }
  return li;
}

// A thread message arrived (or changed): true when chat handled it.
function chatMessage(list, message) {
  if (!CHAT_KINDS.has(message.kind)) return false;
  const d = message.data || {};
  const existing = document.getElementById(`m-${message.message_id}`);
  if (existing) {
    const card = existing.querySelector(".chat-approval");
    if (card && d.status) setApprovalStatus(card, d.status);
    return true;
  }
  if (message.kind === "chat_reply" || message.kind === "chat_error") {
    finished.add(d.reply_id);
    const bubble = list.querySelector(`li.streaming[data-reply="${d.reply_id}"]`);
    if (bubble) bubble.remove();  // the lasting text replaces what was drawn live
    replyEnded(d.reply_id);
  }
  insertMessage(list, message);
  return true;
}

const replies = new Map();  // reply id -> { deltas: Map(seq -> text), bubble }
const finished = new Set();  // replies that ended for good: a late copy of a delta draws nothing

function stopButton() { return document.getElementById("stop"); }

function replyRunning(replyId) {
  const stop = stopButton();
  if (stop) { stop.hidden = false; stop.dataset.reply = replyId; }
}

function replyEnded(replyId) {
  const stop = stopButton();
  if (stop && stop.dataset.reply === replyId) { stop.hidden = true; delete stop.dataset.reply; }
}

function bubbleOf(list, event) {
  let state = replies.get(event.reply_id);
  if (!state) { state = { deltas: new Map(), bubble: null }; replies.set(event.reply_id, state); }
  if (!state.bubble || !state.bubble.isConnected) {
    const li = chatShell({ kind: "chat_reply", message_id: `live-${event.reply_id}`,
      created_at: event.at, data: { reply_id: event.reply_id, seq: event.seq } });
    li.classList.add("streaming");
    li.dataset.status = "streaming";
    li.appendChild(chatEl("div", { class: "body", "aria-live": "polite" }));
    list.appendChild(li);
    state.bubble = li;
  }
  state.bubble.querySelector("time").setAttribute("datetime", event.at);
  return state;
}

function drawDeltas(state) {
  const seqs = [...state.deltas.keys()].sort((a, b) => a - b);
  state.bubble.querySelector(".body").textContent = seqs.map((s) => state.deltas.get(s)).join("");
}

// One event of a reply, live (`chat` on the stream).
function chatEvent(list, event) {
  const detail = event.detail;
  if (event.kind === "started" || event.kind === "delta") {
    if (finished.has(event.reply_id)) return;
    const state = bubbleOf(list, event);
    if (event.kind === "started" && detail.discard_after_seq !== null && detail.discard_after_seq !== undefined) {
      for (const seq of [...state.deltas.keys()]) if (seq > detail.discard_after_seq) state.deltas.delete(seq);
    }
    if (event.kind === "delta") state.deltas.set(event.seq, detail.text);
    drawDeltas(state);
    replyRunning(event.reply_id);
    return;
  }
  const lasting = { message_id: event.id, conversation_id: event.conversation_id, role: "agent",
    agent_id: "flux", created_at: event.at, data: { reply_id: event.reply_id, seq: event.seq } };
  if (event.kind === "tool_call") Object.assign(lasting, { kind: "tool_call", body: detail.call.name, data: { ...lasting.data, call: detail.call } });
  if (event.kind === "tool_result") Object.assign(lasting, { kind: "tool_result", body: detail.name,
    data: { ...lasting.data, name: detail.name, ok: detail.ok, result: detail.result, error: detail.error } });
  if (event.kind === "approval_needed") Object.assign(lasting, { kind: "chat_approval", body: detail.approval.summary,
    data: { ...lasting.data, approval: detail.approval, status: "pending" } });
  if (event.kind === "done" || event.kind === "cancelled") Object.assign(lasting, { kind: "chat_reply",
    body: event.kind === "done" ? detail.text : detail.partial_text,
    data: { ...lasting.data, status: event.kind === "done" ? "complete" : "cancelled" } });
  if (event.kind === "error") Object.assign(lasting, { kind: "chat_error", body: detail.error.message,
    data: { ...lasting.data, code: detail.error.code } });
  const state = replies.get(event.reply_id);
  const bubble = state && state.bubble && state.bubble.isConnected ? state.bubble : null;
  if (!lasting.kind || document.getElementById(`m-${lasting.message_id}`)) {
    if (["done", "cancelled", "error"].includes(event.kind)) {
      finished.add(event.reply_id);
      if (bubble) bubble.remove();  // the thread message is there already
    }
    if (["approval_needed", "done", "cancelled", "error"].includes(event.kind)) replyEnded(event.reply_id);
    return;
  }
  if (lasting.kind === "chat_reply" || lasting.kind === "chat_error") {
    finished.add(event.reply_id);
    if (bubble) bubble.remove();
    replyEnded(event.reply_id);
    insertMessage(list, lasting);
    return;
  }
  const item = chatItem(lasting);
  // Tool cards go above the text being typed, which stays the reply's last item.
  if (bubble) list.insertBefore(item, bubble); else list.appendChild(item);
  if (event.kind === "approval_needed") {
    if (bubble && !bubble.querySelector(".body").textContent) bubble.remove();
    replyEnded(event.reply_id);
  } else {
    replyRunning(event.reply_id);
  }
}

function wireChat(composer, text) {
  document.querySelectorAll(".chat-approval").forEach(wireApproval);
  const stop = stopButton();
  if (stop) {
    stop.addEventListener("click", async () => {
      const conversation = document.body.dataset.conversation;
      try {
        await chatApi("POST", `/api/v1/chat/${conversation}/cancel`, stop.dataset.reply ? { reply_id: stop.dataset.reply } : {});
      } catch (err) { showError(composer, err.message); }
    });
  }
  // Enter sends, Shift+Enter starts a new line (and nothing fires mid-composition of a character).
  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });
}

function newMessageId() {
  return window.crypto && crypto.randomUUID ? crypto.randomUUID() : undefined;
}
