import { beforeEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import * as api from '../src/api.js'
import { useCartStore } from '../src/stores/cart.js'
import CartDrawer from '../src/components/CartDrawer.vue'
import ErrorBanner from '../src/components/ErrorBanner.vue'
import ProductCard from '../src/components/ProductCard.vue'
import { apiError, deferred, flushPromises, line, mug, sticker, tee } from './helpers.js'

vi.mock('../src/api.js')

function makeRouter() {
  const Stub = { template: '<div />' }
  return createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/', name: 'shop', component: Stub },
      { path: '/checkout', name: 'checkout', component: Stub },
      { path: '/signin', name: 'signin', component: Stub },
      { path: '/signup', name: 'signup', component: Stub },
    ],
  })
}

let pinia
beforeEach(() => {
  pinia = createPinia()
  setActivePinia(pinia)
})

describe('ProductCard', () => {
  function mountCard(product = mug) {
    return mount(ProductCard, { props: { product }, global: { plugins: [pinia] } })
  }

  it('shows name, category, description and price', () => {
    const wrapper = mountCard()
    expect(wrapper.get('[data-testid="product-name"]').text()).toBe('Coffee Mug')
    expect(wrapper.get('[data-testid="product-category"]').text()).toBe('kitchen')
    expect(wrapper.get('[data-testid="product-description"]').text()).toBe('A sturdy mug.')
    expect(wrapper.get('[data-testid="product-price"]').text()).toBe('$12.50')
    expect(wrapper.get('[data-testid="product-card"]').attributes('data-product-id')).toBe('mug-1')
  })

  it('names its controls after the product', () => {
    const wrapper = mountCard()
    expect(wrapper.get('[data-testid="qty-plus"]').attributes('aria-label')).toBe('Add one Coffee Mug to cart')
    expect(wrapper.get('[data-testid="qty-minus"]').attributes('aria-label')).toBe('Remove one Coffee Mug from cart')
    const input = wrapper.get('[data-testid="qty-input"]')
    const label = wrapper.get(`label[for="${input.attributes('id')}"]`)
    expect(label.text()).toBe('Quantity of Coffee Mug in cart')
  })

  it('plus adds one through the store and shows the quantity at once', async () => {
    const d = deferred()
    vi.mocked(api.addToCart).mockReturnValue(d.promise)
    const wrapper = mountCard()
    expect(wrapper.get('[data-testid="qty-minus"]').attributes()).toHaveProperty('disabled')
    await wrapper.get('[data-testid="qty-plus"]').trigger('click')
    expect(wrapper.get('[data-testid="qty-input"]').element.value).toBe('1')
    expect(wrapper.get('[data-testid="product-in-cart"]').text()).toBe('1 in cart')
    expect(wrapper.get('[data-testid="qty-control"]').attributes('aria-busy')).toBe('true')
    await flushPromises()
    expect(api.addToCart).toHaveBeenCalledWith('mug-1', 1)
    d.resolve({ productId: 'mug-1', quantity: 1 })
    await flushPromises()
    expect(wrapper.get('[data-testid="qty-control"]').attributes('aria-busy')).toBe('false')
    expect(wrapper.get('[data-testid="qty-minus"]').attributes()).not.toHaveProperty('disabled')
  })

  it('minus removes one through the store', async () => {
    vi.mocked(api.fetchCart).mockResolvedValue([line(mug, 2)])
    await useCartStore().load()
    vi.mocked(api.addToCart).mockResolvedValue({ productId: 'mug-1', quantity: 1 })
    const wrapper = mountCard()
    expect(wrapper.get('[data-testid="qty-input"]').element.value).toBe('2')
    await wrapper.get('[data-testid="qty-minus"]').trigger('click')
    await flushPromises()
    expect(api.addToCart).toHaveBeenCalledWith('mug-1', -1)
    expect(wrapper.get('[data-testid="qty-input"]').element.value).toBe('1')
  })

  it('typing a quantity sets it; an invalid one is refused with a message', async () => {
    vi.mocked(api.addToCart).mockResolvedValue({ productId: 'mug-1', quantity: 7 })
    const wrapper = mountCard()
    const input = wrapper.get('[data-testid="qty-input"]')
    await input.setValue('7')
    await flushPromises()
    expect(api.addToCart).toHaveBeenCalledWith('mug-1', 7)
    expect(wrapper.get('[data-testid="product-in-cart"]').text()).toBe('7 in cart')

    await input.setValue('5000')
    await flushPromises()
    expect(input.element.value).toBe('7')
    expect(useCartStore().error).toMatch(/0 to 1000/)
    expect(api.updateCartItem).not.toHaveBeenCalled()
  })

  it('shows a fallback tile when the image fails to load', async () => {
    const wrapper = mountCard()
    const img = wrapper.get('[data-testid="product-image"]')
    expect(img.attributes('src')).toBe('/images/mug-1.svg')
    await img.trigger('error')
    expect(wrapper.find('[data-testid="product-image"]').exists()).toBe(false)
    expect(wrapper.get('[data-testid="product-image-fallback"]').text()).toContain('CM')
  })

  it('shows the fallback tile when a product has no image', () => {
    const wrapper = mountCard(sticker)
    expect(wrapper.get('[data-testid="product-image-fallback"]').text()).toContain('ST')
  })
})

describe('CartDrawer', () => {
  async function mountDrawer(lines) {
    const router = makeRouter()
    router.push('/')
    await router.isReady()
    vi.mocked(api.fetchCart).mockResolvedValue(lines)
    const cart = useCartStore()
    await cart.load()
    cart.openDrawer()
    const wrapper = mount(CartDrawer, { global: { plugins: [pinia, router] }, attachTo: document.body })
    await flushPromises()
    return { wrapper, cart, router }
  }

  it('lists lines with line totals and the cart total', async () => {
    const { wrapper } = await mountDrawer([line(mug, 2), line(tee, 3)])
    const lines = wrapper.findAll('[data-testid="cart-line"]')
    expect(lines.map((l) => l.attributes('data-product-id'))).toEqual(['mug-1', 'tee-2'])
    expect(lines.map((l) => l.get('[data-testid="cart-line-total"]').text())).toEqual(['$25.00', '$59.97'])
    expect(wrapper.get('[data-testid="cart-total"]').text()).toBe('$84.97')
    expect(wrapper.text()).toContain('Total (5 items)')
    wrapper.unmount()
  })

  it('updates the totals as quantities change', async () => {
    const { wrapper } = await mountDrawer([line(mug, 1)])
    vi.mocked(api.updateCartItem).mockResolvedValue({ productId: 'mug-1', quantity: 4 })
    await wrapper.get('[data-testid="qty-input"]').setValue('4')
    expect(wrapper.get('[data-testid="cart-line-total"]').text()).toBe('$50.00')
    expect(wrapper.get('[data-testid="cart-total"]').text()).toBe('$50.00')
    await flushPromises()
    expect(api.updateCartItem).toHaveBeenCalledWith('mug-1', 4)
    wrapper.unmount()
  })

  it('removes a line', async () => {
    const { wrapper } = await mountDrawer([line(mug, 1), line(tee, 1)])
    vi.mocked(api.updateCartItem).mockResolvedValue({ productId: 'mug-1', quantity: 0 })
    const remove = wrapper.get('[data-product-id="mug-1"] [data-testid="cart-line-remove"]')
    expect(remove.attributes('aria-label')).toBe('Remove Coffee Mug from cart')
    await remove.trigger('click')
    await flushPromises()
    expect(api.updateCartItem).toHaveBeenCalledWith('mug-1', 0)
    expect(wrapper.findAll('[data-testid="cart-line"]')).toHaveLength(1)
    expect(wrapper.get('[data-testid="cart-total"]').text()).toBe('$19.99')
    wrapper.unmount()
  })

  it('is an empty, labelled dialog with checkout disabled when the cart is empty', async () => {
    const { wrapper } = await mountDrawer([])
    const dialog = wrapper.get('[data-testid="cart-drawer"]')
    expect(dialog.attributes('role')).toBe('dialog')
    expect(dialog.attributes('aria-modal')).toBe('true')
    expect(wrapper.get(`#${dialog.attributes('aria-labelledby')}`).text()).toBe('Your cart')
    expect(wrapper.get('[data-testid="cart-empty"]').text()).toBe('Your cart is empty.')
    expect(wrapper.get('[data-testid="checkout-button"]').attributes()).toHaveProperty('disabled')
    wrapper.unmount()
  })

  it('checkout goes to the checkout page and closes the drawer', async () => {
    const { wrapper, cart, router } = await mountDrawer([line(mug, 1)])
    await wrapper.get('[data-testid="checkout-button"]').trigger('click')
    await flushPromises()
    expect(router.currentRoute.value.name).toBe('checkout')
    expect(cart.drawerOpen).toBe(false)
    expect(wrapper.find('[data-testid="cart-drawer"]').exists()).toBe(false)
    wrapper.unmount()
  })

  it('closes with Escape and the close button', async () => {
    const { wrapper, cart } = await mountDrawer([line(mug, 1)])
    await wrapper.get('[data-testid="cart-drawer"]').trigger('keydown', { key: 'Escape' })
    expect(cart.drawerOpen).toBe(false)
    cart.openDrawer()
    await flushPromises()
    await wrapper.get('[data-testid="cart-close"]').trigger('click')
    expect(cart.drawerOpen).toBe(false)
    wrapper.unmount()
  })
})

describe('ErrorBanner', () => {
  it('shows the message as an alert and can be dismissed', async () => {
    const wrapper = mount(ErrorBanner, { props: { message: 'Product not found' } })
    const banner = wrapper.get('[data-testid="error-banner"]')
    expect(banner.attributes('role')).toBe('alert')
    expect(banner.text()).toContain('Product not found')
    await wrapper.get('[data-testid="error-dismiss"]').trigger('click')
    expect(wrapper.emitted('dismiss')).toHaveLength(1)
  })

  it('renders nothing without a message', () => {
    const wrapper = mount(ErrorBanner, { props: { message: '' } })
    expect(wrapper.find('[data-testid="error-banner"]').exists()).toBe(false)
  })
})

describe('error from an action reaches the page', () => {
  it('a failed add shows the server message in the banner', async () => {
    const { default: App } = await import('../src/App.vue')
    const router = makeRouter()
    router.push('/')
    await router.isReady()
    vi.mocked(api.addToCart).mockRejectedValue(apiError('Product service is down', 503))
    vi.mocked(api.fetchCart).mockResolvedValue([])
    const wrapper = mount(App, { global: { plugins: [pinia, router] } })
    await useCartStore().add(mug, 1)
    await flushPromises()
    const banner = wrapper.get('[data-testid="error-banner"]')
    expect(banner.text()).toContain('Product service is down')
    await banner.get('[data-testid="error-dismiss"]').trigger('click')
    expect(wrapper.find('[data-testid="error-banner"]').exists()).toBe(false)
  })
})
