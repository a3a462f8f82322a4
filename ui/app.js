// The dashboard (/ui/): the jobs with status and age, live from GET /api/v1/events/; one job's log
// followed live (GET /api/v1/<jid>/logs/?follow=1); the queue and capacity when the server has them.
// EventSource cannot send an Authorization header, so the event stream is read with fetch.
const TOKEN_KEY = 'pman-token';
const RETRY_MS = 2000;
const POLL_MS = 3000;
const RESYNC_MS = 30000;
const LOG_MAX_CHARS = 1_000_000;

const $ = (id) => document.getElementById(id);

/** jid → {jid, status, message, timestamp, created?} */
const jobs = new Map();
/** jid → its table row */
const rows = new Map();
/** jids an event updated while the list was being fetched: the event is newer. */
const touched = new Set();
let lastSeq;
let live = false;
let streamAbort;
let logAbort;

function authHeaders() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { Authorization: `Bearer ${token}` } : {};
}

function api(path, init = {}) {
  return fetch(path, { ...init, headers: { ...authHeaders(), ...init.headers } });
}

async function errorText(res) {
  let detail = res.statusText;
  try {
    const body = await res.json();
    detail = typeof body.message === 'string' ? body.message : JSON.stringify(body.message);
  } catch {
    // not JSON: the status text says enough
  }
  return `HTTP ${res.status}: ${detail}`;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function formatAge(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

// ---- the jobs table ----

function renderRow(job) {
  let row = rows.get(job.jid);
  if (row === undefined) {
    row = document.createElement('tr');
    row.dataset.jid = job.jid;
    const name = document.createElement('td');
    const follow = document.createElement('button');
    follow.type = 'button';
    follow.textContent = job.jid;
    follow.setAttribute('aria-label', `Follow the log of ${job.jid}`);
    follow.addEventListener('click', () => void followLog(job.jid));
    name.append(follow);
    const status = document.createElement('td');
    status.className = 'status';
    const message = document.createElement('td');
    message.className = 'message';
    const age = document.createElement('td');
    age.className = 'age';
    age.append(document.createElement('time'));
    row.append(name, status, message, age);
    rows.set(job.jid, row);
    const body = $('jobs').tBodies[0];
    const after = [...rows.keys()].filter((jid) => jid > job.jid).sort()[0];
    body.insertBefore(row, after === undefined ? null : (rows.get(after) ?? null));
  }
  const status = row.querySelector('.status');
  status.textContent = job.status;
  status.className = `status status-${job.status}`;
  renderMessage(job, row.querySelector('.message'));
  renderAge(job, row);
}

/** The message; a service job's endpoint (issue 15) as a link after it once it has one. */
function renderMessage(job, cell) {
  cell.textContent = job.message;
  if (typeof job.endpoint !== 'string' || !/^https?:\/\//.test(job.endpoint)) return;
  const link = document.createElement('a');
  link.href = job.endpoint;
  link.textContent = job.endpoint;
  link.rel = 'noopener noreferrer';
  link.target = '_blank';
  cell.append(' — ', link);
}

/** A service job's endpoint changes with its status (set once healthy, gone once ended): the
 *  event says only the status, so the job is read again. */
async function refreshEndpoint(jid) {
  const res = await api(`/api/v1/${encodeURIComponent(jid)}/`);
  if (!res.ok) return;
  const answer = await res.json();
  const job = jobs.get(jid);
  if (job === undefined) return;
  job.endpoint = answer.endpoint;
  renderRow(job);
}

function renderAge(job, row) {
  const since = job.created ?? job.timestamp;
  const time = row.querySelector('time');
  time.dateTime = since;
  time.textContent = formatAge(Date.now() - Date.parse(since));
  time.title = job.created === undefined ? `status since ${since}` : `created ${since}`;
}

function removeMissing() {
  for (const [jid, row] of rows) {
    if (!jobs.has(jid)) {
      row.remove();
      rows.delete(jid);
    }
  }
}

function note(text) {
  $('jobs-note').textContent = text;
}

async function loadJobs() {
  touched.clear();
  const res = await api('/api/v1/jobs/');
  if (!res.ok) {
    note(`Jobs: ${await errorText(res)}`);
    return;
  }
  const listed = (await res.json()).jobs;
  // When each job's latest run was created: the age column (history lists newest first).
  const created = new Map();
  const history = await api('/api/v1/history/?limit=1000');
  if (history.ok) {
    for (const run of (await history.json()).runs) {
      if (!created.has(run.jid)) created.set(run.jid, run.created);
    }
  }
  const keep = new Map();
  for (const job of listed) {
    const known = jobs.get(job.jid);
    keep.set(
      job.jid,
      touched.has(job.jid) && known ? known : { ...job, created: created.get(job.jid) },
    );
  }
  for (const jid of touched) if (!keep.has(jid) && jobs.has(jid)) keep.set(jid, jobs.get(jid));
  jobs.clear();
  for (const [jid, job] of keep) jobs.set(jid, job);
  removeMissing();
  for (const job of jobs.values()) renderRow(job);
  note(jobs.size === 0 ? 'No jobs yet.' : `${jobs.size} job(s).`);
}

function onStatus(event) {
  lastSeq = event.seq;
  touched.add(event.jid);
  const known = jobs.get(event.jid);
  // A new run starts at notstarted: its age counts from then.
  const created =
    event.status === 'notstarted' || known === undefined ? event.timestamp : known.created;
  const job = { ...known, jid: event.jid, status: event.status, message: event.message };
  job.timestamp = event.timestamp;
  job.created = created;
  jobs.set(event.jid, job);
  renderRow(job);
  note(`${jobs.size} job(s).`);
  // Only a service job's object has `endpoint`; it can first have one when it turns started.
  if (event.status === 'started' || (known !== undefined && 'endpoint' in known))
    void refreshEndpoint(event.jid);
}

// ---- server-sent events over fetch ----

function parseFrame(block) {
  let event = 'message';
  const data = [];
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  return data.length === 0 ? undefined : { event, data: data.join('\n') };
}

async function readFrames(body, onFrame) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, '\n');
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const frame = parseFrame(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
      if (frame !== undefined) onFrame(frame);
    }
  }
}

function streamState(text) {
  $('stream-state').textContent = text;
}

async function followEvents() {
  const controller = new AbortController();
  streamAbort = controller;
  while (!controller.signal.aborted) {
    try {
      const headers = authHeaders();
      if (lastSeq !== undefined) headers['Last-Event-ID'] = String(lastSeq);
      const res = await fetch('/api/v1/events/', { headers, signal: controller.signal });
      if (!res.ok) {
        const hint = res.status === 401 ? ' Type the token above.' : '';
        streamState(`Event stream not available (${await errorText(res)}); polling.${hint}`);
      } else {
        live = true;
        streamState('Live: following the event stream.');
        await readFrames(res.body, (frame) => {
          if (frame.event === 'status') onStatus(JSON.parse(frame.data));
          else if (frame.event === 'reset') {
            lastSeq = JSON.parse(frame.data).last;
            void loadJobs();
          }
        });
        streamState('Event stream ended; reconnecting…');
      }
    } catch {
      if (controller.signal.aborted) return;
      streamState('Event stream lost; reconnecting…');
    }
    live = false;
    await sleep(RETRY_MS);
  }
}

// ---- one job's log ----

function logState(text) {
  $('log-state').textContent = text;
}

async function followLog(jid) {
  logAbort?.abort();
  const controller = new AbortController();
  logAbort = controller;
  const pre = $('log');
  pre.textContent = '';
  $('log-jid').textContent = jid;
  $('log-stop').disabled = false;
  logState(`Following the log of ${jid}…`);
  try {
    const path = `/api/v1/${encodeURIComponent(jid)}/logs/?follow=1&tail=1000`;
    const res = await api(path, { signal: controller.signal });
    if (!res.ok) {
      logState(`Log of ${jid}: ${await errorText(res)}`);
      return;
    }
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
      const text = pre.textContent + value;
      pre.textContent = text.length > LOG_MAX_CHARS ? text.slice(-LOG_MAX_CHARS) : text;
      if (atEnd) pre.scrollTop = pre.scrollHeight;
    }
    logState(`The log of ${jid} is complete (the job has ended).`);
  } catch {
    logState(controller.signal.aborted ? `Stopped following ${jid}.` : `Log of ${jid}: lost.`);
  } finally {
    if (logAbort === controller) $('log-stop').disabled = true;
  }
}

// ---- queue and capacity: shown when the server has them ----

/** A value as text: null as a dash (the API's "none" / "unlimited"), an object as key: value pairs. */
function cell(value) {
  if (value === null || value === undefined) return '—';
  if (Array.isArray(value)) return value.map(cell).join(', ');
  if (typeof value === 'object') {
    return Object.entries(value)
      .map(([k, v]) => `${k}: ${cell(v)}`)
      .join(', ');
  }
  return String(value);
}

function table(caption, items) {
  const t = document.createElement('table');
  const c = t.createCaption();
  c.textContent = caption;
  const columns = [...new Set(items.flatMap((item) => Object.keys(item)))];
  const head = t.createTHead().insertRow();
  for (const column of columns) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = column;
    head.append(th);
  }
  const body = t.createTBody();
  for (const item of items) {
    const row = body.insertRow();
    for (const column of columns) row.insertCell().textContent = cell(item[column]);
  }
  return t;
}

/** Any JSON object: its lists of objects as tables, everything else as a list of terms. */
function renderData(target, name, data) {
  const parts = [];
  const terms = document.createElement('dl');
  const entries = Array.isArray(data) ? [[name, data]] : Object.entries(data);
  for (const [key, value] of entries) {
    if (Array.isArray(value) && value.every((v) => v !== null && typeof v === 'object')) {
      if (value.length === 0) {
        const p = document.createElement('p');
        p.textContent = `${key}: none`;
        parts.push(p);
      } else parts.push(table(key, value));
    } else {
      const dt = document.createElement('dt');
      dt.textContent = key;
      const dd = document.createElement('dd');
      dd.textContent = cell(value);
      terms.append(dt, dd);
    }
  }
  if (terms.childElementCount > 0) parts.unshift(terms);
  target.replaceChildren(...parts);
}

async function loadOptional(path, id, name) {
  const target = $(id);
  let text;
  try {
    const res = await api(path);
    if (res.status === 200) {
      renderData(target, name, await res.json());
      return;
    }
    text = `${name}: not available (${await errorText(res)}).`;
  } catch {
    text = `${name}: not available (no answer).`;
  }
  const p = document.createElement('p');
  p.className = 'unavailable';
  p.textContent = text;
  target.replaceChildren(p);
}

// ---- start ----

function refreshSide() {
  void loadOptional('/api/v1/queue/', 'queue', 'Queue');
  void loadOptional('/api/v1/capacity/', 'capacity', 'Capacity');
}

function start() {
  streamAbort?.abort();
  lastSeq = undefined;
  // The stream first, then the list: nothing that happens in between is lost.
  void followEvents();
  void loadJobs();
  refreshSide();
}

document.addEventListener('DOMContentLoaded', () => {
  $('token').value = sessionStorage.getItem(TOKEN_KEY) ?? '';
  $('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const token = $('token').value.trim();
    if (token === '') sessionStorage.removeItem(TOKEN_KEY);
    else sessionStorage.setItem(TOKEN_KEY, token);
    start();
  });
  $('log-stop').addEventListener('click', () => logAbort?.abort());
  setInterval(() => {
    for (const job of jobs.values()) {
      const row = rows.get(job.jid);
      if (row !== undefined) renderAge(job, row);
    }
  }, 1000);
  setInterval(() => {
    if (!live) void loadJobs();
  }, POLL_MS);
  setInterval(() => {
    void loadJobs();
    refreshSide();
  }, RESYNC_MS);
  start();
});
