// The OpenBin console: a page of this API's own origin that calls /v3 with the key the user
// pasted. The key lives in sessionStorage only (gone with the tab, never in a URL, a log or the
// page); everything the API returns is shown as text (textContent), never parsed as HTML.
"use strict";

const KEY = "openbin.key";
const HEADER = "openbin.header";
const SECTIONS = ["sign-in", "bins", "new-bin", "bin", "collections", "keys", "usage", "webhooks"];
const MASTER_ONLY = [
  "nav-collections",
  "nav-keys",
  "nav-usage",
  "nav-webhooks",
  "listing",
  "show-versions",
  "bin-meta",
];
const $ = (id) => document.getElementById(id);

const state = { collection: "uncategorized", lastBinId: null, bin: null, oldestVersion: null };

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function signedIn() {
  return sessionStorage.getItem(KEY) !== null;
}

// An access key reaches bins only (and only with its permissions): the master key's pages are
// not offered to it.
function master() {
  return sessionStorage.getItem(HEADER) === "X-Master-Key";
}

function show(id) {
  for (const section of SECTIONS) $(section).hidden = section !== id;
  $("nav").hidden = !signedIn();
  for (const masterOnly of MASTER_ONLY) {
    $(masterOnly).hidden = !master();
  }
  $("status").textContent = "";
}

function signOut(reason) {
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(HEADER);
  $("key").value = "";
  show("sign-in");
  $("sign-in-error").textContent = reason || "";
  $("key").focus();
}

// Calls the API with the key; answers the body as text and the parsed JSON (if any). A 401, or a
// 403 about the key or the account, ends the session with the API's reason.
async function api(method, path, { body, headers } = {}) {
  const sent = { [sessionStorage.getItem(HEADER)]: sessionStorage.getItem(KEY), ...(headers || {}) };
  const response = await fetch("/v3" + path, { method, headers: sent, body });
  const text = await response.text();
  let json;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!response.ok) {
    const message = (json && json.message) || `HTTP ${response.status}`;
    // A 403 about the caller (blocked, out of requests, a key without the permission) ends
    // the session; one about the request (a plan's size limit, the access-key limit) does not.
    const aboutTheKey = /account blocked|requests exhausted|does not have permission/i.test(message);
    if (response.status === 401 || (response.status === 403 && aboutTheKey)) {
      signOut(message);
    }
    throw new ApiError(response.status, message);
  }
  return { text, json };
}

function report(element, error) {
  element.textContent = error instanceof ApiError ? error.message : String(error);
}

// -- sign in ---------------------------------------------------------------------------------
$("sign-in-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY, $("key").value.trim());
  sessionStorage.setItem(HEADER, $("key-kind").value);
  $("key").value = "";
  $("sign-in-error").textContent = "";
  await openBins();
});
$("sign-out").addEventListener("click", () => signOut("Signed out."));

// -- bins ------------------------------------------------------------------------------------
async function openBins() {
  show("bins");
  $("bins-error").textContent = "";
  if (!master()) {
    $("open-id").focus();
    return;
  }
  const select = $("collection");
  select.replaceChildren(new Option("Uncategorized", "uncategorized"));
  try {
    const { json } = await api("GET", "/c");
    for (const collection of json) {
      select.append(new Option(collection.collectionMeta.name, collection.record));
    }
    select.value = state.collection;
    await listBins(true);
  } catch (error) {
    if (signedIn()) report($("bins-error"), error);
  }
}

async function listBins(fresh) {
  const list = $("bin-list");
  if (fresh) {
    list.replaceChildren();
    state.lastBinId = null;
  }
  const cursor = state.lastBinId ? "/" + state.lastBinId : "";
  const { json } = await api("GET", `/c/${state.collection}/bins${cursor}`);
  for (const bin of json) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    const name = (bin.snippetMeta && bin.snippetMeta.name) || "(no name)";
    button.textContent = `${name} — ${bin.record}${bin.private ? "" : " (public)"}`;
    button.addEventListener("click", () => openBin(bin.record));
    item.append(button);
    list.append(item);
    state.lastBinId = bin.record;
  }
  $("more-bins").hidden = json.length < 10;
}

$("collection").addEventListener("change", async () => {
  state.collection = $("collection").value;
  try {
    await listBins(true);
  } catch (error) {
    if (signedIn()) report($("bins-error"), error);
  }
});
$("more-bins").addEventListener("click", () =>
  listBins(false).catch((error) => signedIn() && report($("bins-error"), error)),
);
$("nav-bins").addEventListener("click", openBins);
$("open-bin-form").addEventListener("submit", (event) => {
  event.preventDefault();
  openBin($("open-id").value.trim());
});

// -- one bin ---------------------------------------------------------------------------------
// The answer is {"record":<the record as stored>,"metadata":{...}}: the record's text is cut out
// as is, so numbers JavaScript cannot hold exactly are shown and saved as they were sent.
function splitAnswer(text) {
  const at = text.lastIndexOf(',"metadata":');
  return { record: text.slice('{"record":'.length, at), metadata: JSON.parse(text.slice(at + 12, -1)) };
}

function pretty(text) {
  try {
    const parsed = JSON.parse(text);
    const again = JSON.stringify(parsed, null, 2);
    return JSON.stringify(JSON.parse(again)) === JSON.stringify(parsed) && !/\d{16,}/.test(text)
      ? again
      : text;
  } catch {
    return text;
  }
}

async function openBin(binId) {
  try {
    const { text } = await api("GET", "/b/" + binId);
    const { record, metadata } = splitAnswer(text);
    state.bin = metadata;
    $("bin-id").textContent = metadata.id;
    $("bin-name").textContent = metadata.name || "(no name)";
    $("bin-privacy").textContent = metadata.private ? "private" : "public";
    $("rename-to").value = metadata.name || "";
    $("toggle-privacy").textContent = metadata.private ? "Make public" : "Make private";
    $("bin-created").textContent = metadata.createdAt;
    $("record").value = pretty(record);
    $("record-error").textContent = "";
    $("versioned").checked = false;
    $("versions").hidden = true;
    show("bin");
    $("record").focus();
  } catch (error) {
    if (signedIn()) report($("bins-error"), error);
  }
}

// Syntax errors are shown while typing; nothing invalid is sent.
function checkJson(textarea, errorElement, button) {
  try {
    JSON.parse(textarea.value);
    errorElement.textContent = "";
    button.disabled = false;
    return true;
  } catch (error) {
    errorElement.textContent = "Not valid JSON: " + error.message;
    button.disabled = true;
    return false;
  }
}

$("rename").addEventListener("click", async () => {
  try {
    const headers = { "X-Bin-Name": $("rename-to").value };
    await api("PUT", `/b/${state.bin.id}/meta/name`, { headers });
    state.bin.name = $("rename-to").value;
    $("bin-name").textContent = state.bin.name;
    $("status").textContent = "Renamed.";
  } catch (error) {
    if (signedIn()) report($("record-error"), error);
  }
});
$("toggle-privacy").addEventListener("click", async () => {
  const makePrivate = !state.bin.private;
  try {
    const headers = { "X-Bin-Private": makePrivate ? "true" : "false" };
    await api("PUT", `/b/${state.bin.id}/meta/privacy`, { headers });
    state.bin.private = makePrivate;
    $("bin-privacy").textContent = makePrivate ? "private" : "public";
    $("toggle-privacy").textContent = makePrivate ? "Make public" : "Make private";
    $("status").textContent = makePrivate ? "The bin is private." : "The bin is public.";
  } catch (error) {
    if (signedIn()) report($("record-error"), error);
  }
});

$("record").addEventListener("input", () => checkJson($("record"), $("record-error"), $("save")));
$("save").addEventListener("click", async () => {
  if (!checkJson($("record"), $("record-error"), $("save"))) return;
  try {
    const headers = {
      "Content-Type": "application/json",
      "X-Bin-Versioning": $("versioned").checked ? "true" : "false",
    };
    const { json } = await api("PUT", "/b/" + state.bin.id, { body: $("record").value, headers });
    const version = json.metadata.version;
    $("status").textContent = version === undefined ? "Saved." : `Saved; version ${version} kept.`;
  } catch (error) {
    if (signedIn()) report($("record-error"), error);
  }
});
$("delete").addEventListener("click", async () => {
  if (!window.confirm(`Delete bin ${state.bin.id} and all its versions?`)) return;
  try {
    await api("DELETE", "/b/" + state.bin.id);
    await openBins();
    $("status").textContent = "Bin deleted.";
  } catch (error) {
    if (signedIn()) report($("record-error"), error);
  }
});

// -- versions ------------------------------------------------------------------------------
// The latest is listed first; older pages follow the last number shown.
async function listVersions(fresh) {
  const rows = $("version-rows");
  if (fresh) {
    rows.replaceChildren();
    state.oldestVersion = null;
    $("diff-from").replaceChildren();
    $("diff-to").replaceChildren();
  }
  const cursor = state.oldestVersion === null ? "" : "/" + state.oldestVersion;
  const { json } = await api("GET", `/b/${state.bin.id}/versions${cursor}`);
  for (const version of json) {
    const row = document.createElement("tr");
    for (const value of [version.version, version.createdAt, version.size]) {
      const cell = document.createElement("td");
      cell.textContent = String(value);
      row.append(cell);
    }
    const actions = document.createElement("td");
    const view = document.createElement("button");
    view.type = "button";
    view.textContent = "View";
    view.setAttribute("aria-label", `View version ${version.version}`);
    view.addEventListener("click", () => viewVersion(version.version));
    const restore = document.createElement("button");
    restore.type = "button";
    restore.textContent = "Restore";
    restore.setAttribute("aria-label", `Restore version ${version.version}`);
    restore.addEventListener("click", () => restoreVersion(version.version));
    actions.append(view, restore);
    row.append(actions);
    rows.append(row);
    $("diff-from").append(new Option(String(version.version), String(version.version)));
    $("diff-to").append(new Option(String(version.version), String(version.version)));
    state.oldestVersion = version.version;
  }
  $("older-versions").hidden = json.length < 10 || state.oldestVersion === 0;
  if (fresh && json.length > 1) $("diff-from").selectedIndex = 1; // the one before the latest
}

async function recordOf(version) {
  const { text } = await api("GET", `/b/${state.bin.id}/${version}?meta=false`);
  return text;
}

async function viewVersion(version) {
  try {
    $("version-number").textContent = String(version);
    $("version-title").hidden = false;
    $("version-view").textContent = pretty(await recordOf(version));
  } catch (error) {
    if (signedIn()) report($("versions-error"), error);
  }
}

async function restoreVersion(version) {
  if (!window.confirm(`Make version ${version}'s record the latest, as a new version?`)) return;
  try {
    const { json } = await api("POST", `/b/${state.bin.id}/versions/${version}/restore`);
    await openBin(state.bin.id);
    $("status").textContent = `Version ${version} restored as version ${json.metadata.version}.`;
  } catch (error) {
    if (signedIn()) report($("versions-error"), error);
  }
}

// A line diff (longest common subsequence) of the two records, pretty-printed.
function diffLines(before, after) {
  const a = before.split("\n");
  const b = after.split("\n");
  if (a.length * b.length > 4000000) return null;
  const lengths = Array.from({ length: a.length + 1 }, () => new Int32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lengths[i][j] =
        a[i] === b[j] ? lengths[i + 1][j + 1] + 1 : Math.max(lengths[i + 1][j], lengths[i][j + 1]);
    }
  }
  const out = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      out.push(["  ", a[i++], ""]);
      j++;
    } else if (j < b.length && (i === a.length || lengths[i][j + 1] >= lengths[i + 1][j])) {
      out.push(["+ ", b[j++], "added"]);
    } else {
      out.push(["- ", a[i++], "removed"]);
    }
  }
  return out;
}

$("show-versions").addEventListener("click", async () => {
  $("versions").hidden = false;
  $("versions-error").textContent = "";
  $("version-title").hidden = true;
  $("version-view").textContent = "";
  $("diff-view").textContent = "";
  try {
    await listVersions(true);
  } catch (error) {
    if (signedIn()) report($("versions-error"), error);
  }
});
$("older-versions").addEventListener("click", () =>
  listVersions(false).catch((error) => signedIn() && report($("versions-error"), error)),
);
$("diff").addEventListener("click", async () => {
  const view = $("diff-view");
  view.replaceChildren();
  try {
    const [before, after] = await Promise.all([
      recordOf($("diff-from").value),
      recordOf($("diff-to").value),
    ]);
    const lines = diffLines(pretty(before), pretty(after));
    if (lines === null) {
      view.textContent = "Too large to compare here.";
      return;
    }
    for (const [mark, text, kind] of lines) {
      const line = document.createElement("span");
      if (kind) line.className = kind;
      line.textContent = mark + text + "\n";
      view.append(line);
    }
  } catch (error) {
    if (signedIn()) report($("versions-error"), error);
  }
});

// -- a new bin -------------------------------------------------------------------------------
$("nav-new").addEventListener("click", () => {
  show("new-bin");
  $("new-name").focus();
});
$("new-record").addEventListener("input", () =>
  checkJson($("new-record"), $("new-record-error"), $("new-bin-form").querySelector("button")),
);
$("new-bin-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = $("new-bin-form").querySelector("button");
  if (!checkJson($("new-record"), $("new-record-error"), button)) return;
  const headers = {
    "Content-Type": "application/json",
    "X-Bin-Private": $("new-private").checked ? "true" : "false",
  };
  if ($("new-name").value) headers["X-Bin-Name"] = $("new-name").value;
  if (state.collection !== "uncategorized") headers["X-Collection-Id"] = state.collection;
  try {
    const { json } = await api("POST", "/b", { body: $("new-record").value, headers });
    await openBin(json.metadata.id);
    $("status").textContent = "Bin created.";
  } catch (error) {
    if (signedIn()) report($("new-record-error"), error);
  }
});

// -- collections and schema docs -----------------------------------------------------------
async function openCollections() {
  show("collections");
  $("collections-error").textContent = "";
  const list = $("collection-list");
  const target = $("attach-collection");
  list.replaceChildren();
  target.replaceChildren();
  try {
    const { json } = await api("GET", "/c");
    for (const collection of json) {
      const item = document.createElement("li");
      const name = collection.collectionMeta.name;
      const schema = collection.schemaDocId ? `schema doc ${collection.schemaDocId}` : "no schema";
      item.textContent = `${name} — ${collection.record} (${schema})`;
      const rename = document.createElement("button");
      rename.type = "button";
      rename.textContent = "Rename";
      rename.setAttribute("aria-label", `Rename ${name}`);
      rename.addEventListener("click", () => renameCollection(collection.record, name));
      item.append(rename);
      if (collection.schemaDocId) {
        const edit = document.createElement("button");
        edit.type = "button";
        edit.textContent = "Edit its schema";
        edit.setAttribute("aria-label", `Edit the schema of ${name}`);
        edit.addEventListener("click", () => loadSchema(collection.schemaDocId));
        item.append(edit);
      }
      list.append(item);
      target.append(new Option(name, collection.record));
    }
  } catch (error) {
    if (signedIn()) report($("collections-error"), error);
  }
}

async function renameCollection(collectionId, current) {
  const name = window.prompt("New name (1-32 characters)", current);
  if (name === null) return;
  try {
    await api("PUT", `/c/${collectionId}/meta/name`, { headers: { "X-Collection-Name": name } });
    await openCollections();
  } catch (error) {
    if (signedIn()) report($("collections-error"), error);
  }
}

async function loadSchema(schemaDocId) {
  try {
    const { json } = await api("GET", "/s/" + schemaDocId);
    $("schema-id").value = json.metadata.id;
    $("schema-name").value = json.metadata.name;
    $("schema-body").value = JSON.stringify(json.record, null, 2);
    $("schema-body").focus();
  } catch (error) {
    if (signedIn()) report($("collections-error"), error);
  }
}

$("nav-collections").addEventListener("click", openCollections);
$("new-collection-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await api("POST", "/c", { headers: { "X-Collection-Name": $("collection-name").value } });
    $("collection-name").value = "";
    await openCollections();
  } catch (error) {
    if (signedIn()) report($("collections-error"), error);
  }
});
$("load-schema").addEventListener("click", () => loadSchema($("schema-id").value.trim()));
$("schema-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("collections-error").textContent = "";
  const id = $("schema-id").value.trim();
  const body = $("schema-body").value;
  try {
    if (id) {
      await api("PUT", "/s/" + id, { body, headers: { "Content-Type": "application/json" } });
      $("status").textContent = "Schema doc saved.";
    } else {
      const headers = { "Content-Type": "application/json", "X-Schema-Doc-Name": $("schema-name").value };
      const { json } = await api("POST", "/s", { body, headers });
      $("schema-id").value = json.metadata.id;
      $("status").textContent = `Schema doc ${json.metadata.id} created.`;
    }
  } catch (error) {
    if (signedIn()) report($("collections-error"), error);
  }
});
async function schemaDoc(change) {
  const collectionId = $("attach-collection").value;
  const headers = change === "add" ? { "X-Schema-Doc-Id": $("schema-id").value.trim() } : {};
  try {
    await api("PUT", `/c/${collectionId}/schemadoc/${change}`, { headers });
    await openCollections();
    $("status").textContent = change === "add" ? "Schema doc attached." : "Schema doc detached.";
  } catch (error) {
    if (signedIn()) report($("collections-error"), error);
  }
}
$("attach").addEventListener("click", () => schemaDoc("add"));
$("detach").addEventListener("click", () => schemaDoc("remove"));

// -- access keys -----------------------------------------------------------------------------
async function openKeys() {
  show("keys");
  $("keys-error").textContent = "";
  const list = $("key-list");
  list.replaceChildren();
  try {
    const { json } = await api("GET", "/a");
    for (const key of json) {
      const allowed = Object.entries(key.keyPermissions.bins)
        .filter(([, yes]) => yes)
        .map(([name]) => name);
      const item = document.createElement("li");
      item.textContent = `${key.metadata.name} — ${key.accessKeyId} (${allowed.join(", ") || "nothing"})`;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = "Delete…";
      remove.className = "danger";
      remove.setAttribute("aria-label", `Delete access key ${key.metadata.name}`);
      remove.addEventListener("click", () => deleteKey(key.accessKeyId, key.metadata.name));
      item.append(remove);
      list.append(item);
    }
  } catch (error) {
    if (signedIn()) report($("keys-error"), error);
  }
}

async function deleteKey(accessKeyId, name) {
  if (!window.confirm(`Delete access key ${name}? It stops working at once.`)) return;
  try {
    await api("DELETE", "/a/" + accessKeyId);
    $("new-key").hidden = true;
    await openKeys();
    $("status").textContent = "Access key deleted.";
  } catch (error) {
    if (signedIn()) report($("keys-error"), error);
  }
}

$("nav-keys").addEventListener("click", () => {
  $("new-key").hidden = true;
  $("new-key-secret").value = "";
  openKeys();
});
$("new-key-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const bins = {};
  for (const permission of ["create", "read", "update", "delete"]) {
    bins[permission] = $("perm-" + permission).checked;
  }
  const headers = { "Content-Type": "application/json", "X-Key-Name": $("key-name").value };
  try {
    const { json } = await api("POST", "/a", { body: JSON.stringify({ bins }), headers });
    await openKeys();
    $("new-key-secret").value = json.accessKey; // shown once: never kept, never listed again
    $("new-key").hidden = false;
    $("key-name").value = "";
    $("new-key-secret").focus();
  } catch (error) {
    if (signedIn()) report($("keys-error"), error);
  }
});
$("copy-key").addEventListener("click", async () => {
  try {
    await navigator.clipboard.writeText($("new-key-secret").value);
    $("status").textContent = "Copied.";
  } catch {
    $("new-key-secret").select();
    $("status").textContent = "Select the key and copy it.";
  }
});

// -- usage -----------------------------------------------------------------------------------
$("nav-usage").addEventListener("click", async () => {
  show("usage");
  const list = $("usage-list");
  list.replaceChildren();
  $("log-days").replaceChildren();
  $("logs-note").textContent = "";
  try {
    const { json } = await api("GET", "/usage");
    for (const [name, value] of Object.entries(json)) {
      const term = document.createElement("dt");
      term.textContent = name;
      const detail = document.createElement("dd");
      detail.textContent = String(value);
      list.append(term, detail);
    }
    await listLogDays();
  } catch (error) {
    if (signedIn()) $("status").textContent = error.message;
  }
});

// A day's usage log is a zip: fetched with the key, then saved from memory (the key never goes
// in a link).
async function listLogDays() {
  const days = $("log-days");
  days.replaceChildren();
  $("logs-note").textContent = "";
  try {
    const { json } = await api("GET", "/l");
    for (const day of json.logs) {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = `Download ${day}`;
      button.addEventListener("click", () => downloadLog(day));
      item.append(button);
      days.append(item);
    }
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      $("logs-note").textContent = "No usage log yet.";
    } else if (signedIn()) {
      $("logs-note").textContent = error.message;
    }
  }
}

async function downloadLog(day) {
  const sent = { [sessionStorage.getItem(HEADER)]: sessionStorage.getItem(KEY) };
  const response = await fetch(`/v3/l/${day}`, { headers: sent });
  if (!response.ok) {
    $("logs-note").textContent = `HTTP ${response.status}`;
    return;
  }
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = `${day}.zip`;
  document.body.append(link);
  link.click();
  link.remove();
  URL.revokeObjectURL(url);
  $("status").textContent = `Downloaded ${day}.zip.`;
}

// -- webhooks (API.md §11) -------------------------------------------------------------------
const hook = { paused: false, set: false };

function showWebhook(settings) {
  hook.set = settings !== null;
  hook.paused = Boolean(settings && settings.paused);
  $("webhook-url").value = settings ? settings.url : "";
  for (const event of ["create", "update", "delete"]) {
    $("hook-" + event).checked = settings ? settings.events.includes(event) : true;
  }
  $("webhook-state").textContent = !settings
    ? "No webhook is set."
    : hook.paused
      ? "Paused: nothing is sent."
      : "Active.";
  $("webhook-pause").textContent = hook.paused ? "Continue" : "Pause";
  $("webhook-pause").disabled = !settings;
  $("webhook-secret").disabled = !settings;
  $("webhook-reset").disabled = !settings;
}

function showSecret(secret) {
  $("webhook-secret-value").value = secret; // shown once: never kept, never listed again
  $("webhook-new-secret").hidden = false;
  $("webhook-secret-value").focus();
}

async function openWebhooks() {
  show("webhooks");
  $("webhook-new-secret").hidden = true;
  $("webhook-secret-value").value = "";
  $("webhooks-error").textContent = "";
  try {
    const { json } = await api("GET", "/w");
    showWebhook(json);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) showWebhook(null);
    else if (signedIn()) report($("webhooks-error"), error);
  }
  await listDeliveries();
}

async function listDeliveries() {
  const rows = $("delivery-rows");
  rows.replaceChildren();
  try {
    const { json } = await api("GET", "/w/deliveries");
    for (const delivery of json) {
      const row = document.createElement("tr");
      const answer = delivery.lastStatus ? `HTTP ${delivery.lastStatus}` : delivery.lastError || "";
      for (const value of [
        delivery.createdAt,
        delivery.event,
        delivery.binId,
        delivery.state,
        String(delivery.attempts),
        answer,
      ]) {
        const cell = document.createElement("td");
        cell.textContent = value;
        row.append(cell);
      }
      const cell = document.createElement("td");
      const again = document.createElement("button");
      again.type = "button";
      again.textContent = "Send again";
      again.setAttribute("aria-label", `Send delivery ${delivery.id} again`);
      again.addEventListener("click", () => retryDelivery(delivery.id));
      cell.append(again);
      row.append(cell);
      rows.append(row);
    }
  } catch (error) {
    if (signedIn()) report($("webhooks-error"), error);
  }
}

async function retryDelivery(id) {
  try {
    await api("POST", `/w/deliveries/${id}/retry`);
    $("status").textContent = "Sent again.";
    await listDeliveries();
  } catch (error) {
    if (signedIn()) report($("webhooks-error"), error);
  }
}

async function saveWebhook(paused) {
  const events = ["create", "update", "delete"].filter((event) => $("hook-" + event).checked);
  const body = JSON.stringify({ url: $("webhook-url").value, events, paused });
  const headers = { "Content-Type": "application/json" };
  const { json } = await api("PUT", "/w", { body, headers });
  showWebhook(json);
  if (json.secret) showSecret(json.secret);
}

$("nav-webhooks").addEventListener("click", openWebhooks);
$("webhook-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("webhooks-error").textContent = "";
  try {
    await saveWebhook(hook.paused);
    $("status").textContent = "Webhook saved.";
  } catch (error) {
    if (signedIn()) report($("webhooks-error"), error);
  }
});
$("webhook-pause").addEventListener("click", async () => {
  try {
    await saveWebhook(!hook.paused);
    $("status").textContent = hook.paused ? "Paused." : "Continuing.";
  } catch (error) {
    if (signedIn()) report($("webhooks-error"), error);
  }
});
$("webhook-secret").addEventListener("click", async () => {
  try {
    const { json } = await api("POST", "/w/secret");
    showSecret(json.secret);
    $("status").textContent = "New signing secret: the previous one signs for 24 more hours.";
  } catch (error) {
    if (signedIn()) report($("webhooks-error"), error);
  }
});
$("webhook-reset").addEventListener("click", async () => {
  if (!window.confirm("Reset the webhook? Its URL and signing secrets are removed.")) return;
  try {
    await api("DELETE", "/w");
    showWebhook(null);
    $("webhook-new-secret").hidden = true;
    $("status").textContent = "Webhook reset.";
  } catch (error) {
    if (signedIn()) report($("webhooks-error"), error);
  }
});

// -- start -----------------------------------------------------------------------------------
if (signedIn()) {
  openBins();
} else {
  show("sign-in");
}
