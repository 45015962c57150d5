// Talks to the viewer server. Every failure becomes an Error whose message is the server's explanation.

async function request(method, url, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(url, init);
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!res.ok) {
    const err = new Error((data && data.message) || `${method} ${url} failed with ${res.status}`);
    err.status = res.status;
    err.code = data && data.error;
    err.data = data;
    throw err;
  }
  return data;
}

const enc = encodeURIComponent;

export const api = {
  status: () => request('GET', '/api/status'),
  graphs: () => request('GET', '/api/graphs'),
  featuresAcrossGraphs: () => request('GET', '/api/features-across-graphs'),
  view: (slug, params) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) {
      if (v !== null && v !== undefined && v !== '') q.set(k, String(v));
    }
    return request('GET', `/api/graphs/${enc(slug)}/view?${q}`);
  },
  annotations: (slug) => request('GET', `/api/graphs/${enc(slug)}/annotations`),
  saveAnnotations: (slug, body) => request('PUT', `/api/graphs/${enc(slug)}/annotations`, body),
  subgraphs: (slug) => request('GET', `/api/graphs/${enc(slug)}/subgraphs`),
  addSubgraph: (slug, body) => request('POST', `/api/graphs/${enc(slug)}/subgraphs`, body),
  feature: (z) => request('GET', `/api/features/${enc(z)}`),
  createGraph: (body) => request('POST', '/api/graphs', body),
  cancelJob: (id) => request('DELETE', `/api/jobs/${enc(id)}`),
  steer: (slug, body) => request('POST', `/api/graphs/${enc(slug)}/steer`, body),
  scores: (slug, pinnedIds) => request('POST', `/api/graphs/${enc(slug)}/scores`, { pinnedIds }),
  exportGraph: (slug, body) => request('POST', `/api/graphs/${enc(slug)}/export`, body),
};
