// The bank's JSON API: bearer token, answers in the customer's language, errors as ApiError.
import * as session from './session.js';
import { currentLanguage, t } from './i18n.js';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let onExpired = () => {};
export function whenSignInExpires(handler) {
  onExpired = handler;
}

export async function api(method, path, body) {
  const headers = { 'Accept-Language': currentLanguage() === 'en' ? 'en' : 'zh-CN' };
  const token = session.token();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'network', t('error.network'));
  }
  let data = null;
  try {
    data = await response.json();
  } catch { /* not JSON: handled below */ }
  if (!response.ok) {
    const error = (data && data.error) || {};
    const failure = new ApiError(response.status, error.code || 'http_' + response.status,
      error.message || t('error.server'));
    if (response.status === 401 && path.startsWith('/api/bank/')) onExpired(failure);
    throw failure;
  }
  return data;
}
