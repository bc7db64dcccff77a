// Strand console: clusters, and one cluster live over server-sent events
// (GET /console/clusters/{cluster}/events). Nothing is polled; every
// action goes through /admin/v2 with the operator's token. Data is only
// ever put in the page as text (never as markup).
"use strict";

const API = "/admin/v2";
const GRID_ROWS = 200; // partitions shown per resource before "show all"

const ui = {
  main: document.getElementById("main"),
  clusters: document.getElementById("clusters"),
  token: document.getElementById("token"),
  connection: document.getElementById("connection"),
  message: document.getElementById("message"),
};

// ---- small DOM helpers ---------------------------------------------------

// Children as nodes: arrays flattened, absent ones (null, undefined,
// false) dropped, anything else as text.
function nodes(children) {
  return children
    .flat(Infinity)
    .filter((child) => child !== null && child !== undefined && child !== false)
    .map((child) => (child instanceof Node ? child : document.createTextNode(String(child))));
}

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  el.append(...nodes(children));
  return el;
}

// Replaces an element's content.
function fill(el, ...children) {
  el.replaceChildren(...nodes(children));
}

function naturalCompare(a, b) {
  return a.localeCompare(b, undefined, { numeric: true, sensitivity: "base" });
}

const KNOWN_STATES = new Set([
  "MASTER", "LEADER", "ONLINE", "SLAVE", "STANDBY", "BOOTSTRAP", "OFFLINE", "DROPPED", "ERROR",
]);

function stateCell(state) {
  if (!state) return h("td", { class: "empty" }, "");
  return h("td", { class: "state", dataset: { state: KNOWN_STATES.has(state) ? state : "other" } }, state);
}

function ago(ms) {
  const seconds = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  return `${Math.round(seconds / 3600)} h ago`;
}

function say(kind, text) {
  ui.message.hidden = false;
  ui.message.dataset.kind = kind;
  ui.message.textContent = text;
}

// ---- the token and the API ------------------------------------------------

ui.token.value = sessionStorage.getItem("strand-token") || "";
ui.token.addEventListener("change", () => sessionStorage.setItem("strand-token", ui.token.value));

async function api(method, path, body) {
  const headers = {};
  const token = ui.token.value.trim();
  if (token) headers.Authorization = `Bearer ${token}`;
  const init = { method, headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(API + path, init);
  const text = await response.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch (_) { json = null; }
  if (!response.ok) {
    const why = json && typeof json.error === "string" ? json.error : `${response.status} ${response.statusText}`;
    throw new Error(why);
  }
  return json;
}

// An operator action: confirmed first, its outcome (the API's own error
// message when refused) shown in the alert.
async function act(question, done, method, path, body) {
  if (!window.confirm(question)) return;
  try {
    await api(method, path, body);
    say("ok", done);
  } catch (err) {
    say("error", `Refused: ${err.message}`);
  }
}

const enc = encodeURIComponent;

// ---- routing -------------------------------------------------------------

let current = null; // the cluster view shown, if any

function route() {
  const match = location.hash.match(/^#\/cluster\/(.+)$/);
  const cluster = match ? decodeURIComponent(match[1]) : null;
  if (current && current.cluster === cluster) return;
  if (current) current.close();
  current = null;
  fill(ui.main);
  if (cluster) current = new ClusterView(cluster);
  else showClusters();
  markNav(cluster);
}

async function loadClusters() {
  try {
    const reply = await api("GET", "/clusters");
    return (reply && reply.clusters) || [];
  } catch (err) {
    say("error", `Cannot list clusters: ${err.message}`);
    return [];
  }
}

async function fillNav() {
  const clusters = (await loadClusters()).sort(naturalCompare);
  fill(ui.clusters,
    ...clusters.map((name) => h("li", {}, h("a", { href: `#/cluster/${enc(name)}`, dataset: { cluster: name } }, name))),
  );
  markNav(current && current.cluster);
  return clusters;
}

function markNav(cluster) {
  for (const link of ui.clusters.querySelectorAll("a")) {
    if (link.dataset.cluster === cluster) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

async function showClusters() {
  ui.connection.dataset.state = "idle";
  ui.connection.textContent = "idle";
  const clusters = await fillNav();
  if (current) return;
  fill(ui.main,
    h("h1", {}, "Clusters"),
    h("section", {},
      clusters.length === 0
        ? h("p", { class: "muted" }, "No cluster yet.")
        : h("ul", {}, clusters.map((name) => h("li", {}, h("a", { href: `#/cluster/${enc(name)}` }, name))))),
  );
}

// ---- one cluster ---------------------------------------------------------

class ClusterView {
  constructor(cluster) {
    this.cluster = cluster;
    this.topics = new Map();
    this.ready = false;
    this.views = new Map(); // resource -> chosen view
    this.expanded = new Set(); // resources shown in full
    this.dirty = new Set();
    this.frame = null;
    this.build();
    this.connect();
    // "n s ago" moves on with the clock (a re-render, no request).
    this.clock = setInterval(() => this.touch("controller"), 5000);
  }

  build() {
    const id = (name) => `c-${name}`;
    this.sections = {
      controller: h("section", { id: id("controller"), "aria-labelledby": "h-controller" }),
      instances: h("section", { id: id("instances"), "aria-labelledby": "h-instances" }),
      errors: h("section", { id: id("errors"), "aria-labelledby": "h-errors" }),
      plugins: h("section", { id: id("plugins"), "aria-labelledby": "h-plugins" }),
      resources: h("div", { id: id("resources") }),
    };
    fill(ui.main,
      h("h1", {}, `Cluster ${this.cluster}`),
      ...Object.values(this.sections),
    );
    this.sections.controller.append(h("p", { class: "muted" }, "Connecting…"));
  }

  connect() {
    ui.connection.dataset.state = "idle";
    ui.connection.textContent = "connecting";
    this.source = new EventSource(`/console/clusters/${enc(this.cluster)}/events`);
    this.source.addEventListener("topic", (event) => {
      const { topic, value } = JSON.parse(event.data);
      if (value === null) this.topics.delete(topic);
      else this.topics.set(topic, value);
      this.touch(topic);
    });
    this.source.addEventListener("reset", () => {
      this.topics.clear();
      this.ready = false;
    });
    this.source.addEventListener("ready", () => {
      this.ready = true;
      this.touch("*");
      ui.connection.dataset.state = "live";
      ui.connection.textContent = "live";
    });
    this.source.addEventListener("error", () => {
      ui.connection.dataset.state = "lost";
      ui.connection.textContent = "reconnecting";
    });
  }

  close() {
    clearInterval(this.clock);
    if (this.source) this.source.close();
    if (this.frame) cancelAnimationFrame(this.frame);
  }

  touch(topic) {
    this.dirty.add(topic);
    if (this.ready && !this.frame) this.frame = requestAnimationFrame(() => this.render());
  }

  render() {
    this.frame = null;
    const dirty = this.dirty;
    this.dirty = new Set();
    const all = dirty.has("*");
    // Keep the keyboard focus across re-renders of its section.
    const focused = document.activeElement && document.activeElement.id;
    if (all || dirty.has("controller")) this.renderController();
    if (all || dirty.has("instances")) this.renderInstances();
    if (all || dirty.has("plugins")) this.renderPlugins();
    const resources = [...dirty].filter((t) => t.startsWith("resource/")).map((t) => t.slice(9));
    if (all || resources.length) {
      this.renderErrors();
      this.renderResources(all ? null : resources);
    }
    if (focused) {
      const again = document.getElementById(focused);
      if (again && again !== document.activeElement) again.focus();
    }
  }

  renderController() {
    const doc = this.topics.get("controller") || {};
    const status = doc.status && doc.status.simpleFields ? doc.status.simpleFields : null;
    const held = doc.status && doc.status.mapFields && doc.status.mapFields.HELD_BACK ? doc.status.mapFields.HELD_BACK : {};
    const facts = [["Leader", doc.leader || "none"]];
    if (status && status.LEADER === doc.leader) {
      const at = Number(status.LAST_RUN_AT);
      facts.push(["Last pipeline run", at
        ? `${new Date(at).toLocaleTimeString()}, ${ago(at)} (${status.LAST_RUN_EVENT || "?"})`
        : "none yet"]);
      facts.push(["Run took", `${status.LAST_RUN_TOTAL_MS || "?"} ms (compute ${status.LAST_RUN_COMPUTE_MS || "?"} ms)`]);
      facts.push(["Messages sent / pending", `${status.LAST_RUN_SENT || 0} / ${status.PENDING_MESSAGES || 0}`]);
      facts.push(["Converged", status.CONVERGED === "true" ? "yes" : "no"]);
      facts.push(["Runs", status.RUNS || "0"]);
      if (status.LAST_ERROR) facts.push(["Last error", status.LAST_ERROR]);
    } else if (doc.leader) {
      facts.push(["Last pipeline run", "not reported (a controller that writes no Strand status record)"]);
    }
    if (doc.connected === false) facts.push(["Feed", "ZooKeeper session lost; reload when the server is back"]);
    const heldRows = Object.entries(held);
    fill(this.sections.controller,
      h("h2", { id: "h-controller" }, "Controller"),
      h("dl", { class: "facts" }, facts.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
      heldRows.length
        ? h("div", {}, h("h3", {}, "Resources held back"),
          h("ul", {}, heldRows.map(([r, why]) => h("li", {}, h("strong", {}, r), `: ${why}`))))
        : null,
    );
  }

  renderInstances() {
    const list = (this.topics.get("instances") || {}).instances || [];
    const c = enc(this.cluster);
    const rows = list.map((inst) => {
      const i = enc(inst.name);
      const plugins = Object.entries(inst.plugins || {}).map(([name, version]) => `${name} ${version}`);
      const errors = Object.entries(inst.plugin_errors || {}).map(([name, why]) => `${name}: ${why}`);
      const draining = inst.operation === "EVACUATE";
      return h("tr", { dataset: { instance: inst.name } },
        h("td", {}, inst.name),
        h("td", {}, h("span", { class: `pill ${inst.live ? "good" : "bad"}` }, inst.live ? "live" : "offline")),
        h("td", {}, inst.enabled ? "enabled" : h("span", { class: "pill bad" }, "disabled")),
        h("td", {}, inst.operation || "ENABLE"),
        h("td", {}, String(inst.pending)),
        h("td", {}, plugins.length ? plugins.join(", ") : h("span", { class: "muted" }, "—"),
          errors.length ? h("div", { class: "pill bad" }, errors.join("; ")) : null),
        h("td", {}, h("div", { class: "actions" },
          h("button", {
            id: `act-enable-${inst.name}`,
            onclick: () => act(
              `${inst.enabled ? "Disable" : "Enable"} instance ${inst.name}?`,
              `Instance ${inst.name} ${inst.enabled ? "disabled" : "enabled"}.`,
              "POST", `/clusters/${c}/instances/${i}?command=${inst.enabled ? "disable" : "enable"}`),
          }, inst.enabled ? "Disable" : "Enable"),
          h("button", {
            id: `act-drain-${inst.name}`,
            onclick: () => act(
              draining ? `Stop draining ${inst.name}?` : `Drain ${inst.name} (move its top states and replicas off)?`,
              draining ? `Drain of ${inst.name} ended.` : `Draining ${inst.name}.`,
              "POST", `/clusters/${c}/instances/${i}?command=setInstanceOperation&instanceOperation=${draining ? "ENABLE" : "EVACUATE"}`),
          }, draining ? "Undrain" : "Drain"))));
    });
    fill(this.sections.instances,
      h("h2", { id: "h-instances" }, `Instances (${list.filter((i) => i.live).length} live of ${list.length})`),
      h("table", {},
        h("thead", {}, h("tr", {}, ["Instance", "Live", "Enabled", "Operation", "Pending", "Plugins", "Actions"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, rows)),
    );
  }

  renderPlugins() {
    const list = (this.topics.get("plugins") || {}).plugins || [];
    const c = enc(this.cluster);
    this.sections.plugins.hidden = list.length === 0;
    fill(this.sections.plugins,
      h("h2", { id: "h-plugins" }, "Plugins"),
      h("table", {},
        h("thead", {}, h("tr", {}, ["Plugin", "Kind", "Active", "Versions", "Actions"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, list.map((p) => h("tr", {},
          h("td", {}, p.name), h("td", {}, p.kind || "?"), h("td", {}, p.active || "—"),
          h("td", {}, (p.versions || []).join(", ")),
          h("td", {}, (p.versions || []).length > 1
            ? h("button", {
              id: `act-rollback-${p.name}`,
              onclick: () => act(`Roll plugin ${p.name} back to its previous version?`, `Plugin ${p.name} rolled back.`,
                "POST", `/clusters/${c}/plugins/${enc(p.name)}?command=rollback`),
            }, "Roll back")
            : h("span", { class: "muted" }, "—")))))),
    );
  }

  resourceNames() {
    return [...this.topics.keys()].filter((t) => t.startsWith("resource/")).map((t) => t.slice(9)).sort(naturalCompare);
  }

  renderErrors() {
    const c = enc(this.cluster);
    const errors = [];
    for (const name of this.resourceNames()) {
      for (const e of this.topics.get(`resource/${name}`).errors || []) errors.push({ resource: name, ...e });
    }
    this.sections.errors.hidden = errors.length === 0;
    fill(this.sections.errors,
      h("h2", { id: "h-errors" }, `Partitions in ERROR (${errors.length})`),
      h("table", {},
        h("thead", {}, h("tr", {}, ["Resource", "Partition", "Instance", "Info", "Actions"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, errors.map((e) => h("tr", {},
          h("td", {}, e.resource), h("td", {}, e.partition), h("td", {}, e.instance),
          h("td", {}, e.info || h("span", { class: "muted" }, "—")),
          h("td", {}, h("button", {
            id: `act-reset-${e.resource}-${e.partition}-${e.instance}`,
            onclick: () => act(`Reset ${e.partition} of ${e.resource} on ${e.instance}?`, `Reset of ${e.partition} sent.`,
              "POST", `/clusters/${c}/instances/${enc(e.instance)}?command=resetPartitions`,
              { resource: e.resource, partitions: [e.partition] }),
          }, "Reset")))))),
    );
  }

  renderResources(only) {
    const names = this.resourceNames();
    const container = this.sections.resources;
    const existing = new Map([...container.children].map((el) => [el.dataset.resource, el]));
    for (const [name, el] of existing) if (!names.includes(name)) el.remove();
    let previous = null;
    for (const name of names) {
      let el = existing.get(name);
      if (!el || !only || only.includes(name)) {
        const fresh = this.resourceSection(name);
        if (el) el.replaceWith(fresh);
        el = fresh;
      }
      // Keep sections in name order.
      if (previous ? previous.nextSibling !== el : container.firstChild !== el) {
        if (previous) previous.after(el); else container.prepend(el);
      }
      previous = el;
    }
  }

  resourceSection(name) {
    const doc = this.topics.get(`resource/${name}`);
    const views = Object.keys(doc.views || {}).sort((a, b) => (a === "EXTERNALVIEW" ? -1 : b === "EXTERNALVIEW" ? 1 : naturalCompare(a, b)));
    let chosen = this.views.get(name);
    if (!views.includes(chosen)) chosen = views[0];
    const map = chosen ? doc.views[chosen] : {};
    const partitions = Object.keys(map).sort(naturalCompare);
    const instances = [...new Set(partitions.flatMap((p) => Object.keys(map[p])))].sort(naturalCompare);
    const shown = this.expanded.has(name) ? partitions : partitions.slice(0, GRID_ROWS);
    const ideal = doc.ideal_state || {};
    const safe = name.replace(/[^A-Za-z0-9_-]/g, "_");
    const select = views.length > 1
      ? h("label", {}, "View ",
        h("select", {
          id: `view-${safe}`,
          onchange: (event) => { this.views.set(name, event.target.value); this.touch(`resource/${name}`); },
        }, views.map((v) => h("option", { value: v, selected: v === chosen }, v))))
      : h("span", { class: "muted" }, chosen || "no view yet");
    const grid = partitions.length === 0
      ? h("p", { class: "muted" }, "No partition in this view yet.")
      : h("div", { class: "grid-wrap" },
        h("table", { class: "grid", dataset: { view: chosen } },
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Partition"), instances.map((i) => h("th", { scope: "col" }, i)))),
          h("tbody", {}, shown.map((p) => h("tr", { dataset: { partition: p } },
            h("th", { scope: "row" }, p), instances.map((i) => stateCell(map[p][i])))))));
    return h("section", { dataset: { resource: name }, "aria-label": `Resource ${name}` },
      h("div", { class: "resource-head" },
        h("h2", {}, name),
        h("span", { class: "muted" }, [ideal.state_model, ideal.rebalance_mode, ideal.partitions && `${ideal.partitions} partitions`, ideal.replicas && `${ideal.replicas} replicas`].filter(Boolean).join(" · ")),
        h("span", { class: `pill ${doc.pending_messages ? "" : "good"}` }, `${doc.pending_messages} pending`),
        doc.errors && doc.errors.length ? h("span", { class: "pill bad" }, `${doc.errors.length} in ERROR`) : null,
        select),
      grid,
      shown.length < partitions.length
        ? h("button", { id: `more-${safe}`, onclick: () => { this.expanded.add(name); this.touch(`resource/${name}`); } },
          `Show all ${partitions.length} partitions`)
        : null);
  }
}

window.addEventListener("hashchange", route);
route();
if (location.hash.startsWith("#/cluster/")) fillNav();
