import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import * as api from '../src/api.js'
import { useCartStore } from '../src/stores/cart.js'
import { apiError, deferred, flushPromises, line, mug, sticker, tee } from './helpers.js'

vi.mock('../src/api.js')

describe('cart store', () => {
  let cart

  beforeEach(() => {
    setActivePinia(createPinia())
    cart = useCartStore()
  })

  it('loads the cart and computes count and total', async () => {
    vi.mocked(api.fetchCart).mockResolvedValue([line(mug, 2), line(tee, 1)])
    expect(await cart.load()).toBe(true)
    expect(cart.items.map((i) => [i.productId, i.quantity, i.lineTotal])).toEqual([
      ['mug-1', 2, 2500],
      ['tee-2', 1, 1999],
    ])
    expect(cart.count).toBe(3)
    expect(cart.total).toBe(4499)
    expect(cart.loading).toBe(false)
  })

  it('shows the loading state while reading the cart', async () => {
    const d = deferred()
    vi.mocked(api.fetchCart).mockReturnValue(d.promise)
    const done = cart.load()
    expect(cart.loading).toBe(true)
    d.resolve([])
    await done
    expect(cart.loading).toBe(false)
  })

  it('adds one optimistically, then takes the quantity the server confirms', async () => {
    const d = deferred()
    vi.mocked(api.addToCart).mockReturnValue(d.promise)
    const done = cart.add(mug, 1)
    expect(cart.quantityOf('mug-1')).toBe(1)
    expect(cart.isPending('mug-1')).toBe(true)
    expect(cart.saving).toBe(true)
    expect(cart.count).toBe(1)
    await flushPromises()
    expect(api.addToCart).toHaveBeenCalledWith('mug-1', 1)
    d.resolve({ productId: 'mug-1', quantity: 4, message: 'ok' }) // another tab had added 3
    expect(await done).toBe(true)
    expect(cart.quantityOf('mug-1')).toBe(4)
    expect(cart.isPending('mug-1')).toBe(false)
    expect(cart.saving).toBe(false)
    expect(cart.items[0].productDetail).toEqual(mug)
  })

  it('removes one with a negative quantity and drops the line at zero', async () => {
    vi.mocked(api.fetchCart).mockResolvedValue([line(mug, 1)])
    await cart.load()
    vi.mocked(api.addToCart).mockResolvedValue({ productId: 'mug-1', quantity: 0, message: 'removed' })
    expect(await cart.remove(mug)).toBe(true)
    expect(api.addToCart).toHaveBeenCalledWith('mug-1', -1)
    expect(cart.items).toEqual([])
    expect(cart.count).toBe(0)
  })

  it('does not send a removal for a product that is not in the cart, nor a zero add', async () => {
    expect(await cart.remove(mug)).toBe(false)
    expect(await cart.add(mug, 0)).toBe(false)
    expect(api.addToCart).not.toHaveBeenCalled()
  })

  it('sets a quantity with PUT for a line already in the cart', async () => {
    vi.mocked(api.fetchCart).mockResolvedValue([line(tee, 1)])
    await cart.load()
    vi.mocked(api.updateCartItem).mockResolvedValue({ productId: 'tee-2', quantity: 5, message: 'ok' })
    const done = cart.setQuantity(tee, 5)
    expect(cart.quantityOf('tee-2')).toBe(5)
    expect(await done).toBe(true)
    expect(api.updateCartItem).toHaveBeenCalledWith('tee-2', 5)
    expect(cart.total).toBe(5 * 1999)
  })

  it('sets a quantity of a product not yet in the cart by adding it', async () => {
    vi.mocked(api.addToCart).mockResolvedValue({ productId: 'mug-1', quantity: 3, message: 'ok' })
    expect(await cart.setQuantity(mug, 3)).toBe(true)
    expect(api.addToCart).toHaveBeenCalledWith('mug-1', 3)
    expect(api.updateCartItem).not.toHaveBeenCalled()
    expect(cart.quantityOf('mug-1')).toBe(3)
  })

  it('sets 0 to remove a line', async () => {
    vi.mocked(api.fetchCart).mockResolvedValue([line(tee, 2), line(mug, 1)])
    await cart.load()
    vi.mocked(api.updateCartItem).mockResolvedValue({ productId: 'tee-2', quantity: 0, message: 'ok' })
    await cart.setQuantity(tee, 0)
    expect(api.updateCartItem).toHaveBeenCalledWith('tee-2', 0)
    expect(cart.items.map((i) => i.productId)).toEqual(['mug-1'])
  })

  it('rejects quantities that are not whole numbers from 0 to 1000, with a message', async () => {
    expect(await cart.setQuantity(mug, 1001)).toBe(false)
    expect(cart.error).toMatch(/0 to 1000/)
    expect(await cart.setQuantity(mug, 1.5)).toBe(false)
    expect(await cart.setQuantity(mug, Number.NaN)).toBe(false)
    expect(api.updateCartItem).not.toHaveBeenCalled()
    expect(api.addToCart).not.toHaveBeenCalled()
  })

  it("rolls back a failed change and surfaces the server's message", async () => {
    vi.mocked(api.fetchCart).mockResolvedValue([line(mug, 2)])
    await cart.load()
    const d = deferred()
    vi.mocked(api.addToCart).mockReturnValue(d.promise)
    const done = cart.add(mug, 1)
    expect(cart.quantityOf('mug-1')).toBe(3)
    d.reject(apiError('Quantity would exceed the maximum', 400))
    expect(await done).toBe(false)
    expect(cart.quantityOf('mug-1')).toBe(2)
    expect(cart.error).toBe('Quantity would exceed the maximum')
    expect(cart.saving).toBe(false)
  })

  it('surfaces a load error', async () => {
    vi.mocked(api.fetchCart).mockRejectedValue(apiError('Service unavailable', 503))
    expect(await cart.load()).toBe(false)
    expect(cart.error).toBe('Service unavailable')
    cart.clearError()
    expect(cart.error).toBe('')
  })

  it('reads the cart again after a network failure, when nothing is pending', async () => {
    vi.mocked(api.addToCart).mockRejectedValue(apiError('Could not reach the server.', 0))
    vi.mocked(api.fetchCart).mockResolvedValue([line(mug, 1)]) // it had landed after all
    await cart.add(mug, 1)
    await flushPromises()
    expect(api.fetchCart).toHaveBeenCalledTimes(1)
    expect(cart.quantityOf('mug-1')).toBe(1)
    expect(cart.error).toMatch(/Could not reach/)
  })

  it('reads the cart again after the server refuses a change, keeping the message', async () => {
    vi.mocked(api.fetchCart).mockResolvedValueOnce([])
    await cart.load()
    // Another tab filled the line; this store still thinks it is empty.
    vi.mocked(api.addToCart).mockRejectedValue(apiError('a cart line holds at most 1000; it holds 1000', 409))
    vi.mocked(api.fetchCart).mockResolvedValueOnce([line(mug, 1000)])
    expect(await cart.add(mug, 1)).toBe(false)
    await flushPromises()
    expect(api.fetchCart).toHaveBeenCalledTimes(2)
    expect(cart.quantityOf('mug-1')).toBe(1000)
    expect(cart.error).toBe('a cart line holds at most 1000; it holds 1000')
  })

  it('does not read the cart again after an authorisation error', async () => {
    vi.mocked(api.fetchCart).mockResolvedValueOnce([])
    await cart.load()
    vi.mocked(api.addToCart).mockRejectedValue(apiError('Your session has expired.', 401))
    expect(await cart.add(mug, 1)).toBe(false)
    await flushPromises()
    expect(api.fetchCart).toHaveBeenCalledTimes(1)
    expect(cart.error).toBe('Your session has expired.')
  })

  it('sends rapid changes to one product one after another, in order', async () => {
    vi.mocked(api.fetchCart).mockResolvedValueOnce([])
    await cart.load() // the cart (and its cookie) exists
    const first = deferred()
    const second = deferred()
    vi.mocked(api.addToCart).mockReturnValueOnce(first.promise).mockReturnValueOnce(second.promise)
    const a = cart.add(mug, 1)
    const b = cart.add(mug, 1)
    expect(cart.quantityOf('mug-1')).toBe(2)
    await flushPromises()
    expect(api.addToCart).toHaveBeenCalledTimes(1) // the second waits for the first
    first.resolve({ productId: 'mug-1', quantity: 1 })
    await a
    expect(cart.quantityOf('mug-1')).toBe(2) // confirmed 1 + the pending +1
    await flushPromises()
    expect(api.addToCart).toHaveBeenCalledTimes(2)
    second.resolve({ productId: 'mug-1', quantity: 2 })
    await b
    expect(cart.quantityOf('mug-1')).toBe(2)
    expect(cart.saving).toBe(false)
  })

  it('keeps a change made during a load rather than the older read', async () => {
    vi.mocked(api.fetchCart).mockResolvedValueOnce([])
    await cart.load() // the cart (and its cookie) exists
    const read = deferred()
    vi.mocked(api.fetchCart).mockReturnValue(read.promise)
    vi.mocked(api.addToCart).mockResolvedValue({ productId: 'mug-1', quantity: 1 })
    const loading = cart.load()
    await cart.add(mug, 1)
    read.resolve([line(tee, 1)]) // read before the add landed
    await loading
    expect(cart.quantityOf('mug-1')).toBe(1)
    expect(cart.quantityOf('tee-2')).toBe(1)
  })

  it('sends nothing else until the first cart response has set the cookie', async () => {
    const read = deferred()
    vi.mocked(api.fetchCart).mockReturnValue(read.promise)
    vi.mocked(api.addToCart).mockImplementation((productId, quantity) => Promise.resolve({ productId, quantity }))
    const loading = cart.load()
    const a = cart.add(mug, 1)
    const b = cart.add(tee, 1)
    await flushPromises()
    expect(api.addToCart).not.toHaveBeenCalled()
    read.resolve([])
    await Promise.all([loading, a, b])
    expect(api.addToCart).toHaveBeenCalledTimes(2)
    expect(cart.count).toBe(2)
  })

  it('reads the cart only after a first write in flight has answered', async () => {
    const write = deferred()
    vi.mocked(api.addToCart).mockReturnValue(write.promise)
    vi.mocked(api.fetchCart).mockResolvedValue([line(mug, 1)])
    const a = cart.add(mug, 1)
    const loading = cart.load()
    await flushPromises()
    expect(api.fetchCart).not.toHaveBeenCalled()
    write.resolve({ productId: 'mug-1', quantity: 1 })
    await Promise.all([a, loading])
    expect(api.fetchCart).toHaveBeenCalledTimes(1)
    expect(cart.quantityOf('mug-1')).toBe(1)
  })

  it('sends the first writes one at a time when no read came first', async () => {
    const first = deferred()
    vi.mocked(api.addToCart).mockReturnValueOnce(first.promise).mockResolvedValueOnce({ productId: 'tee-2', quantity: 1 })
    const a = cart.add(mug, 1)
    const b = cart.add(tee, 1)
    await flushPromises()
    expect(api.addToCart).toHaveBeenCalledTimes(1)
    first.resolve({ productId: 'mug-1', quantity: 1 })
    await Promise.all([a, b])
    expect(api.addToCart).toHaveBeenCalledTimes(2)
    // Once the cookie exists, different products go out side by side.
    const c = deferred()
    vi.mocked(api.addToCart).mockReturnValueOnce(c.promise).mockResolvedValueOnce({ productId: 'tee-2', quantity: 2 })
    const d = cart.add(mug, 1)
    await cart.add(tee, 1)
    expect(api.addToCart).toHaveBeenCalledTimes(4)
    c.resolve({ productId: 'mug-1', quantity: 2 })
    await d
  })

  it('does not ask for more than the maximum', async () => {
    vi.mocked(api.fetchCart).mockResolvedValue([line(mug, 1000)])
    await cart.load()
    expect(await cart.add(mug, 1)).toBe(false)
    expect(cart.error).toMatch(/1000/)
    expect(api.addToCart).not.toHaveBeenCalled()
  })

  it('migrates: shows the merged cart the server returns', async () => {
    vi.mocked(api.fetchCart).mockResolvedValue([line(mug, 1)])
    await cart.load()
    vi.mocked(api.migrateCart).mockResolvedValue([line(mug, 3), line(sticker, 2)])
    expect(await cart.migrate()).toBe(true)
    expect(cart.items.map((i) => [i.productId, i.quantity])).toEqual([
      ['mug-1', 3],
      ['sticker-3', 2],
    ])
    expect(cart.migrating).toBe(false)
  })

  it('migration failure: shows why and falls back to reading the cart', async () => {
    vi.mocked(api.migrateCart).mockRejectedValue(apiError('Token expired', 401))
    vi.mocked(api.fetchCart).mockResolvedValue([line(tee, 1)])
    expect(await cart.migrate()).toBe(false)
    expect(cart.error).toBe('Your cart could not be merged: Token expired')
    expect(cart.quantityOf('tee-2')).toBe(1)
  })

  it('checks out: records the order and empties the cart', async () => {
    vi.mocked(api.fetchCart).mockResolvedValue([line(mug, 2), line(tee, 1)])
    await cart.load()
    const d = deferred()
    vi.mocked(api.checkoutCart).mockReturnValue(d.promise)
    const done = cart.checkout()
    expect(cart.checkingOut).toBe(true)
    expect(cart.busy).toBe(true)
    d.resolve([line(mug, 2), line(tee, 1)])
    const order = await done
    expect(order).toMatchObject({ count: 3, total: 2 * 1250 + 1999 })
    expect(cart.lastOrder).toBe(order)
    expect(cart.items).toEqual([])
    expect(cart.checkingOut).toBe(false)
  })

  it('checkout failure keeps the cart and shows the message', async () => {
    vi.mocked(api.fetchCart).mockResolvedValue([line(mug, 2)])
    await cart.load()
    vi.mocked(api.checkoutCart).mockRejectedValue(apiError('Sign in to check out', 401))
    expect(await cart.checkout()).toBeNull()
    expect(cart.error).toBe('Sign in to check out')
    expect(cart.count).toBe(2)
  })

  it('reset empties the cart and ignores responses from before it', async () => {
    const d = deferred()
    vi.mocked(api.addToCart).mockReturnValue(d.promise)
    const done = cart.add(mug, 1)
    await flushPromises()
    cart.reset()
    expect(cart.items).toEqual([])
    d.resolve({ productId: 'mug-1', quantity: 1 })
    expect(await done).toBe(false)
    expect(cart.items).toEqual([])
    expect(cart.count).toBe(0)
  })

  it('opens and closes the drawer', () => {
    cart.openDrawer()
    expect(cart.drawerOpen).toBe(true)
    cart.closeDrawer()
    expect(cart.drawerOpen).toBe(false)
  })
})
