// One fetch wrapper for both APIs: JSON in and out, the anonymous-cart cookie sent along
// (credentials: 'include'), the Cognito ID token added when signed in, and every failure turned
// into an ApiError carrying the server's message and the HTTP status.
import { getConfig } from './config.js'
import { getIdToken } from './auth.js'

export const REQUEST_TIMEOUT_MS = 20000

export class ApiError extends Error {
  constructor(message, status = 0, body = null) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.body = body
  }
}

function fallbackMessage(status) {
  if (status === 401) return 'Your session has expired. Please sign in again.'
  if (status === 403) return 'You are not allowed to do that.'
  if (status === 404) return 'Not found.'
  if (status === 503) return 'The service is temporarily unavailable. Please try again shortly.'
  if (status >= 500) return `The server had a problem (HTTP ${status}). Please try again.`
  return `The request failed (HTTP ${status}).`
}

/**
 * Sends a request and returns the parsed JSON body.
 * @param {string} url absolute URL
 * @param {{method?: string, body?: unknown, auth?: boolean, credentials?: RequestCredentials}} options
 *   auth: add the ID token when signed in (default true); credentials: default 'include'.
 */
export async function request(url, { method = 'GET', body, auth = true, credentials = 'include' } = {}) {
  const headers = { Accept: 'application/json' }
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  if (auth) {
    const token = await getIdToken()
    if (token) headers.Authorization = `Bearer ${token}`
  }
  const init = {
    method,
    headers,
    credentials,
    body: body === undefined ? undefined : JSON.stringify(body),
  }
  if (typeof AbortSignal !== 'undefined' && typeof AbortSignal.timeout === 'function') {
    init.signal = AbortSignal.timeout(REQUEST_TIMEOUT_MS)
  }

  let response
  try {
    response = await fetch(url, init)
  } catch (error) {
    if (error?.name === 'TimeoutError' || error?.name === 'AbortError') {
      throw new ApiError('The server took too long to answer. Please try again.', 0)
    }
    throw new ApiError('Could not reach the server. Check your connection and try again.', 0)
  }

  const text = await response.text().catch(() => '')
  let data = null
  if (text) {
    try {
      data = JSON.parse(text)
    } catch {
      data = null
    }
  }
  if (!response.ok) {
    const message =
      data && typeof data.message === 'string' && data.message.trim()
        ? data.message
        : fallbackMessage(response.status)
    throw new ApiError(message, response.status, data)
  }
  if (text && data === null) {
    throw new ApiError('The server sent a response that is not JSON.', response.status)
  }
  return data ?? {}
}

const cartUrl = (path = '') => `${getConfig().cartApiUrl}/cart${path}`
const productUrl = (path = '') => `${getConfig().productApiUrl}/product${path}`

function list(data, key) {
  return Array.isArray(data?.[key]) ? data[key] : []
}

// Product API: public, so no credentials and no token (keeps CORS simple on AWS).
export async function fetchProducts() {
  return list(await request(productUrl(), { auth: false, credentials: 'same-origin' }), 'products')
}

// Cart API.
export async function fetchCart() {
  return list(await request(cartUrl()), 'products')
}

/** Adds `quantity` (negative removes; never 0). Resolves to {productId, quantity, message}. */
export function addToCart(productId, quantity) {
  return request(cartUrl(), { method: 'POST', body: { productId, quantity } })
}

/** Sets the quantity (0 removes). Resolves to {productId, quantity, message}. */
export function updateCartItem(productId, quantity) {
  return request(cartUrl(`/${encodeURIComponent(productId)}`), { method: 'PUT', body: { quantity } })
}

/** Merges the anonymous cart into the signed-in user's cart; resolves to the merged lines. */
export async function migrateCart() {
  return list(await request(cartUrl('/migrate'), { method: 'POST' }), 'products')
}

/** Checks out the signed-in user's cart; resolves to the lines bought. */
export async function checkoutCart() {
  return list(await request(cartUrl('/checkout'), { method: 'POST' }), 'products')
}

/** Admin: every product's total in all carts, [{product, quantity}]. */
export async function fetchCartTotals() {
  return list(await request(cartUrl('/totals')), 'totals')
}
