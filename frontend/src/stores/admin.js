import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import * as api from '../api.js'
import { useProductsStore } from './products.js'

/** Totals of every product over all carts, for the admin page. */
export const useAdminStore = defineStore('admin', () => {
  const products = useProductsStore()
  const totals = ref([]) // [{product, quantity}] as the API sends them
  const loading = ref(false)
  const error = ref('')
  const lastRefreshed = ref(null)

  /** One row per product: every catalogue product (0 when in no cart), then unknown ids. */
  const rows = computed(() => {
    const byProduct = new Map()
    for (const t of totals.value) {
      if (t && typeof t.product === 'string') byProduct.set(t.product, Number(t.quantity) || 0)
    }
    const result = products.products.map((p) => ({
      productId: p.productId,
      name: p.name || p.productId,
      category: p.category || '',
      quantity: byProduct.get(p.productId) ?? 0,
    }))
    for (const [productId, quantity] of byProduct) {
      if (!products.byId.has(productId)) {
        result.push({ productId, name: productId, category: '', quantity })
      }
    }
    return result
  })

  const grandTotal = computed(() => rows.value.reduce((sum, r) => sum + r.quantity, 0))
  const maxQuantity = computed(() => rows.value.reduce((max, r) => Math.max(max, r.quantity), 0))

  async function refresh() {
    if (loading.value) return false
    loading.value = true
    error.value = ''
    try {
      const [list] = await Promise.all([api.fetchCartTotals(), products.load()])
      totals.value = list
      lastRefreshed.value = new Date()
      return true
    } catch (e) {
      error.value = e?.message || 'The totals could not be loaded.'
      return false
    } finally {
      loading.value = false
    }
  }

  return { totals, rows, grandTotal, maxQuantity, loading, error, lastRefreshed, refresh }
})
