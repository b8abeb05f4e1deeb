import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import * as api from '../src/api.js'
import { useAdminStore } from '../src/stores/admin.js'
import { useProductsStore } from '../src/stores/products.js'
import { apiError, deferred, mug, sticker, tee } from './helpers.js'

vi.mock('../src/api.js')

describe('admin store', () => {
  beforeEach(() => {
    setActivePinia(createPinia())
  })

  it('lists every product with its total, 0 when in no cart, then unknown ids', async () => {
    vi.mocked(api.fetchProducts).mockResolvedValue([mug, tee, sticker])
    vi.mocked(api.fetchCartTotals).mockResolvedValue([
      { product: 'tee-2', quantity: 7 },
      { product: 'mug-1', quantity: 3 },
      { product: 'retired-9', quantity: 1 },
    ])
    const admin = useAdminStore()
    expect(await admin.refresh()).toBe(true)
    expect(admin.rows.map((r) => [r.productId, r.name, r.quantity])).toEqual([
      ['mug-1', 'Coffee Mug', 3],
      ['tee-2', 'Serverless T-Shirt', 7],
      ['sticker-3', 'Sticker', 0],
      ['retired-9', 'retired-9', 1],
    ])
    expect(admin.grandTotal).toBe(11)
    expect(admin.maxQuantity).toBe(7)
    expect(admin.lastRefreshed).toBeInstanceOf(Date)
  })

  it('shows loading while refreshing and keeps the old figures on error', async () => {
    vi.mocked(api.fetchProducts).mockResolvedValue([mug])
    vi.mocked(api.fetchCartTotals).mockResolvedValueOnce([{ product: 'mug-1', quantity: 2 }])
    const admin = useAdminStore()
    await admin.refresh()
    const first = admin.lastRefreshed

    const d = deferred()
    vi.mocked(api.fetchCartTotals).mockReturnValueOnce(d.promise)
    const done = admin.refresh()
    expect(admin.loading).toBe(true)
    d.reject(apiError('Forbidden', 403))
    expect(await done).toBe(false)
    expect(admin.loading).toBe(false)
    expect(admin.error).toBe('Forbidden')
    expect(admin.rows[0].quantity).toBe(2)
    expect(admin.lastRefreshed).toBe(first)
  })
})

describe('products store', () => {
  beforeEach(() => {
    setActivePinia(createPinia())
  })

  it('loads the catalogue once and shares concurrent loads', async () => {
    vi.mocked(api.fetchProducts).mockResolvedValue([mug, tee])
    const products = useProductsStore()
    await Promise.all([products.load(), products.load()])
    await products.load()
    expect(api.fetchProducts).toHaveBeenCalledTimes(1)
    expect(products.byId.get('tee-2')).toEqual(tee)
  })

  it('surfaces a load error and can retry', async () => {
    vi.mocked(api.fetchProducts).mockRejectedValueOnce(apiError('Product service unavailable', 503))
    const products = useProductsStore()
    await products.load()
    expect(products.error).toBe('Product service unavailable')
    vi.mocked(api.fetchProducts).mockResolvedValueOnce([mug])
    await products.load({ force: true })
    expect(products.error).toBe('')
    expect(products.products).toEqual([mug])
  })
})
