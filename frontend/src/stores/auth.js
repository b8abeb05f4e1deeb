import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import * as auth from '../auth.js'
import { useCartStore } from './cart.js'

const SUPPORTED_STEPS = {
  CONFIRM_SIGN_UP: 'CONFIRM_SIGN_UP',
  DONE: 'DONE',
}

export const useAuthStore = defineStore('auth', () => {
  const user = ref(null) // {sub, email, groups}
  const initialized = ref(false)
  /** What is in progress: '', 'init', 'signin', 'signout', 'signup', 'confirm', 'resend'. */
  const pending = ref('')
  const error = ref('')
  /** A success notice for the auth forms (e.g. "code sent"). */
  const notice = ref('')

  const isSignedIn = computed(() => user.value !== null)
  const isAdmin = computed(() => Boolean(user.value?.groups?.includes(auth.ADMIN_GROUP)))
  const email = computed(() => user.value?.email || '')

  async function run(kind, fn) {
    pending.value = kind
    error.value = ''
    notice.value = ''
    try {
      return await fn()
    } catch (e) {
      error.value = e?.message || 'Something went wrong. Please try again.'
      return 'ERROR'
    } finally {
      pending.value = ''
    }
  }

  /** Restores a session kept by Amplify (page reload). */
  async function init() {
    pending.value = 'init'
    try {
      user.value = await auth.currentUser()
    } catch {
      user.value = null
    } finally {
      initialized.value = true
      pending.value = ''
    }
    return user.value
  }

  /**
   * Signs in, then merges the anonymous cart into the user's and shows the merged cart.
   * Resolves to 'DONE', 'CONFIRM_SIGN_UP' (the account is not confirmed yet) or 'ERROR'.
   */
  function signIn(emailAddress, password) {
    return run('signin', async () => {
      let step
      try {
        step = await auth.signIn(emailAddress.trim(), password)
      } catch (e) {
        // Amplify still holds a session (e.g. from another tab): use it.
        if (e?.name !== 'UserAlreadyAuthenticatedException') throw e
        step = 'DONE'
      }
      if (step === SUPPORTED_STEPS.CONFIRM_SIGN_UP) return step
      if (step !== SUPPORTED_STEPS.DONE) {
        throw new Error(`This account needs a sign-in step the shop does not support (${step}).`)
      }
      const signedIn = await auth.currentUser()
      if (!signedIn) throw new Error('Signed in, but no session was found. Please try again.')
      const cart = useCartStore()
      user.value = signedIn
      cart.closeDrawer()
      await cart.migrate()
      return 'DONE'
    })
  }

  /** Signs out; the cart shown afterwards is the new, empty anonymous cart. */
  async function signOut() {
    const cart = useCartStore()
    pending.value = 'signout'
    error.value = ''
    try {
      await auth.signOut()
    } catch (e) {
      error.value = e?.message || 'Sign-out did not complete.'
    } finally {
      user.value = null
      cart.reset()
      cart.closeDrawer()
      pending.value = ''
    }
    await cart.load()
  }

  /** Registers; resolves to 'CONFIRM_SIGN_UP', 'DONE' or 'ERROR'. */
  function signUp(emailAddress, password) {
    return run('signup', async () => {
      const step = await auth.signUp(emailAddress.trim(), password)
      return step === 'DONE' ? 'DONE' : 'CONFIRM_SIGN_UP'
    })
  }

  /** Confirms an account with the emailed code; resolves to 'DONE' or 'ERROR'. */
  function confirmSignUp(emailAddress, code) {
    return run('confirm', async () => {
      await auth.confirmSignUp(emailAddress.trim(), code.trim())
      return 'DONE'
    })
  }

  function resendCode(emailAddress) {
    return run('resend', async () => {
      await auth.resendSignUpCode(emailAddress.trim())
      notice.value = `A new code was sent to ${emailAddress.trim()}.`
      return 'DONE'
    })
  }

  function clearError() {
    error.value = ''
  }

  return {
    user,
    initialized,
    pending,
    error,
    notice,
    isSignedIn,
    isAdmin,
    email,
    init,
    signIn,
    signOut,
    signUp,
    confirmSignUp,
    resendCode,
    clearError,
  }
})
