// The JSON API client: same-origin cookie session, X-CSRF-Token on every state-changing call,
// error objects turned into ApiError. upload() is the multipart variant with progress events.

const BASE = '/api/v1';
let csrfToken = null;
const unauthListeners = [];

export function setCsrf(token) {
  csrfToken = token || null;
}

/** fn(err) is called when a request that needed a session answers 401 unauthenticated. */
export function onUnauthenticated(fn) {
  unauthListeners.push(fn);
}

export class ApiError extends Error {
  constructor(status, body, headers) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || (status === 0 ? 'network' : 'unknown');
    this.details = Array.isArray(e.details) ? e.details : [];
    this.retryAfter = headers ? Number(headers.get('Retry-After')) || null : null;
  }

  /** Validation details that name a field: [{field, code, message}]. */
  fieldDetails() {
    return this.details.filter((d) => d && typeof d.field === 'string');
  }
}

function stateChanging(method) {
  return method !== 'GET' && method !== 'HEAD';
}

function notifyUnauth(err, path) {
  if (err.status === 401 && err.code === 'unauthenticated' && !path.startsWith('/auth/login'))
    unauthListeners.forEach((fn) => fn(err));
}

async function request(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json; charset=utf-8';
  if (stateChanging(method) && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let res;
  try {
    res = await fetch(BASE + path, {
      method,
      headers,
      credentials: 'same-origin',
      cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, null, null);
  }
  let data = null;
  const text = await res.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const err = new ApiError(res.status, data, res.headers);
    notifyUnauth(err, path);
    throw err;
  }
  return data;
}

export const api = {
  get: (path) => request('GET', path),
  post: (path, body) => request('POST', path, body === undefined ? {} : body),
  put: (path, body) => request('PUT', path, body),
  del: (path) => request('DELETE', path),
};

/** Multipart POST of `formData` with XMLHttpRequest, so that upload progress can be shown:
 * onProgress(fraction 0..1). Resolves to the parsed JSON answer, rejects with ApiError. */
export function upload(path, formData, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', BASE + path);
    xhr.withCredentials = false; // same origin: cookies go anyway
    xhr.setRequestHeader('Accept', 'application/json');
    if (csrfToken) xhr.setRequestHeader('X-CSRF-Token', csrfToken);
    if (onProgress) {
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
      };
    }
    xhr.onload = () => {
      let data = null;
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        if (onProgress) onProgress(1);
        resolve(data);
        return;
      }
      const headers = { get: (name) => xhr.getResponseHeader(name) };
      const err = new ApiError(xhr.status, data, headers);
      notifyUnauth(err, path);
      reject(err);
    };
    xhr.onerror = () => reject(new ApiError(0, null, null));
    xhr.onabort = () => reject(new ApiError(0, null, null));
    xhr.send(formData);
  });
}
