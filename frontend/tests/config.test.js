import { beforeEach, describe, expect, it, vi } from 'vitest'
import { getConfig, loadConfig, normaliseBaseUrl, parseConfig, setConfigForTesting } from '../src/config.js'

const raw = {
  region: 'us-east-1',
  userPoolId: 'us-east-1_abc',
  userPoolClientId: 'client',
  userPoolEndpoint: 'http://localhost:8080/cognito/',
  cartApiUrl: 'http://localhost:8080/api/cart-service/',
  productApiUrl: '/api/product-service',
}

function jsonResponse(body, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

describe('config', () => {
  beforeEach(() => {
    setConfigForTesting(null)
  })

  it('drops trailing slashes and resolves relative URLs against the page', () => {
    expect(normaliseBaseUrl('https://x.example/prod/', 'http://a/')).toBe('https://x.example/prod')
    const config = parseConfig(raw, 'http://localhost:8080/checkout')
    expect(config.cartApiUrl).toBe('http://localhost:8080/api/cart-service')
    expect(config.productApiUrl).toBe('http://localhost:8080/api/product-service')
    expect(config.userPoolEndpoint).toBe('http://localhost:8080/cognito')
  })

  it('leaves userPoolEndpoint out when absent (AWS)', () => {
    const { userPoolEndpoint, ...aws } = raw
    expect(userPoolEndpoint).toBeTruthy()
    expect(parseConfig(aws, 'http://a/')).not.toHaveProperty('userPoolEndpoint')
  })

  it('names the missing keys', () => {
    expect(() => parseConfig({ region: 'x' }, 'http://a/')).toThrow(/userPoolId, userPoolClientId, cartApiUrl, productApiUrl/)
    expect(() => parseConfig([], 'http://a/')).toThrow(/not a JSON object/)
  })

  it('fetches /config.json once and shares the result', async () => {
    const fetchImpl = vi.fn().mockResolvedValue(jsonResponse(raw))
    const [a, b] = await Promise.all([loadConfig({ fetchImpl }), loadConfig({ fetchImpl })])
    expect(a).toBe(b)
    expect(fetchImpl).toHaveBeenCalledTimes(1)
    expect(fetchImpl.mock.calls[0][0]).toBe('/config.json')
    expect(getConfig().userPoolId).toBe('us-east-1_abc')
  })

  it('reports an HTTP failure and can be retried', async () => {
    const fetchImpl = vi.fn().mockResolvedValueOnce(jsonResponse({}, 404)).mockResolvedValueOnce(jsonResponse(raw))
    await expect(loadConfig({ fetchImpl })).rejects.toThrow(/HTTP 404/)
    await expect(loadConfig({ fetchImpl })).resolves.toMatchObject({ region: 'us-east-1' })
  })

  it('reports a server that does not answer', async () => {
    const fetchImpl = vi.fn().mockRejectedValue(new TypeError('Failed to fetch'))
    await expect(loadConfig({ fetchImpl })).rejects.toThrow(/did not answer/)
  })
})
