// HTTP calls to the labeling server. Every request carries the access token (when the page
// was opened with ?token=...) and the CSRF header the server requires on writes.

const TOKEN = new URLSearchParams(window.location.search).get("token");

export class ApiError extends Error {
  constructor(status, detail, body) {
    super(detail);
    this.status = status;
    this.body = body;
  }
}

/** URL of an API path, with the token as a query parameter (for <img src>). */
export function apiUrl(path, params = {}) {
  const url = new URL(path, window.location.origin);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  if (TOKEN) url.searchParams.set("token", TOKEN);
  return url.pathname + url.search;
}

/** fetch() with token and CSRF headers; throws ApiError with the server's detail. */
export async function request(path, { method = "GET", params = {}, headers = {}, body, signal } = {}) {
  const allHeaders = { "X-Requested-With": "pixelseg", ...headers };
  if (TOKEN) allHeaders["X-Pixelseg-Token"] = TOKEN;
  const response = await fetch(apiUrl(path, params), { method, headers: allHeaders, body, signal });
  if (!response.ok) {
    let payload = null;
    try { payload = await response.json(); } catch { /* not JSON */ }
    const detail = payload && typeof payload.detail === "string"
      ? payload.detail : `${method} ${path} failed with HTTP ${response.status}`;
    throw new ApiError(response.status, detail, payload);
  }
  return response;
}

export async function getJson(path, params) {
  return (await request(path, { params })).json();
}

export async function sendJson(path, method, data) {
  const response = await request(path, {
    method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(data),
  });
  return response.json();
}

/** GET binary data; returns {bytes: ArrayBuffer, headers}. signal: an AbortSignal to cancel. */
export async function getBinary(path, params, method = "GET", signal = undefined) {
  const response = await request(path, { params, method, signal });
  return { bytes: await response.arrayBuffer(), headers: response.headers };
}

/** gzip a byte array in the browser (CompressionStream), for label uploads. */
export async function gzip(bytes) {
  if (typeof CompressionStream === "undefined") return { body: bytes, encoding: null };
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return { body: await new Response(stream).arrayBuffer(), encoding: "gzip" };
}

export const imagePath = (name) => `/api/images/${encodeURIComponent(name)}`;
