import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import * as api from '../src/api.js'
import * as auth from '../src/auth.js'
import { useAuthStore } from '../src/stores/auth.js'
import { useCartStore } from '../src/stores/cart.js'
import { deferred, line, mug, tee } from './helpers.js'

vi.mock('../src/api.js')
vi.mock('../src/auth.js', async (importOriginal) => {
  const real = await importOriginal()
  return {
    ADMIN_GROUP: real.ADMIN_GROUP,
    currentUser: vi.fn(),
    signIn: vi.fn(),
    signOut: vi.fn(),
    signUp: vi.fn(),
    confirmSignUp: vi.fn(),
    resendSignUpCode: vi.fn(),
  }
})

const shopper = { sub: 's-1', email: 'shopper@example.com', groups: [] }
const admin = { sub: 'a-1', email: 'admin@example.com', groups: ['admin'] }

describe('auth store', () => {
  let store
  let cart

  beforeEach(() => {
    setActivePinia(createPinia())
    store = useAuthStore()
    cart = useCartStore()
  })

  it('restores a kept session on init', async () => {
    vi.mocked(auth.currentUser).mockResolvedValue(shopper)
    await store.init()
    expect(store.initialized).toBe(true)
    expect(store.isSignedIn).toBe(true)
    expect(store.email).toBe('shopper@example.com')
  })

  it('is signed out when there is no session', async () => {
    vi.mocked(auth.currentUser).mockResolvedValue(null)
    await store.init()
    expect(store.isSignedIn).toBe(false)
    expect(store.isAdmin).toBe(false)
  })

  it('detects admins from the cognito:groups claim', async () => {
    vi.mocked(auth.currentUser).mockResolvedValue(admin)
    await store.init()
    expect(store.isAdmin).toBe(true)
    store.user = shopper
    expect(store.isAdmin).toBe(false)
    store.user = { ...shopper, groups: ['administrators'] }
    expect(store.isAdmin).toBe(false)
  })

  it('signs in, then migrates the anonymous cart and shows the merged cart', async () => {
    vi.mocked(api.fetchCart).mockResolvedValue([line(mug, 1)])
    await cart.load()
    vi.mocked(auth.signIn).mockResolvedValue('DONE')
    vi.mocked(auth.currentUser).mockResolvedValue(shopper)
    const merge = deferred()
    vi.mocked(api.migrateCart).mockReturnValue(merge.promise)

    const done = store.signIn(' shopper@example.com ', 'Passw0rd!')
    expect(store.pending).toBe('signin')
    await vi.waitFor(() => expect(api.migrateCart).toHaveBeenCalledTimes(1))
    expect(auth.signIn).toHaveBeenCalledWith('shopper@example.com', 'Passw0rd!')
    expect(store.isSignedIn).toBe(true)
    expect(cart.migrating).toBe(true)
    merge.resolve([line(mug, 3), line(tee, 2)]) // 1 anonymous + 2 already in the user's cart, plus a tee
    expect(await done).toBe('DONE')
    expect(cart.items.map((i) => [i.productId, i.quantity])).toEqual([
      ['mug-1', 3],
      ['tee-2', 2],
    ])
    expect(store.pending).toBe('')
  })

  it('shows why sign-in failed and does not migrate', async () => {
    vi.mocked(auth.signIn).mockRejectedValue(new Error('Incorrect username or password.'))
    expect(await store.signIn('shopper@example.com', 'wrong')).toBe('ERROR')
    expect(store.error).toBe('Incorrect username or password.')
    expect(store.isSignedIn).toBe(false)
    expect(api.migrateCart).not.toHaveBeenCalled()
  })

  it('passes on the confirm-sign-up step for unconfirmed accounts', async () => {
    vi.mocked(auth.signIn).mockResolvedValue('CONFIRM_SIGN_UP')
    expect(await store.signIn('new@example.com', 'Passw0rd!')).toBe('CONFIRM_SIGN_UP')
    expect(store.isSignedIn).toBe(false)
    expect(api.migrateCart).not.toHaveBeenCalled()
  })

  it('refuses sign-in steps the shop does not support, with a message', async () => {
    vi.mocked(auth.signIn).mockResolvedValue('CONTINUE_SIGN_IN_WITH_TOTP_SETUP')
    expect(await store.signIn('x@example.com', 'Passw0rd!')).toBe('ERROR')
    expect(store.error).toMatch(/CONTINUE_SIGN_IN_WITH_TOTP_SETUP/)
  })

  it('signs out: the cart is emptied and the new anonymous cart is read', async () => {
    vi.mocked(auth.currentUser).mockResolvedValue(shopper)
    await store.init()
    vi.mocked(api.fetchCart).mockResolvedValueOnce([line(mug, 2)])
    await cart.load()
    expect(cart.count).toBe(2)
    vi.mocked(auth.signOut).mockResolvedValue()
    vi.mocked(api.fetchCart).mockResolvedValueOnce([])
    await store.signOut()
    expect(auth.signOut).toHaveBeenCalled()
    expect(store.isSignedIn).toBe(false)
    expect(cart.count).toBe(0)
    expect(api.fetchCart).toHaveBeenCalledTimes(2)
  })

  it('empties the cart at once on sign-out, before the anonymous cart is read, even if that read fails', async () => {
    store.user = shopper
    vi.mocked(api.fetchCart).mockResolvedValueOnce([line(mug, 2)])
    await cart.load()
    vi.mocked(auth.signOut).mockResolvedValue()
    const read = deferred()
    vi.mocked(api.fetchCart).mockReturnValueOnce(read.promise)
    const done = store.signOut()
    await vi.waitFor(() => expect(api.fetchCart).toHaveBeenCalledTimes(2))
    expect(cart.count).toBe(0)
    expect(cart.items).toEqual([])
    read.reject(new Error('Could not reach the server.'))
    await done
    expect(cart.count).toBe(0)
    expect(cart.error).toBe('Could not reach the server.')
  })

  it('signs out locally even when Amplify reports an error, and says so', async () => {
    store.user = shopper
    vi.mocked(auth.signOut).mockRejectedValue(new Error('Network error'))
    vi.mocked(api.fetchCart).mockResolvedValue([])
    await store.signOut()
    expect(store.isSignedIn).toBe(false)
    expect(store.error).toBe('Network error')
  })

  it('signs up, confirms and resends codes', async () => {
    vi.mocked(auth.signUp).mockResolvedValue('CONFIRM_SIGN_UP')
    expect(await store.signUp('new@example.com ', 'Passw0rd!')).toBe('CONFIRM_SIGN_UP')
    expect(auth.signUp).toHaveBeenCalledWith('new@example.com', 'Passw0rd!')

    vi.mocked(auth.confirmSignUp).mockRejectedValue(new Error('Invalid verification code provided'))
    expect(await store.confirmSignUp('new@example.com', '000000')).toBe('ERROR')
    expect(store.error).toBe('Invalid verification code provided')

    vi.mocked(auth.confirmSignUp).mockResolvedValue()
    expect(await store.confirmSignUp('new@example.com', ' 123456 ')).toBe('DONE')
    expect(auth.confirmSignUp).toHaveBeenLastCalledWith('new@example.com', '123456')
    expect(store.error).toBe('')

    vi.mocked(auth.resendSignUpCode).mockResolvedValue()
    await store.resendCode('new@example.com')
    expect(store.notice).toMatch(/new code was sent to new@example.com/)
  })
})
