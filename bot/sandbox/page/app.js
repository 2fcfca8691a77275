// warroom sandbox page: what one person sees of the local Slack workspace, live.
// State comes from /api/events (Server-Sent Events: a snapshot, then changes); what the
// person does goes to /api/* and from there through the local Slack to the bot.
// Every piece of text is put into the page with textContent / text nodes: no innerHTML.
"use strict";

(() => {
  const S = {
    me: "U0ALICE",
    users: {}, groups: {}, channels: {},
    messages: new Map(),           // "channel ts" -> message (ephemerals included)
    current: "C0GENERAL",
    view: null,
    sandbox: { speed: 1, clock: Date.now() / 1000, real: Date.now() / 1000, ladder: [] },
    unread: {},
    openThreads: new Set(),
    es: null,
    ready: false,
  };
  const $ = (id) => document.getElementById(id);
  const EMOJI = {
    white_check_mark: "✅", heavy_check_mark: "✔️", warning: "⚠️", rotating_light: "🚨",
    red_circle: "🔴", large_orange_circle: "🟠", large_yellow_circle: "🟡", large_blue_circle: "🔵",
    large_green_circle: "🟢", green_circle: "🟢", white_circle: "⚪", black_circle: "⚫",
    pushpin: "📌", eyes: "👀", "+1": "👍", thumbsup: "👍", "-1": "👎", fire: "🔥",
    hourglass: "⌛", hourglass_flowing_sand: "⏳", pager: "📟", mega: "📣", loudspeaker: "📢",
    memo: "📝", page_facing_up: "📄", arrow_up_down: "↕️", arrow_double_up: "⏫", x: "❌",
    bell: "🔔", mag: "🔍", tada: "🎉", rocket: "🚀", zap: "⚡", construction: "🚧",
    information_source: "ℹ️", question: "❓", exclamation: "❗", sos: "🆘", stopwatch: "⏱️",
    hammer_and_wrench: "🛠️", speech_balloon: "💬", telephone_receiver: "📞", clock1: "🕐",
    wave: "👋", raised_hands: "🙌", pray: "🙏", siren: "🚨", chart_with_upwards_trend: "📈",
  };
  const REACTIONS = ["pushpin", "eyes", "white_check_mark", "+1"];

  // ------------------------------------------------------------------ DOM helpers

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") el.className = value;
      else if (key === "dataset") Object.assign(el.dataset, value);
      else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
      else el.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }
  const frag = (...nodes) => { const f = document.createDocumentFragment(); f.append(...nodes.flat()); return f; };
  const key = (m) => `${m.channel} ${m.ts}`;
  const isReply = (m) => m.thread_ts && m.thread_ts !== m.ts;
  const userName = (id) => (S.users[id] ? S.users[id].name : id);

  function safeUrl(raw) {
    try {
      const url = new URL(raw);
      return ["http:", "https:", "mailto:"].includes(url.protocol) ? url.href : null;
    } catch (_) { return null; }
  }

  // ------------------------------------------------------------------ text

  function decode(s) {
    return String(s).replace(/&(lt|gt|amp);/g, (m) => ({ "&lt;": "<", "&gt;": ">", "&amp;": "&" })[m]);
  }
  function emojify(s) {
    return String(s).replace(/:([a-z0-9_+-]+):/g, (m, name) => EMOJI[name] || m);
  }
  function plain(obj) {
    if (!obj) return document.createTextNode("");
    const text = typeof obj === "string" ? obj : obj.text || "";
    return document.createTextNode(obj.emoji === false ? text : emojify(text));
  }
  function renderText(obj) {
    if (!obj) return document.createTextNode("");
    return obj.type === "mrkdwn" ? mrkdwn(obj.text || "") : plain(obj);
  }

  const INLINE = String.raw`(\x60[^\x60\n]+\x60)|(<[^<>\n]+>)|((?<![\w*])\*(?!\s)[^*\n]+?\*(?![\w*]))|((?<![\w_])_(?!\s)[^_\n]+?_(?![\w_]))|((?<![\w~])~(?!\s)[^~\n]+?~(?![\w~]))`;

  // Slack mrkdwn: ```code```, `code`, *bold*, _italic_, ~strike~, <@U..>, <#C..>, <!subteam^S..>, <url|label>
  function mrkdwn(text) {
    const out = document.createDocumentFragment();
    const parts = String(text).split("```");
    parts.forEach((part, i) => {
      if (i % 2 === 1 && i < parts.length - 1) out.append(h("pre", { class: "code-block" }, decode(part.replace(/^\n/, ""))));
      else out.append(quoted(i % 2 === 1 ? "```" + part : part));
    });
    return out;
  }
  function quoted(text) {  // lines starting with ">" (sent as "&gt;") are a block quote
    const out = document.createDocumentFragment();
    const lines = text.split("\n");
    let quote = null;
    lines.forEach((line, i) => {
      const m = /^(?:&gt;|>)\s?(.*)$/.exec(line);
      if (m) {
        if (!quote) { quote = h("blockquote", { class: "quote" }); out.append(quote); }
        if (quote.childNodes.length) quote.append("\n");
        quote.append(inline(m[1]));
      } else {
        quote = null;
        out.append(inline(line + (i < lines.length - 1 && !/^(?:&gt;|>)/.test(lines[i + 1]) ? "\n" : "")));
      }
    });
    return out;
  }
  function inline(text) {
    const out = document.createDocumentFragment();
    const re = new RegExp(INLINE, "g");
    let last = 0;
    let m;
    while ((m = re.exec(text)) !== null) {
      if (m.index > last) out.append(emojify(decode(text.slice(last, m.index))));
      const tok = m[0];
      if (m[1]) out.append(h("code", {}, decode(tok.slice(1, -1))));
      else if (m[2]) out.append(angle(tok.slice(1, -1)));
      else if (m[3]) out.append(h("b", {}, inline(tok.slice(1, -1))));
      else if (m[4]) out.append(h("i", {}, inline(tok.slice(1, -1))));
      else out.append(h("s", {}, inline(tok.slice(1, -1))));
      last = m.index + tok.length;
    }
    if (last < text.length) out.append(emojify(decode(text.slice(last))));
    return out;
  }
  function angle(inner) {
    const bar = inner.indexOf("|");
    const target = bar < 0 ? inner : inner.slice(0, bar);
    const label = bar < 0 ? "" : decode(inner.slice(bar + 1));
    if (target.startsWith("@")) {
      const id = target.slice(1);
      return h("span", { class: "mention", dataset: { user: id } }, "@" + (S.users[id] ? S.users[id].name : label || id));
    }
    if (target.startsWith("#")) return channelLink(target.slice(1), label);
    if (target.startsWith("!subteam^")) {
      const g = S.groups[target.slice(9)];
      return h("span", { class: "mention" }, "@" + (g ? g.handle : (label || target.slice(9)).replace(/^@/, "")));
    }
    if (target.startsWith("!date^")) return document.createTextNode(label || target);
    if (target.startsWith("!")) return h("span", { class: "mention" }, "@" + (label || target.slice(1)));
    const url = safeUrl(decode(target));
    if (!url) return document.createTextNode(label || decode(target));
    const archive = /^https:\/\/[a-z0-9-]+\.slack\.com\/archives\/([A-Z0-9]+)/.exec(url);
    if (archive && S.channels[archive[1]]) return channelLink(archive[1], label);
    return h("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, label || decode(target));
  }
  function channelLink(id, label) {
    const ch = S.channels[id];
    const name = ch ? (ch.is_im ? "warroom" : ch.name) : (label || id);
    return h("a", { class: "channel-link", href: "#", onclick: (e) => { e.preventDefault(); if (S.channels[id]) selectChannel(id); } }, "#" + name);
  }

  // ------------------------------------------------------------------ time

  function simNow() {
    return S.sandbox.clock + (Date.now() / 1000 - S.sandbox.real) * S.sandbox.speed;
  }
  function simAt(realSeconds) {  // the bot's clock at a wall-clock time (message ts)
    return S.sandbox.clock + (realSeconds - S.sandbox.real) * S.sandbox.speed;
  }
  function hhmmss(seconds) {
    const d = new Date(seconds * 1000);
    return d.toISOString().slice(11, 19);
  }
  function tickClock() {
    $("clock-time").textContent = `${new Date(simNow() * 1000).toISOString().slice(0, 10)} ${hhmmss(simNow())} UTC`;
  }

  // ------------------------------------------------------------------ Block Kit

  function renderBlocks(blocks, ctx) {
    return frag((blocks || []).map((b) => renderBlock(b, ctx)));
  }
  function renderBlock(b, ctx) {
    const attrs = { dataset: { blockId: b.block_id || "", blockType: b.type } };
    switch (b.type) {
      case "header":
        return h("div", { class: "bk-header", ...attrs }, plain(b.text));
      case "section": {
        const main = h("div", { class: "bk-section-main" },
          b.text ? h("div", { class: "text" }, renderText(b.text)) : null,
          b.fields ? h("div", { class: "bk-fields" }, b.fields.map((f) => h("div", { class: "bk-field" }, renderText(f)))) : null);
        return h("div", { class: "bk-section", ...attrs }, main, b.accessory ? renderElement(b.accessory, b, ctx) : null);
      }
      case "context":
        return h("div", { class: "bk-context", ...attrs }, (b.elements || []).map((e) =>
          e.type === "image" ? imageLink(e.image_url, e.alt_text) : h("span", { class: "text" }, renderText(e))));
      case "divider":
        return h("hr", { class: "bk-divider", ...attrs });
      case "actions":
        return h("div", { class: "bk-actions", ...attrs }, (b.elements || []).map((e) => renderElement(e, b, ctx)));
      case "image":
        return h("div", { class: "bk-image", ...attrs }, imageLink(b.image_url, (b.title && b.title.text) || b.alt_text));
      case "rich_text":
        return h("div", { class: "text", ...attrs }, richText(b.elements || []));
      case "input":
        return h("div", { class: "bk-unknown", ...attrs }, plain(b.label));
      default:
        return h("div", { class: "bk-unknown", ...attrs }, `[${b.type} block]`);
    }
  }
  function richText(elements) {
    return elements.map((el) => {
      if (Array.isArray(el.elements)) {
        const inner = richText(el.elements);
        if (el.type === "rich_text_preformatted") return h("pre", { class: "code-block" }, inner);
        if (el.type === "rich_text_quote") return h("blockquote", {}, inner);
        return h("div", {}, inner);
      }
      if (el.type === "text") {
        let node = document.createTextNode(el.text || "");
        const style = el.style || {};
        if (style.code) node = h("code", {}, node);
        if (style.bold) node = h("b", {}, node);
        if (style.italic) node = h("i", {}, node);
        if (style.strike) node = h("s", {}, node);
        return node;
      }
      if (el.type === "user") return angle("@" + el.user_id);
      if (el.type === "channel") return angle("#" + el.channel_id);
      if (el.type === "usergroup") return angle("!subteam^" + el.usergroup_id);
      if (el.type === "emoji") return document.createTextNode(EMOJI[el.name] || `:${el.name}:`);
      if (el.type === "link") return angle(`${el.url}|${el.text || el.url}`);
      return document.createTextNode("");
    });
  }
  function imageLink(url, alt) {
    const safe = safeUrl(url || "");
    const label = `🖼 ${alt || "image"}`;
    return safe ? h("a", { href: safe, target: "_blank", rel: "noopener noreferrer", class: "image-link" }, label)
      : h("span", { class: "image-link" }, label);
  }
  function options(el) {
    const out = [...(el.options || [])];
    for (const g of el.option_groups || []) out.push(...(g.options || []));
    return out;
  }
  function renderElement(el, block, ctx) {
    const data = { actionId: el.action_id || "", blockId: block.block_id || "" };
    if (el.type === "button") {
      const button = h("button", { type: "button", class: `bk-button ${el.style || ""}`.trim(), dataset: data },
        plain(el.text));
      button.addEventListener("click", async () => {
        const url = el.url && safeUrl(el.url);
        if (url) window.open(url, "_blank", "noopener");
        button.disabled = true;
        try { await click(el, block, ctx); } finally { button.disabled = false; }
      });
      return button;
    }
    if (["static_select", "overflow", "external_select"].includes(el.type)) {
      const select = h("select", { class: "bk-select", dataset: data },
        h("option", { value: "" }, el.type === "overflow" ? "⋯" : (el.placeholder ? plain(el.placeholder) : "Select")),
        options(el).map((o) => h("option", { value: o.value }, plain(o.text))));
      select.addEventListener("change", async () => {
        if (!select.value) return;
        await click(el, block, ctx, select.value);
        if (el.type === "overflow") select.value = "";
      });
      return select;
    }
    if (el.type === "image") return imageLink(el.image_url, el.alt_text);
    return h("span", { class: "bk-unknown" }, `[${el.type}]`);
  }

  // ------------------------------------------------------------------ API

  async function api(path, body) {
    let data = {};
    try {
      const response = await fetch(path, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ user: S.me, ...body }),
      });
      data = await response.json().catch(() => ({}));
      if (!response.ok) notice(data.error || `${path}: HTTP ${response.status}`);
      else if (data.timed_out) notice("The bot did not answer within 3 seconds (Slack would show: operation_timeout).");
    } catch (err) {
      notice(`The sandbox is not reachable: ${err.message}`);
    }
    return data;
  }
  function click(el, block, ctx, value) {
    const body = { action_id: el.action_id, block_id: block.block_id };
    if (value !== undefined) body.value = value;
    if (ctx.viewId) body.view_id = ctx.viewId;
    else { body.channel = ctx.channel; body.message_ts = ctx.ts; }
    return api("/api/click", body);
  }
  let noticeTimer = null;
  function notice(text) {
    const el = $("notice");
    el.textContent = text;
    el.hidden = false;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => { el.hidden = true; }, 6000);
  }

  // ------------------------------------------------------------------ live state

  function connect() {
    if (S.es) S.es.close();
    const es = new EventSource(`/api/events?user=${encodeURIComponent(S.me)}`);
    S.es = es;
    es.onmessage = (event) => apply(JSON.parse(event.data));
    es.onopen = () => setConnection("live", "live");
    es.onerror = () => setConnection("down", "reconnecting…");
  }
  function setConnection(state, text) {
    const el = $("connection");
    el.dataset.state = state;
    el.textContent = text;
  }
  function apply(change) {
    switch (change.type) {
      case "snapshot": return loadSnapshot(change);
      case "message": return upsertMessage(change.message);
      case "message_deleted": return deleteMessage(change.channel, change.ts);
      case "channel": S.channels[change.channel.id] = change.channel; renderSidebar(); if (change.channel.id === S.current) renderHeader(); return;
      case "view": S.view = change.view; return renderModal();
      default: return undefined;
    }
  }
  function loadSnapshot(snap) {
    S.me = snap.me;
    S.users = Object.fromEntries(snap.users.map((u) => [u.id, u]));
    S.groups = Object.fromEntries(snap.usergroups.map((g) => [g.id, g]));
    S.channels = Object.fromEntries(snap.channels.map((c) => [c.id, c]));
    S.messages = new Map(snap.messages.map((m) => [key(m), m]));
    S.sandbox = snap.sandbox;
    S.view = snap.view;
    if (!S.channels[S.current]) S.current = Object.keys(S.channels)[0];
    S.ready = true;
    document.body.dataset.me = S.me;
    $("speed").textContent = `${S.sandbox.speed}×`;
    tickClock();
    renderSwitcher();
    renderLadder();
    renderSidebar();
    renderChannel();
    renderModal();
  }

  // ------------------------------------------------------------------ sidebar

  function renderSwitcher() {
    const select = $("user-switcher");
    select.replaceChildren(...Object.values(S.users).filter((u) => !u.is_bot).map((u) => {
      const level = S.sandbox.ladder.findIndex((l) => l.users.includes(u.id));
      const role = level >= 0 ? ` (${S.sandbox.ladder[level].name})` : "";
      return h("option", { value: u.id, selected: u.id === S.me }, `${u.name}${role}`);
    }));
  }
  function renderLadder() {
    $("ladder").hidden = !S.sandbox.ladder.length;
    $("ladder-list").replaceChildren(...S.sandbox.ladder.map((level) => h("li", {},
      `${level.name}: ${level.users.map(userName).join(", ") || "nobody"}`,
      level.after ? h("span", { class: "after" }, ` · after ${level.after / 60}m`) : null)));
  }
  function isResolved(ch) {
    // the pinned war-room card of a resolved incident has no Resolve button any more
    for (const m of S.messages.values()) {
      if (m.channel === ch.id && m.pinned && (m.blocks || []).some((b) => b.type === "header")) {
        return !JSON.stringify(m.blocks).includes('"incident_resolve"');
      }
    }
    return false;
  }
  function sidebarItem(ch) {
    const sigil = ch.kind === "dm" ? "●" : ch.kind === "announce" ? "📣" : ch.kind === "incident" ? "🚨" : "#";
    const name = ch.kind === "dm" ? "warroom" : ch.name;
    const classes = [ch.id === S.current ? "active" : "", S.unread[ch.id] ? "unread" : "",
      ch.is_member ? "" : "not-member"].filter(Boolean).join(" ");
    return h("li", { class: ch.kind === "incident" && isResolved(ch) ? "resolved" : null },
      h("a", { href: "#", class: classes, title: ch.kind === "dm" ? "warroom (direct message)" : `#${name}`,
        dataset: { channelId: ch.id, channelName: name },
        onclick: (e) => { e.preventDefault(); selectChannel(ch.id); } },
      h("span", { class: "sigil" }, sigil), h("span", { class: "name" }, name),
      S.unread[ch.id] ? h("span", { class: "badge" }, String(S.unread[ch.id])) : null));
  }
  let sidebarShown = "";
  let tipsSeen = false;
  function renderSidebar() {
    const all = Object.values(S.channels).sort((a, b) => a.created - b.created || a.name.localeCompare(b.name));
    const signature = JSON.stringify([S.current, all.map((c) => [c.id, c.name, c.is_member, S.unread[c.id] || 0,
      c.kind === "incident" && isResolved(c)])]);
    if (signature === sidebarShown) return;  // unchanged: keep the DOM (and its hover state)
    sidebarShown = signature;
    const fill = (id, list, empty) => $(id).replaceChildren(...(list.length ? list.map(sidebarItem) : [h("li", { class: "empty" }, empty)]));
    fill("channels", all.filter((c) => c.kind === "channel" || c.kind === "announce"), "none");
    const incidents = all.filter((c) => c.kind === "incident");
    fill("incidents", incidents, "none yet: declare one");
    if (incidents.length && !tipsSeen) { tipsSeen = true; $("tips").hidden = true; }  // they found their way
    fill("dms", all.filter((c) => c.kind === "dm"), "none yet");
  }
  function selectChannel(id) {
    S.current = id;
    delete S.unread[id];
    renderSidebar();
    renderChannel();
    $("message-input").focus();
  }

  // ------------------------------------------------------------------ messages

  function channelMessages(id) {
    return [...S.messages.values()].filter((m) => m.channel === id).sort((a, b) => Number(a.ts) - Number(b.ts));
  }
  function renderHeader() {
    const ch = S.channels[S.current];
    if (!ch) return;
    const name = ch.is_im ? "warroom (direct message)" : `#${ch.name}`;
    $("channel-title").textContent = name;
    const pins = channelMessages(ch.id).filter((m) => m.pinned).length;
    const bits = [];
    if (!ch.is_im) bits.push(`${ch.members.filter((u) => !(S.users[u] || {}).is_bot).length} people`);
    if (pins) bits.push(`📌 ${pins} pinned`);
    if (ch.kind === "announce") bits.push("announcements");
    if (ch.topic) bits.push(ch.topic);
    $("channel-meta").textContent = bits.join(" · ");
    const member = ch.is_im || ch.is_member;
    $("join-bar").hidden = member;
    $("join-name").textContent = name;
    $("message-input").placeholder = ch.is_im ? "Message warroom" : `Message #${ch.name}, or /incident …`;
  }
  function renderChannel() {
    renderHeader();
    const box = $("messages");
    const all = channelMessages(S.current);
    box.replaceChildren(...all.filter((m) => !isReply(m)).map((m) => renderRow(m, all)));
    box.scrollTop = box.scrollHeight;
  }
  function renderRow(m, all) {
    const row = h("div", { class: rowClass(m), dataset: { ts: m.ts } }, renderMessage(m));
    if (!m.ephemeral) row.append(renderThread(m, all || channelMessages(m.channel)));
    return row;
  }
  function rowClass(m) {
    return ["row", m.pinned ? "pinned" : "", m.ephemeral ? "ephemeral" : ""].filter(Boolean).join(" ");
  }
  function avatar(m) {
    const u = S.users[m.user];
    if (m.is_bot) return h("div", { class: "avatar bot", "aria-hidden": "true" }, "w");
    const index = Object.keys(S.users).indexOf(m.user) % 4;
    return h("div", { class: `avatar u${index < 0 ? 0 : index}`, "aria-hidden": "true" }, (u ? u.name : "?").slice(0, 1).toUpperCase());
  }
  function renderMessage(m) {
    const ctx = { channel: m.channel, ts: m.ts, ephemeral: !!m.ephemeral };
    const content = m.blocks && m.blocks.length ? renderBlocks(m.blocks, ctx) : h("div", { class: "text" }, mrkdwn(m.text || ""));
    const body = h("div", { class: "body" },
      h("div", { class: "meta" },
        h("span", { class: "author" }, m.is_bot ? "warroom" : userName(m.user)),
        m.is_bot ? h("span", { class: "app-tag" }, "APP") : null,
        h("span", { class: "time", title: `wall clock ${new Date(Number(m.ts) * 1000).toISOString()}` }, hhmmss(simAt(Number(m.ts)))),
        m.pinned ? h("span", { class: "tag pin" }, "📌 Pinned") : null,
        m.ephemeral ? h("span", { class: "tag only-you" }, "Only visible to you") : null),
      content,
      m.edited ? h("span", { class: "edited" }, "(edited)") : null,
      m.files && m.files.length ? h("div", { class: "files" }, m.files.map((f) => `📄 ${f}`).join("  ")) : null,
      renderReactions(m));
    const message = h("div", { class: "message", dataset: { ts: m.ts } }, avatar(m), body);
    if (!m.ephemeral) message.append(hoverActions(m));
    return message;
  }
  function renderReactions(m) {
    if (!m.reactions || !m.reactions.length) return null;
    return h("div", { class: "reactions" }, m.reactions.map((r) => h("button", {
      type: "button", class: `reaction${r.users.includes(S.me) ? " mine" : ""}`, dataset: { reaction: r.name },
      title: r.users.map(userName).join(", "),
      onclick: () => react(m, r.name),
    }, `${EMOJI[r.name] || `:${r.name}:`} ${r.count}`)));
  }
  function hoverActions(m) {
    return h("div", { class: "hover-actions" }, REACTIONS.map((name) => h("button", {
      type: "button", title: `React with :${name}:`, dataset: { react: name }, onclick: () => react(m, name),
    }, EMOJI[name] || name)), isReply(m) ? null : h("button", {
      type: "button", title: "Reply in thread", onclick: () => { S.openThreads.add(m.ts); refreshThread(m.channel, m.ts, true); },
    }, "💬"));
  }
  function react(m, name) {
    const mine = (m.reactions || []).some((r) => r.name === name && r.users.includes(S.me));
    if (mine) { notice(`You already reacted with :${name}:`); return; }
    api("/api/react", { channel: m.channel, ts: m.ts, name });
  }
  function renderThread(parent, all) {
    const replies = all.filter((m) => m.thread_ts === parent.ts && m.ts !== parent.ts);
    const open = S.openThreads.has(parent.ts);
    const wrap = h("div", { class: "thread", dataset: { threadTs: parent.ts } });
    if (replies.length) {
      wrap.append(h("button", { type: "button", class: "thread-toggle", onclick: () => {
        if (open) S.openThreads.delete(parent.ts); else S.openThreads.add(parent.ts);
        refreshThread(parent.channel, parent.ts);
      } }, open ? "▾ Hide replies" : `▸ ${replies.length} ${replies.length === 1 ? "reply" : "replies"}`));
    }
    if (open) {
      wrap.append(h("div", { class: "replies" }, replies.map((r) => h("div", { class: "reply", dataset: { ts: r.ts } }, renderMessage(r)))));
      const input = h("input", { type: "text", placeholder: "Reply…", "aria-label": "Reply in thread" });
      wrap.append(h("form", { class: "thread-form", onsubmit: async (e) => {
        e.preventDefault();
        const text = input.value.trim();
        if (!text) return;
        input.value = "";
        await api("/api/command", { channel: parent.channel, text, thread_ts: parent.ts });
      } }, input, h("button", { type: "submit", class: "bk-button" }, "Reply")));
    }
    return wrap;
  }
  function rowFor(ts) {
    return [...$("messages").children].find((row) => row.dataset.ts === ts) || null;
  }
  function refreshThread(channel, parentTs, focus) {
    if (channel !== S.current) return;
    const row = rowFor(parentTs);
    if (!row) return;
    const old = row.querySelector(":scope > .thread");
    const draft = old && old.querySelector("input");
    const typed = draft ? draft.value : "";
    const hadFocus = draft && document.activeElement === draft;
    const parent = S.messages.get(`${channel} ${parentTs}`);
    if (!parent) return;
    const fresh = renderThread(parent, channelMessages(channel));
    if (old) old.replaceWith(fresh); else row.append(fresh);
    const input = fresh.querySelector("input");
    if (input) { input.value = typed; if (hadFocus || focus) input.focus(); }
  }
  function nearBottom(box) {
    return box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  }
  function upsertMessage(m) {
    const existed = S.messages.has(key(m));
    S.messages.set(key(m), m);
    if (m.channel !== S.current) {
      if (!existed && !isReply(m) && S.channels[m.channel]) {
        S.unread[m.channel] = (S.unread[m.channel] || 0) + 1;
      }
      renderSidebar();
      return;
    }
    if (m.pinned || m.blocks) renderSidebar();  // a resolved card strikes the channel through
    const box = $("messages");
    const stick = nearBottom(box);
    if (isReply(m)) {
      refreshThread(m.channel, m.thread_ts);
    } else {
      const row = rowFor(m.ts);
      if (row) {
        row.className = rowClass(m);
        row.querySelector(":scope > .message").replaceWith(renderMessage(m));
        row.classList.add("flash");
      } else {
        const fresh = renderRow(m);
        const after = [...box.children].find((r) => Number(r.dataset.ts) > Number(m.ts));
        box.insertBefore(fresh, after || null);
      }
    }
    renderHeader();
    if (stick && !existed) box.scrollTop = box.scrollHeight;
  }
  function deleteMessage(channel, ts) {
    for (const [k, m] of S.messages) {
      if (m.ts === ts && (channel === null || m.channel === channel)) {
        S.messages.delete(k);
        if (m.channel === S.current) {
          if (isReply(m)) refreshThread(m.channel, m.thread_ts);
          else { const row = rowFor(ts); if (row) row.remove(); }
        }
      }
    }
  }

  // ------------------------------------------------------------------ modal

  let shown = null;  // {id, hash} of the modal in the page
  function renderModal() {
    const view = S.view;
    const backdrop = $("modal-backdrop");
    if (!view || !view.is_open) { backdrop.hidden = true; shown = null; return; }
    if (shown && shown.id === view.id && shown.hash === view.hash) { showErrors(view); return; }
    shown = { id: view.id, hash: view.hash };
    $("modal").dataset.viewId = view.id;
    $("modal").dataset.callbackId = view.callback_id || "";
    $("modal-title").textContent = emojify(view.title);
    $("modal-submit").textContent = view.submit || "Submit";
    $("modal-submit").hidden = !view.submit;
    $("modal-cancel").textContent = view.close || "Cancel";
    const ctx = { viewId: view.id };
    $("modal-body").replaceChildren(...view.blocks.map((b) => (b.type === "input" ? renderInput(b) : renderBlock(b, ctx))));
    backdrop.hidden = false;
    showErrors(view);
    const first = $("modal-body").querySelector("input, textarea, select");
    if (first) first.focus();
  }
  function renderInput(b) {
    const el = b.element || {};
    const id = `in-${b.block_id}`;
    const common = { id, name: b.block_id, dataset: { blockId: b.block_id, actionId: el.action_id || "", type: el.type } };
    let control;
    if (el.type === "plain_text_input" || el.type === "email_text_input" || el.type === "url_text_input" || el.type === "number_input") {
      const type = { email_text_input: "email", url_text_input: "url", number_input: "number" }[el.type] || "text";
      control = el.multiline
        ? h("textarea", { ...common, placeholder: el.placeholder && el.placeholder.text, maxlength: el.max_length })
        : h("input", { ...common, type, placeholder: el.placeholder && el.placeholder.text, maxlength: el.max_length });
      control.value = el.initial_value || "";
    } else if (el.type === "static_select" || el.type === "multi_static_select" || el.type === "external_select") {
      const multi = el.type === "multi_static_select";
      const initial = multi ? (el.initial_options || []).map((o) => o.value) : [el.initial_option && el.initial_option.value];
      control = h("select", { ...common, multiple: multi },
        multi ? null : h("option", { value: "" }, el.placeholder ? plain(el.placeholder) : "Select an option"),
        options(el).map((o) => h("option", { value: o.value, selected: initial.includes(o.value) }, plain(o.text))));
    } else if (el.type === "checkboxes" || el.type === "radio_buttons") {
      const initial = el.type === "checkboxes" ? (el.initial_options || []).map((o) => o.value) : [el.initial_option && el.initial_option.value];
      control = h("div", { ...common, role: "group" }, options(el).map((o) => h("label", { class: "choice" },
        h("input", { type: el.type === "checkboxes" ? "checkbox" : "radio", name: id, value: o.value, checked: initial.includes(o.value) }),
        " ", plain(o.text))));
    } else if (el.type === "datepicker") {
      control = h("input", { ...common, type: "date" });
      control.value = el.initial_date || "";
    } else {
      control = h("div", { ...common, class: "bk-unknown" }, `[${el.type} input]`);
    }
    return h("div", { class: "bk-input", dataset: { blockId: b.block_id } },
      h("label", { class: "bk-label", for: id }, plain(b.label), b.optional ? h("span", { class: "optional" }, " (optional)") : null),
      control,
      b.hint ? h("div", { class: "hint" }, plain(b.hint)) : null,
      h("div", { class: "field-error", dataset: { errorFor: b.block_id }, hidden: true }));
  }
  function showErrors(view) {
    const errors = view.errors || {};
    for (const box of $("modal-body").querySelectorAll(".bk-input")) {
      const message = errors[box.dataset.blockId];
      const slot = box.querySelector(".field-error");
      box.classList.toggle("has-error", !!message);
      slot.hidden = !message;
      slot.textContent = message === "field_required" ? "This field is required." : (message || "");
    }
    const general = view.client_error || errors._view;
    $("modal-error").hidden = !general;
    $("modal-error").textContent = general ? `We had some trouble connecting: ${general}` : "";
  }
  function modalValues() {
    const values = {};
    for (const box of $("modal-body").querySelectorAll(".bk-input")) {
      const control = box.querySelector("[data-action-id]");
      if (!control) continue;
      const { blockId, actionId, type } = control.dataset;
      let value;
      if (type === "multi_static_select") value = [...control.selectedOptions].map((o) => o.value);
      else if (type === "checkboxes") value = [...control.querySelectorAll("input:checked")].map((i) => i.value);
      else if (type === "radio_buttons") { const c = control.querySelector("input:checked"); value = c ? c.value : null; }
      else if (control.tagName === "SELECT") value = control.value || null;
      else if (control.tagName === "DIV") continue;
      else value = control.value;
      values[blockId] = { [actionId]: value };
    }
    return values;
  }
  async function submitModal(event) {
    event.preventDefault();
    if (!S.view) return;
    const button = $("modal-submit");
    button.disabled = true;
    try {
      const answer = await api("/api/submit", { view_id: S.view.id, values: modalValues() });
      if (answer.view !== undefined) { S.view = answer.view; renderModal(); }
    } finally { button.disabled = false; }
  }
  async function closeModal() {
    if (!S.view) return;
    const id = S.view.id;
    S.view = null;
    renderModal();
    await api("/api/close", { view_id: id });
  }

  // ------------------------------------------------------------------ composer

  async function send(event) {
    event.preventDefault();
    const input = $("message-input");
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    await api("/api/command", { channel: S.current, text });
  }

  function start() {
    $("composer").addEventListener("submit", send);
    $("message-input").addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("composer").requestSubmit(); }
    });
    $("user-switcher").addEventListener("change", (e) => {
      S.me = e.target.value;
      S.unread = {};
      S.openThreads.clear();
      shown = null;
      connect();
    });
    $("join-button").addEventListener("click", () => api("/api/join", { channel: S.current }));
    $("modal").addEventListener("submit", submitModal);
    $("modal-cancel").addEventListener("click", closeModal);
    $("modal-x").addEventListener("click", closeModal);
    document.addEventListener("keydown", (e) => { if (e.key === "Escape" && S.view) closeModal(); });
    $("tips-close").addEventListener("click", () => { $("tips").hidden = true; });
    setInterval(tickClock, 250);
    connect();
  }
  document.addEventListener("DOMContentLoaded", start);
})();
