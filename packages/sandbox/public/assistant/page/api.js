// The sandbox control API over fetch.

export async function api(method, path, body) {
  // x-sandbox-client: the control API refuses state-changing requests without it or a JSON body
  // (a page on another website cannot set it without a CORS preflight, which the sandbox never grants).
  const init = { method, headers: { accept: 'application/json', 'x-sandbox-client': 'page' } };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch (err) {
    data = { message: text || String(err) };
  }
  if (!res.ok) {
    const message = (data && (data.message || data.code)) || `HTTP ${res.status}`;
    const error = new Error(message);
    error.status = res.status;
    error.body = data;
    throw error;
  }
  return data;
}
