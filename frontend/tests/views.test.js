import { beforeEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory } from 'vue-router'
import * as api from '../src/api.js'
import * as auth from '../src/auth.js'
import { createAppRouter, safeRedirect } from '../src/router.js'
import { useAuthStore } from '../src/stores/auth.js'
import { useCartStore } from '../src/stores/cart.js'
import App from '../src/App.vue'
import AdminView from '../src/views/AdminView.vue'
import PaymentForm from '../src/components/PaymentForm.vue'
import TotalsChart from '../src/components/TotalsChart.vue'
import { apiError, deferred, flushPromises, line, mug, sticker, tee } from './helpers.js'

vi.mock('../src/api.js')
vi.mock('../src/auth.js', () => ({
  ADMIN_GROUP: 'admin',
  currentUser: vi.fn(),
  signIn: vi.fn(),
  signOut: vi.fn(),
  signUp: vi.fn(),
  confirmSignUp: vi.fn(),
  resendSignUpCode: vi.fn(),
}))

/** A valid expiry: December of next year, as MM/YY. */
function nextYearExpiry() {
  return `12/${String((new Date().getFullYear() + 1) % 100).padStart(2, '0')}`
}

const shopper = { sub: 's-1', email: 'shopper@example.com', groups: [] }
const admin = { sub: 'a-1', email: 'admin@example.com', groups: ['admin'] }

let pinia
beforeEach(() => {
  pinia = createPinia()
  setActivePinia(pinia)
  vi.mocked(api.fetchProducts).mockResolvedValue([mug, tee, sticker])
  vi.mocked(api.fetchCart).mockResolvedValue([])
})

async function mountApp(path, user = null) {
  vi.mocked(auth.currentUser).mockResolvedValue(user)
  await useAuthStore().init()
  const router = createAppRouter(createMemoryHistory())
  router.push(path)
  await router.isReady()
  const wrapper = mount(App, { global: { plugins: [pinia, router] }, attachTo: document.body })
  await flushPromises()
  return { wrapper, router }
}

describe('PaymentForm', () => {
  const now = () => new Date(2026, 10, 15)

  async function fill(wrapper, values) {
    for (const [testid, value] of Object.entries(values)) {
      await wrapper.get(`[data-testid="${testid}"]`).setValue(value)
    }
  }

  it('shows every problem on submit, marks the fields invalid and does not submit', async () => {
    const wrapper = mount(PaymentForm, { props: { total: 2500, now }, attachTo: document.body })
    await fill(wrapper, { 'card-number': '4242 4242 4242 4241', 'card-expiry': '10/26', 'card-cvc': '12' })
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(wrapper.get('[data-testid="card-number-error"]').text()).toMatch(/not valid/)
    expect(wrapper.get('[data-testid="card-name-error"]').text()).toMatch(/Enter the name/)
    expect(wrapper.get('[data-testid="card-expiry-error"]').text()).toMatch(/expired/)
    expect(wrapper.get('[data-testid="card-cvc-error"]').text()).toMatch(/3 or 4 digits/)
    const number = wrapper.get('[data-testid="card-number"]')
    expect(number.attributes('aria-invalid')).toBe('true')
    expect(number.attributes('aria-describedby')).toBe('card-number-error')
    expect(document.activeElement).toBe(number.element) // focus moves to the first problem
    expect(wrapper.emitted('submit')).toBeUndefined()
    wrapper.unmount()
  })

  it('validates a field when leaving it, not before', async () => {
    const wrapper = mount(PaymentForm, { props: { total: 2500, now } })
    await wrapper.get('[data-testid="card-cvc"]').setValue('1')
    expect(wrapper.find('[data-testid="card-cvc-error"]').exists()).toBe(false)
    await wrapper.get('[data-testid="card-cvc"]').trigger('blur')
    expect(wrapper.get('[data-testid="card-cvc-error"]').text()).toMatch(/3 or 4 digits/)
  })

  it('submits when every field is valid', async () => {
    const wrapper = mount(PaymentForm, { props: { total: 2500, now } })
    await fill(wrapper, {
      'card-number': '4242 4242 4242 4242',
      'card-name': 'Ada Lovelace',
      'card-expiry': '1127',
      'card-cvc': '123',
    })
    await wrapper.get('[data-testid="card-expiry"]').trigger('blur')
    expect(wrapper.get('[data-testid="card-expiry"]').element.value).toBe('11/27')
    expect(wrapper.get('[data-testid="pay-button"]').text()).toBe('Pay $25.00 and place order')
    await wrapper.get('form').trigger('submit')
    expect(wrapper.emitted('submit')).toHaveLength(1)
    expect(wrapper.find('.field-error').exists()).toBe(false)
  })

  it('shows the submitting state and blocks a second submit', async () => {
    const wrapper = mount(PaymentForm, { props: { total: 2500, now, submitting: true } })
    const button = wrapper.get('[data-testid="pay-button"]')
    expect(button.text()).toBe('Placing your order…')
    expect(button.attributes()).toHaveProperty('disabled')
  })
})

describe('admin page', () => {
  it('shows a table row and a bar per product, scaled to the largest total', async () => {
    vi.mocked(api.fetchCartTotals).mockResolvedValue([
      { product: 'mug-1', quantity: 4 },
      { product: 'tee-2', quantity: 2 },
    ])
    const { wrapper } = await mountApp('/admin', admin)
    const rows = wrapper.findAll('[data-testid="admin-row"]')
    expect(rows.map((r) => [r.attributes('data-product-id'), r.get('[data-testid="admin-row-quantity"]').text()])).toEqual([
      ['mug-1', '4'],
      ['tee-2', '2'],
      ['sticker-3', '0'],
    ])
    expect(rows[0].get('[data-testid="admin-row-name"]').text()).toBe('Coffee Mug')
    expect(wrapper.get('[data-testid="admin-grand-total"]').text()).toBe('6')
    const bars = wrapper.findAll('[data-testid="admin-bar"]')
    expect(bars.map((b) => b.attributes('data-quantity'))).toEqual(['4', '2', '0'])
    const widths = bars.map((b) => Number(b.get('[data-testid="admin-bar-rect"]').attributes('width')))
    expect(widths[0]).toBeGreaterThan(0)
    expect(widths[1]).toBeCloseTo(widths[0] / 2)
    expect(widths[2]).toBe(0)
    expect(wrapper.get('[data-testid="admin-last-refresh"] time').attributes('datetime')).toMatch(/^\d{4}-/)
    wrapper.unmount()
  })

  it('refresh reads the totals again and updates the time of the last refresh', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(new Date('2026-11-20T10:00:00Z'))
    vi.mocked(api.fetchCartTotals).mockResolvedValueOnce([{ product: 'mug-1', quantity: 1 }])
    const { wrapper } = await mountApp('/admin', admin)
    const time = () => wrapper.get('[data-testid="admin-last-refresh"] time').attributes('datetime')
    expect(time()).toBe('2026-11-20T10:00:00.000Z')

    vi.setSystemTime(new Date('2026-11-20T10:05:00Z'))
    const d = deferred()
    vi.mocked(api.fetchCartTotals).mockReturnValueOnce(d.promise)
    await wrapper.get('[data-testid="admin-refresh"]').trigger('click')
    const button = wrapper.get('[data-testid="admin-refresh"]')
    expect(button.text()).toBe('Refreshing…')
    expect(button.attributes()).toHaveProperty('disabled')
    d.resolve([{ product: 'mug-1', quantity: 9 }])
    await flushPromises()
    expect(time()).toBe('2026-11-20T10:05:00.000Z')
    expect(wrapper.get('[data-product-id="mug-1"] [data-testid="admin-row-quantity"]').text()).toBe('9')
    expect(api.fetchCartTotals).toHaveBeenCalledTimes(2)
    vi.useRealTimers()
    wrapper.unmount()
  })

  it('shows an API error', async () => {
    vi.mocked(api.fetchCartTotals).mockRejectedValue(apiError('Only admins can read totals', 403))
    const { wrapper } = await mountApp('/admin', admin)
    expect(wrapper.get('[data-testid="error-banner"]').text()).toContain('Only admins can read totals')
    wrapper.unmount()
  })

  it('tells a signed-in non-admin they are not authorised, and reads nothing', async () => {
    const { wrapper } = await mountApp('/admin', shopper)
    expect(wrapper.get('[data-testid="not-authorised"]').text()).toMatch(/Not authorised/)
    expect(wrapper.find('[data-testid="admin-table"]').exists()).toBe(false)
    expect(api.fetchCartTotals).not.toHaveBeenCalled()
    expect(wrapper.find('[data-testid="admin-link"]').exists()).toBe(false)
    wrapper.unmount()
  })

  it('shows the admin link to admins only', async () => {
    vi.mocked(api.fetchCartTotals).mockResolvedValue([])
    const { wrapper } = await mountApp('/', admin)
    expect(wrapper.get('[data-testid="admin-link"]').text()).toBe('Admin')
    wrapper.unmount()
  })

  it('renders the chart with an accessible summary', () => {
    const wrapper = mount(TotalsChart, {
      props: { rows: [{ productId: 'a', name: 'Alpha', quantity: 3 }] },
    })
    expect(wrapper.get('svg').attributes('role')).toBe('img')
    expect(wrapper.get('desc').text()).toBe('Alpha: 3')
  })

  it('mounts standalone with a pinia of its own', () => {
    const wrapper = mount(AdminView, { global: { plugins: [pinia], stubs: ['RouterLink'] } })
    expect(wrapper.find('[data-testid="not-authorised"]').exists()).toBe(true)
  })
})

describe('routing and sign-in', () => {
  it('sends a guest from checkout to sign-in and back after signing in, with the cart merged', async () => {
    vi.mocked(api.fetchCart).mockResolvedValue([line(mug, 1)])
    const { wrapper, router } = await mountApp('/checkout')
    expect(router.currentRoute.value.name).toBe('signin')
    expect(router.currentRoute.value.query.redirect).toBe('/checkout')
    expect(wrapper.get('[data-testid="signin-purpose"]').text()).toBe('Sign in to check out.')

    vi.mocked(auth.signIn).mockResolvedValue('DONE')
    vi.mocked(auth.currentUser).mockResolvedValue(shopper)
    vi.mocked(api.migrateCart).mockResolvedValue([line(mug, 3)])
    vi.mocked(api.fetchCart).mockResolvedValue([line(mug, 3)]) // the user's cart from now on
    await wrapper.get('[data-testid="signin-email"]').setValue('shopper@example.com')
    await wrapper.get('[data-testid="signin-password"]').setValue('Passw0rd!')
    await wrapper.get('[data-testid="signin-form"]').trigger('submit')
    await flushPromises()
    expect(auth.signIn).toHaveBeenCalledWith('shopper@example.com', 'Passw0rd!')
    expect(api.migrateCart).toHaveBeenCalledTimes(1)
    await vi.waitFor(() => expect(router.currentRoute.value.name).toBe('checkout'))
    await flushPromises()
    expect(wrapper.get('[data-testid="user-email"]').text()).toBe('shopper@example.com')
    expect(wrapper.get('[data-testid="cart-count"]').text()).toBe('3')
    wrapper.unmount()
  })

  it('shows a sign-in failure next to the form', async () => {
    const { wrapper } = await mountApp('/signin')
    vi.mocked(auth.signIn).mockRejectedValue(new Error('Incorrect username or password.'))
    await wrapper.get('[data-testid="signin-email"]').setValue('shopper@example.com')
    await wrapper.get('[data-testid="signin-password"]').setValue('nope')
    await wrapper.get('[data-testid="signin-form"]').trigger('submit')
    await flushPromises()
    expect(wrapper.get('[data-testid="error-banner"]').text()).toContain('Incorrect username or password.')
    expect(useAuthStore().isSignedIn).toBe(false)
    wrapper.unmount()
  })

  it('sends an unconfirmed account to the confirmation page', async () => {
    const { wrapper, router } = await mountApp('/signin')
    vi.mocked(auth.signIn).mockResolvedValue('CONFIRM_SIGN_UP')
    await wrapper.get('[data-testid="signin-email"]').setValue('new@example.com')
    await wrapper.get('[data-testid="signin-password"]').setValue('Passw0rd!')
    await wrapper.get('[data-testid="signin-form"]').trigger('submit')
    await vi.waitFor(() => expect(router.currentRoute.value.name).toBe('confirm'))
    await flushPromises()
    expect(wrapper.get('[data-testid="confirm-email"]').element.value).toBe('new@example.com')
    wrapper.unmount()
  })

  it('signs up, confirms with the code, then offers sign-in', async () => {
    const { wrapper, router } = await mountApp('/signup')
    vi.mocked(auth.signUp).mockResolvedValue('CONFIRM_SIGN_UP')
    await wrapper.get('[data-testid="signup-email"]').setValue('new@example.com')
    await wrapper.get('[data-testid="signup-password"]').setValue('Passw0rd!')
    await wrapper.get('[data-testid="signup-repeat"]').setValue('Passw0rd!')
    await wrapper.get('[data-testid="signup-form"]').trigger('submit')
    await vi.waitFor(() => expect(router.currentRoute.value.name).toBe('confirm'))
    await flushPromises()

    vi.mocked(auth.confirmSignUp).mockResolvedValue()
    await wrapper.get('[data-testid="confirm-code"]').setValue('123456')
    await wrapper.get('[data-testid="confirm-form"]').trigger('submit')
    await flushPromises()
    expect(auth.confirmSignUp).toHaveBeenCalledWith('new@example.com', '123456')
    await vi.waitFor(() => expect(router.currentRoute.value.name).toBe('signin'))
    await flushPromises()
    expect(wrapper.get('[data-testid="signin-confirmed"]').text()).toMatch(/confirmed/)
    expect(wrapper.get('[data-testid="signin-email"]').element.value).toBe('new@example.com')
    wrapper.unmount()
  })

  it('refuses mismatched sign-up passwords without calling Cognito', async () => {
    const { wrapper } = await mountApp('/signup')
    await wrapper.get('[data-testid="signup-email"]').setValue('new@example.com')
    await wrapper.get('[data-testid="signup-password"]').setValue('Passw0rd!')
    await wrapper.get('[data-testid="signup-repeat"]').setValue('Passw0rd?')
    await wrapper.get('[data-testid="signup-form"]').trigger('submit')
    expect(wrapper.get('[data-testid="error-banner"]').text()).toContain('do not match')
    expect(auth.signUp).not.toHaveBeenCalled()
    wrapper.unmount()
  })

  it('signing out empties the cart shown', async () => {
    vi.mocked(api.fetchCart).mockResolvedValueOnce([line(tee, 2)])
    const { wrapper, router } = await mountApp('/', shopper)
    await useCartStore().load()
    await flushPromises()
    expect(wrapper.get('[data-testid="cart-count"]').text()).toBe('2')
    vi.mocked(auth.signOut).mockResolvedValue()
    vi.mocked(api.fetchCart).mockResolvedValue([])
    await wrapper.get('[data-testid="signout-button"]').trigger('click')
    await flushPromises()
    expect(wrapper.get('[data-testid="cart-count"]').text()).toBe('0')
    expect(wrapper.find('[data-testid="signin-link"]').exists()).toBe(true)
    expect(router.currentRoute.value.name).toBe('shop')
    wrapper.unmount()
  })

  it('only follows same-site redirects', () => {
    expect(safeRedirect('/checkout')).toBe('/checkout')
    expect(safeRedirect('//evil.example')).toBe('/')
    expect(safeRedirect('https://evil.example')).toBe('/')
    expect(safeRedirect('/\\evil.example')).toBe('/')
    expect(safeRedirect(undefined)).toBe('/')
  })
})

describe('shop and checkout pages', () => {
  it('shows the product grid with the cart quantities, and the cart count', async () => {
    vi.mocked(api.fetchCart).mockResolvedValue([line(tee, 2)])
    await useCartStore().load()
    const { wrapper } = await mountApp('/')
    expect(wrapper.get('[data-testid="cart-button"]').attributes('data-cart-loaded')).toBe('true')
    const cards = wrapper.findAll('[data-testid="product-card"]')
    expect(cards).toHaveLength(3)
    const teeCard = wrapper.get('[data-testid="product-card"][data-product-id="tee-2"]')
    expect(teeCard.get('[data-testid="qty-input"]').element.value).toBe('2')
    expect(wrapper.get('[data-testid="cart-count"]').text()).toBe('2')
    expect(wrapper.get('[data-testid="cart-button"]').attributes('aria-label')).toBe('Open cart, 2 items')
    await wrapper.get('[data-testid="cart-button"]').trigger('click')
    expect(wrapper.get('[data-testid="cart-drawer"]').text()).toContain('Serverless T-Shirt')
    wrapper.unmount()
  })

  it('shows a loading state, then an error with a retry when the products fail', async () => {
    const d = deferred()
    vi.mocked(api.fetchProducts).mockReturnValue(d.promise)
    const { wrapper } = await mountApp('/')
    expect(wrapper.find('[data-testid="products-loading"]').exists()).toBe(true)
    d.reject(apiError('Product service unavailable', 503))
    await flushPromises()
    expect(wrapper.get('[data-testid="error-banner"]').text()).toContain('Product service unavailable')
    vi.mocked(api.fetchProducts).mockResolvedValue([mug])
    await wrapper.get('[data-testid="products-retry"]').trigger('click')
    await flushPromises()
    expect(wrapper.findAll('[data-testid="product-card"]')).toHaveLength(1)
    wrapper.unmount()
  })

  it('checks out with a valid card and shows the confirmation', async () => {
    vi.mocked(api.fetchCart).mockResolvedValue([line(mug, 2)])
    const { wrapper, router } = await mountApp('/checkout', shopper)
    expect(wrapper.get('[data-testid="summary-total"]').text()).toBe('$25.00')
    vi.mocked(api.checkoutCart).mockResolvedValue([line(mug, 2)])
    await wrapper.get('[data-testid="card-number"]').setValue('4242424242424242')
    await wrapper.get('[data-testid="card-name"]').setValue('Ada Lovelace')
    await wrapper.get('[data-testid="card-expiry"]').setValue(nextYearExpiry())
    await wrapper.get('[data-testid="card-cvc"]').setValue('123')
    await wrapper.get('[data-testid="payment-form"]').trigger('submit')
    await flushPromises()
    expect(api.checkoutCart).toHaveBeenCalledTimes(1)
    await vi.waitFor(() => expect(router.currentRoute.value.name).toBe('order-complete'))
    await flushPromises()
    expect(wrapper.get('[data-testid="order-confirmation"]').text()).toContain('your order is confirmed')
    expect(wrapper.get('[data-testid="order-total"]').text()).toBe('$25.00')
    expect(wrapper.get('[data-testid="cart-count"]').text()).toBe('0')
    wrapper.unmount()
  })

  it('keeps the shopper on checkout and shows why when checkout fails', async () => {
    vi.mocked(api.fetchCart).mockResolvedValue([line(mug, 1)])
    const { wrapper, router } = await mountApp('/checkout', shopper)
    vi.mocked(api.checkoutCart).mockRejectedValue(apiError('Cart service unavailable', 503))
    await wrapper.get('[data-testid="card-number"]').setValue('4242424242424242')
    await wrapper.get('[data-testid="card-name"]').setValue('Ada Lovelace')
    await wrapper.get('[data-testid="card-expiry"]').setValue(nextYearExpiry())
    await wrapper.get('[data-testid="card-cvc"]').setValue('123')
    await wrapper.get('[data-testid="payment-form"]').trigger('submit')
    await flushPromises()
    expect(router.currentRoute.value.name).toBe('checkout')
    expect(wrapper.get('[data-testid="error-banner"]').text()).toContain('Cart service unavailable')
    expect(wrapper.get('[data-testid="summary-total"]').text()).toBe('$12.50')
    wrapper.unmount()
  })
})
