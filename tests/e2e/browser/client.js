// A browser client of another origin, as a web app would use OpenBin: every request carries
// X-Master-Key, so every one is preflighted. The test calls runScenario through Selenium.
"use strict";

async function call(api, key, method, path, body, headers) {
  const init = { method, headers: { "X-Master-Key": key, ...(headers || {}) } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(api + path, init);
  return {
    method,
    path,
    status: response.status,
    remaining: response.headers.get("X-Requests-Remaining"),
    etag: response.headers.get("ETag"),
    replayed: response.headers.get("Idempotent-Replayed"),
    body: await response.json(),
  };
}

async function runScenario(api, key) {
  const steps = [];
  // A create retried with its Idempotency-Key (as after a timeout) gets the first answer.
  const creating = { "X-Bin-Name": "from a page", "Idempotency-Key": "page-create-1" };
  const created = await call(api, key, "POST", "/b", { hello: "browser" }, creating);
  steps.push(created);
  steps.push(await call(api, key, "POST", "/b", { hello: "browser" }, creating));
  const id = created.body.metadata.id;
  const read = await call(api, key, "GET", "/b/" + id);
  steps.push(read);
  // A safe read-modify-write: the update names the ETag it read.
  const update = { "X-Bin-Versioning": "true", "If-Match": read.etag };
  steps.push(await call(api, key, "PUT", "/b/" + id, { hello: "again" }, update));
  steps.push(await call(api, key, "GET", "/b/" + id + "/0?meta=false"));
  steps.push(await call(api, key, "GET", "/b/" + id, undefined, { "X-JSON-Path": "$.hello" }));
  steps.push(await call(api, key, "DELETE", "/b/" + id));
  steps.push(await call(api, key, "GET", "/nowhere"));
  document.getElementById("state").textContent = "done";
  return steps;
}
