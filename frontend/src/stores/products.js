import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import * as api from '../api.js'

export const useProductsStore = defineStore('products', () => {
  const products = ref([])
  const loading = ref(false)
  const loaded = ref(false)
  const error = ref('')

  const byId = computed(() => new Map(products.value.map((p) => [p.productId, p])))

  let inFlight = null

  /** Loads the catalogue; concurrent calls share one request. `force` reloads. */
  function load({ force = false } = {}) {
    if (loaded.value && !force) return Promise.resolve(products.value)
    if (inFlight) return inFlight
    loading.value = true
    error.value = ''
    inFlight = api
      .fetchProducts()
      .then((list) => {
        products.value = list.filter((p) => p && typeof p.productId === 'string')
        loaded.value = true
        return products.value
      })
      .catch((e) => {
        error.value = e.message || 'Could not load the products.'
        return products.value
      })
      .finally(() => {
        loading.value = false
        inFlight = null
      })
    return inFlight
  }

  function clearError() {
    error.value = ''
  }

  return { products, loading, loaded, error, byId, load, clearError }
})
