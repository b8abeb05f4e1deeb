import { beforeEach, describe, expect, it, vi } from 'vitest'
import * as auth from '../src/auth.js'
import * as api from '../src/api.js'
import { setConfigForTesting } from '../src/config.js'

vi.mock('../src/auth.js')

function respond(body, status = 200) {
  return new Response(body === undefined ? '' : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  })
}

describe('api', () => {
  let fetchMock

  beforeEach(() => {
    setConfigForTesting({
      region: 'us-east-1',
      userPoolId: 'us-east-1_abc',
      userPoolClientId: 'client',
      cartApiUrl: 'https://cart.example/prod',
      productApiUrl: 'https://products.example/prod',
    })
    fetchMock = vi.fn()
    vi.stubGlobal('fetch', fetchMock)
    vi.mocked(auth.getIdToken).mockResolvedValue(null)
  })

  it('sends anonymous cart requests with the cookie and no Authorization', async () => {
    fetchMock.mockResolvedValue(respond({ products: [] }))
    await api.fetchCart()
    const [url, init] = fetchMock.mock.calls[0]
    expect(url).toBe('https://cart.example/prod/cart')
    expect(init.credentials).toBe('include')
    expect(init.method).toBe('GET')
    expect(init.headers.Authorization).toBeUndefined()
  })

  it('adds the ID token as a Bearer token when signed in', async () => {
    vi.mocked(auth.getIdToken).mockResolvedValue('id.token.value')
    fetchMock.mockResolvedValue(respond({ productId: 'mug-1', quantity: 3, message: 'ok' }))
    const result = await api.addToCart('mug-1', 1)
    const [url, init] = fetchMock.mock.calls[0]
    expect(url).toBe('https://cart.example/prod/cart')
    expect(init.method).toBe('POST')
    expect(init.headers.Authorization).toBe('Bearer id.token.value')
    expect(init.headers['Content-Type']).toBe('application/json')
    expect(JSON.parse(init.body)).toEqual({ productId: 'mug-1', quantity: 1 })
    expect(result.quantity).toBe(3)
  })

  it('builds the other cart routes', async () => {
    fetchMock.mockImplementation(() => Promise.resolve(respond({ products: [], totals: [], quantity: 0 })))
    await api.updateCartItem('a b', 0)
    await api.migrateCart()
    await api.checkoutCart()
    await api.fetchCartTotals()
    const calls = fetchMock.mock.calls.map(([url, init]) => `${init.method} ${url}`)
    expect(calls).toEqual([
      'PUT https://cart.example/prod/cart/a%20b',
      'POST https://cart.example/prod/cart/migrate',
      'POST https://cart.example/prod/cart/checkout',
      'GET https://cart.example/prod/cart/totals',
    ])
    expect(JSON.parse(fetchMock.mock.calls[0][1].body)).toEqual({ quantity: 0 })
  })

  it('reads products without credentials or token', async () => {
    vi.mocked(auth.getIdToken).mockResolvedValue('id.token.value')
    fetchMock.mockResolvedValue(respond({ products: [{ productId: 'p' }] }))
    await expect(api.fetchProducts()).resolves.toEqual([{ productId: 'p' }])
    const [url, init] = fetchMock.mock.calls[0]
    expect(url).toBe('https://products.example/prod/product')
    expect(init.credentials).toBe('same-origin')
    expect(init.headers.Authorization).toBeUndefined()
  })

  it("throws an ApiError with the server's message and status", async () => {
    fetchMock.mockResolvedValue(respond({ message: 'Product not found' }, 404))
    const error = await api.addToCart('nope', 1).catch((e) => e)
    expect(error).toBeInstanceOf(api.ApiError)
    expect(error.message).toBe('Product not found')
    expect(error.status).toBe(404)
  })

  it('explains errors that carry no message', async () => {
    fetchMock.mockResolvedValueOnce(new Response('<html>bad gateway</html>', { status: 502 }))
    await expect(api.fetchCart()).rejects.toMatchObject({ status: 502, message: expect.stringMatching(/HTTP 502/) })
    fetchMock.mockResolvedValueOnce(respond({}, 503))
    await expect(api.fetchCart()).rejects.toMatchObject({ status: 503, message: expect.stringMatching(/unavailable/) })
  })

  it('turns a network failure into a readable error', async () => {
    fetchMock.mockRejectedValue(new TypeError('Failed to fetch'))
    await expect(api.fetchCart()).rejects.toMatchObject({ status: 0, message: expect.stringMatching(/Could not reach/) })
  })

  it('rejects a success that is not JSON', async () => {
    fetchMock.mockResolvedValue(new Response('<html></html>', { status: 200 }))
    await expect(api.fetchCart()).rejects.toThrow(/not JSON/)
  })
})
