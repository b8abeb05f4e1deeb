// Runtime configuration: fetched once from GET /config.json, so that one build serves the local
// stack and AWS. Nothing environment-specific is baked in at build time.

const REQUIRED = ['region', 'userPoolId', 'userPoolClientId', 'cartApiUrl', 'productApiUrl']
const URL_KEYS = ['cartApiUrl', 'productApiUrl', 'userPoolEndpoint']

let pending = null
let current = null

/** Resolves a (possibly relative) base URL against the page and drops trailing slashes. */
export function normaliseBaseUrl(value, base = globalThis.location?.href) {
  const url = new URL(String(value), base).href
  return url.replace(/\/+$/, '')
}

/** Checks and normalises a raw config object; throws an Error naming what is wrong. */
export function parseConfig(raw, base) {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new Error('The runtime configuration (/config.json) is not a JSON object.')
  }
  const missing = REQUIRED.filter((key) => typeof raw[key] !== 'string' || raw[key].trim() === '')
  if (missing.length) {
    throw new Error(`The runtime configuration (/config.json) is missing: ${missing.join(', ')}.`)
  }
  const config = { ...raw }
  if (config.maxQuantity !== undefined) {
    // A number in config.json on AWS; a string where it comes from a stack output (the local stack).
    const max = Number(config.maxQuantity)
    if (!Number.isInteger(max) || max < 1) {
      throw new Error('The runtime configuration (/config.json) has an invalid maxQuantity.')
    }
    config.maxQuantity = max
  }
  for (const key of URL_KEYS) {
    if (typeof config[key] === 'string' && config[key].trim() !== '') {
      config[key] = normaliseBaseUrl(config[key].trim(), base)
    } else {
      delete config[key]
    }
  }
  return Object.freeze(config)
}

/** Loads /config.json once; later calls return the same promise. A failed load can be retried. */
export function loadConfig({ url = '/config.json', fetchImpl = globalThis.fetch } = {}) {
  if (!pending) {
    pending = (async () => {
      let response
      try {
        response = await fetchImpl(url, { cache: 'no-store', headers: { Accept: 'application/json' } })
      } catch {
        throw new Error('Could not load the shop configuration (/config.json): the server did not answer.')
      }
      if (!response.ok) {
        throw new Error(`Could not load the shop configuration (/config.json): HTTP ${response.status}.`)
      }
      let raw
      try {
        raw = await response.json()
      } catch {
        throw new Error('The shop configuration (/config.json) is not valid JSON.')
      }
      current = parseConfig(raw)
      return current
    })()
    pending.catch(() => {
      pending = null
    })
  }
  return pending
}

/** The loaded configuration; throws if loadConfig() has not finished. */
export function getConfig() {
  if (!current) throw new Error('The runtime configuration has not been loaded yet.')
  return current
}

/** For tests: set or clear the configuration. */
export function setConfigForTesting(config) {
  current = config ? parseConfig(config, 'http://localhost/') : null
  pending = current ? Promise.resolve(current) : null
}
