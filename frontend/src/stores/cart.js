import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import * as api from '../api.js'
import { maxQuantity } from '../lib/validation.js'
import { useProductsStore } from './products.js'

/*
 * The cart as the server last confirmed it (`lines`), plus the changes still on their way
 * (`ops`). What the shopper sees is every pending change applied, in order, on top of the
 * confirmed quantity: the optimistic view. Changes to one product are sent one after another,
 * so each response is the server's quantity after exactly that change; a failed change is
 * dropped from `ops`, which rolls the view back, and its message is shown.
 */

function applyOp(quantity, op) {
  if (op.kind === 'set') return op.value
  return Math.max(0, quantity + op.value)
}

function toQuantity(value) {
  const n = Number(value)
  return Number.isInteger(n) && n > 0 ? n : 0
}

export const useCartStore = defineStore('cart', () => {
  const products = useProductsStore()

  /** Confirmed lines, in the order they first appeared: [{productId, quantity, productDetail}]. */
  const lines = ref([])
  /** Pending changes: [{id, productId, kind: 'add' | 'set', value}]. */
  const ops = ref([])
  const loading = ref(false)
  const loaded = ref(false)
  const migrating = ref(false)
  const checkingOut = ref(false)
  const error = ref('')
  /** The last successful checkout: {items, total, count, placedAt}. */
  const lastOrder = ref(null)
  const drawerOpen = ref(false)

  // Bookkeeping outside reactivity.
  const details = new Map() // productId -> product details seen when adding
  let chains = new Map() // productId -> promise of the last queued change
  const touched = new Map() // productId -> clock value of the last confirmed change
  let clock = 0
  let seq = 0
  let epoch = 0 // bumped by reset(): responses from before a sign-in/out are ignored
  let resyncWanted = false
  // The anonymous cart's cookie comes with the first cart response. Until one has come back,
  // requests go out one at a time: two at once would each be given a new, different cart.
  let established = false
  let gate = Promise.resolve()

  function detailFor(productId, line) {
    return (
      line?.productDetail ||
      details.get(productId) ||
      products.byId.get(productId) || { productId, name: productId, price: 0 }
    )
  }

  function confirmedQuantity(productId) {
    return lines.value.find((l) => l.productId === productId)?.quantity ?? 0
  }

  /** The quantity the shopper sees, pending changes included. */
  function quantityOf(productId) {
    return ops.value
      .filter((op) => op.productId === productId)
      .reduce(applyOp, confirmedQuantity(productId))
  }

  function isPending(productId) {
    return ops.value.some((op) => op.productId === productId)
  }

  function setConfirmed(productId, quantity, productDetail) {
    const index = lines.value.findIndex((l) => l.productId === productId)
    if (index >= 0) {
      const line = lines.value[index]
      line.quantity = quantity
      if (productDetail) line.productDetail = productDetail
    } else {
      lines.value.push({ productId, quantity, productDetail: productDetail || details.get(productId) || null })
    }
  }

  function replaceLines(serverLines, { since = Infinity } = {}) {
    const incoming = new Map()
    for (const raw of serverLines || []) {
      const productId = raw?.productId ?? raw?.productDetail?.productId
      if (typeof productId !== 'string') continue
      incoming.set(productId, {
        productId,
        quantity: toQuantity(raw.quantity),
        productDetail: raw.productDetail || null,
      })
      if (raw.productDetail) details.set(productId, raw.productDetail)
    }
    // Keep what changed after this read started, or is still changing: it is newer.
    const keep = (id) => isPending(id) || (touched.get(id) ?? -1) > since
    const next = []
    for (const line of lines.value) {
      if (keep(line.productId)) next.push(line)
      else if (incoming.has(line.productId)) next.push(incoming.get(line.productId))
    }
    for (const [id, line] of incoming) {
      if (!next.some((l) => l.productId === id) && !keep(id)) next.push(line)
    }
    lines.value = next
  }

  const items = computed(() => {
    const ids = lines.value.map((l) => l.productId)
    for (const op of ops.value) if (!ids.includes(op.productId)) ids.push(op.productId)
    return ids
      .map((productId) => {
        const line = lines.value.find((l) => l.productId === productId)
        const quantity = quantityOf(productId)
        const productDetail = detailFor(productId, line)
        const price = Number(productDetail.price) || 0
        return { productId, quantity, productDetail, lineTotal: price * quantity, pending: isPending(productId) }
      })
      .filter((item) => item.quantity > 0)
  })

  const count = computed(() => items.value.reduce((sum, item) => sum + item.quantity, 0))
  const total = computed(() => items.value.reduce((sum, item) => sum + item.lineTotal, 0))
  const saving = computed(() => ops.value.length > 0)
  const busy = computed(() => loading.value || saving.value || migrating.value || checkingOut.value)

  function fail(e, fallback) {
    error.value = e?.message || fallback
  }

  function maybeResync() {
    if (resyncWanted && ops.value.length === 0) {
      resyncWanted = false
      load()
    }
  }

  /** Queues a change for one product; resolves to true when the server accepted it. */
  function enqueue(productId, kind, value, send) {
    const op = { id: ++seq, productId, kind, value }
    ops.value.push(op)
    const myEpoch = epoch
    const previous = chains.get(productId) || Promise.resolve()
    const waitFor = established ? previous : Promise.all([previous, gate])
    const run = waitFor.then(async () => {
      if (myEpoch !== epoch) return false
      try {
        const response = await send()
        if (myEpoch !== epoch) return false
        established = true
        if (response && response.quantity !== undefined) {
          setConfirmed(productId, toQuantity(response.quantity))
        } else {
          setConfirmed(productId, applyOp(confirmedQuantity(productId), op))
        }
        touched.set(productId, ++clock)
        return true
      } catch (e) {
        if (myEpoch !== epoch) return false
        fail(e, 'Your cart could not be updated.')
        // A network error or timeout leaves the server's state unknown, and a refusal (e.g. the line
        // is already full because another tab added to it) means this view was out of date: read the
        // cart again. Not after 401/403: the read would be refused too, hiding this message.
        if (e?.status !== 401 && e?.status !== 403) resyncWanted = true
        return false
      } finally {
        ops.value = ops.value.filter((o) => o.id !== op.id)
        if (chains.get(productId) === run) chains.delete(productId)
        maybeResync()
      }
    })
    chains.set(productId, run)
    if (!established) gate = run
    return run
  }

  function idOf(product) {
    if (typeof product === 'string') return product
    if (product?.productId) {
      details.set(product.productId, product)
      return product.productId
    }
    throw new TypeError('A product or product id is required')
  }

  /** Adds `delta` (negative removes) of a product. */
  function add(product, delta = 1) {
    const productId = idOf(product)
    if (!Number.isInteger(delta) || delta === 0) return Promise.resolve(false)
    const current = quantityOf(productId)
    if (delta < 0 && current === 0) return Promise.resolve(false)
    const max = maxQuantity()
    if (delta > 0 && current + delta > max) {
      error.value = `The most you can order of one product is ${max}.`
      return Promise.resolve(false)
    }
    // Never ask the server to go below zero.
    const amount = delta < 0 ? Math.max(delta, -current) : delta
    return enqueue(productId, 'add', amount, () => api.addToCart(productId, amount))
  }

  function remove(product, delta = 1) {
    return add(product, -Math.abs(delta))
  }

  /** Sets a product's quantity (0 removes it). */
  function setQuantity(product, quantity) {
    const productId = idOf(product)
    const max = maxQuantity()
    if (!Number.isInteger(quantity) || quantity < 0 || quantity > max) {
      error.value = `Enter a whole number from 0 to ${max}.`
      return Promise.resolve(false)
    }
    if (quantity === quantityOf(productId)) return Promise.resolve(true)
    return enqueue(productId, 'set', quantity, () => {
      const confirmed = confirmedQuantity(productId)
      if (confirmed === quantity) return { productId, quantity }
      // A product not yet in the cart is added; one already there is set.
      if (confirmed === 0) return api.addToCart(productId, quantity)
      return api.updateCartItem(productId, quantity)
    })
  }

  /** Reads the cart from the server. */
  async function load() {
    const myEpoch = epoch
    loading.value = true
    let release = null
    const waitFor = established ? null : gate
    if (!established) gate = new Promise((resolve) => (release = resolve))
    try {
      if (waitFor) await waitFor
      const since = clock
      const serverLines = await api.fetchCart()
      if (myEpoch !== epoch) return false
      established = true
      replaceLines(serverLines, { since })
      loaded.value = true
      return true
    } catch (e) {
      if (myEpoch === epoch) fail(e, 'Your cart could not be loaded.')
      return false
    } finally {
      release?.()
      if (myEpoch === epoch) loading.value = false
    }
  }

  /** After sign-in: merges the anonymous cart into the user's and shows the result. */
  async function migrate() {
    migrating.value = true
    try {
      await Promise.all([...chains.values()]) // anonymous changes land before the merge
      const merged = await api.migrateCart()
      lines.value = []
      replaceLines(merged)
      loaded.value = true
      return true
    } catch (e) {
      error.value = `Your cart could not be merged: ${e?.message || 'unknown error'}`
      await load()
      return false
    } finally {
      migrating.value = false
    }
  }

  /** Buys everything in the cart; resolves to the order, or null on failure. */
  async function checkout() {
    if (checkingOut.value) return null
    checkingOut.value = true
    try {
      await Promise.all([...chains.values()]) // let pending changes land first
      const bought = await api.checkoutCart()
      const orderItems = bought
        .map((raw) => {
          const productId = raw?.productId ?? raw?.productDetail?.productId
          const productDetail = raw?.productDetail || detailFor(productId)
          const quantity = toQuantity(raw?.quantity)
          return { productId, quantity, productDetail, lineTotal: (Number(productDetail.price) || 0) * quantity }
        })
        .filter((item) => item.productId && item.quantity > 0)
      if (!orderItems.length) {
        error.value = 'Your cart was empty, so nothing was bought.'
        lines.value = []
        return null
      }
      lastOrder.value = {
        items: orderItems,
        count: orderItems.reduce((s, i) => s + i.quantity, 0),
        total: orderItems.reduce((s, i) => s + i.lineTotal, 0),
        placedAt: new Date(),
      }
      lines.value = []
      return lastOrder.value
    } catch (e) {
      fail(e, 'Checkout failed.')
      return null
    } finally {
      checkingOut.value = false
    }
  }

  /** Forgets the cart (sign-in/out changes whose cart it is); in-flight responses are ignored. */
  function reset() {
    epoch++
    lines.value = []
    ops.value = []
    chains = new Map()
    touched.clear()
    loaded.value = false
    loading.value = false
    resyncWanted = false
    established = false
    gate = Promise.resolve()
  }

  function clearError() {
    error.value = ''
  }

  function openDrawer() {
    drawerOpen.value = true
  }

  function closeDrawer() {
    drawerOpen.value = false
  }

  return {
    lines,
    ops,
    loading,
    loaded,
    migrating,
    checkingOut,
    saving,
    busy,
    error,
    lastOrder,
    drawerOpen,
    items,
    count,
    total,
    quantityOf,
    isPending,
    add,
    remove,
    setQuantity,
    load,
    migrate,
    checkout,
    reset,
    clearError,
    openDrawer,
    closeDrawer,
  }
})
