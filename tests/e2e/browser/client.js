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
    body: await response.json(),
  };
}

async function runScenario(api, key) {
  const steps = [];
  const created = await call(api, key, "POST", "/b", { hello: "browser" }, { "X-Bin-Name": "from a page" });
  steps.push(created);
  const id = created.body.metadata.id;
  steps.push(await call(api, key, "GET", "/b/" + id));
  steps.push(await call(api, key, "PUT", "/b/" + id, { hello: "again" }, { "X-Bin-Versioning": "true" }));
  steps.push(await call(api, key, "GET", "/b/" + id + "/0?meta=false"));
  steps.push(await call(api, key, "GET", "/b/" + id, undefined, { "X-JSON-Path": "$.hello" }));
  steps.push(await call(api, key, "DELETE", "/b/" + id));
  steps.push(await call(api, key, "GET", "/nowhere"));
  document.getElementById("state").textContent = "done";
  return steps;
}
